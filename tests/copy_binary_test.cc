// BinaryCopyReader (store/copy_binary.h) against a real PostgreSQL: int8,
// xid and real[] fields decode to the values the database holds (floats bit
// for bit, NULLs as null views), a literal() survives hostile text, and a
// failed COPY, a refused connection or a field of the wrong shape is a clear
// Error, never a crash.
#include "store/copy_binary.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/support/twinflow_fixture.h"
#include "util/error.h"

namespace twinflow {
namespace {

class CopyBinaryTest : public TwinflowTest {};

TEST_F(CopyBinaryTest, FieldsDecodeToTheDatabasesValues) {
  BinaryCopyReader copy(conninfo, "reading test rows");
  copy.start(
      "SELECT g::bigint * 1000000000000, (g + 4294967000::bigint)::text::xid, "
      "ARRAY[g::real / 3, '-0'::real, 1e-40, 3.4e38]::real[], NULL::int8 "
      "FROM generate_series(-2, 1000) g ORDER BY g");
  std::vector<std::string_view> fields;
  int64_t g = -2;
  while (copy.next(fields)) {
    ASSERT_EQ(fields.size(), 4u);
    EXPECT_EQ(copy_int8(fields[0]), g * 1000000000000);
    EXPECT_EQ(copy_uint4(fields[1]), static_cast<uint32_t>(g + 4294967000));
    float v[4];
    copy_float4_array(fields[2], 4, v);
    const float want[4] = {static_cast<float>(g) / 3, -0.0f, 1e-40f, 3.4e38f};
    EXPECT_EQ(std::memcmp(v, want, sizeof v), 0) << g;
    EXPECT_EQ(fields[3].data(), nullptr);
    ++g;
  }
  EXPECT_EQ(g, 1001);
  EXPECT_FALSE(copy.next(fields));  // stays at the end
}

TEST_F(CopyBinaryTest, LiteralsCarryHostileTextIntact) {
  const std::string hostile = "O'Brien \\ \"; DROP TABLE runs; --\n\xc3\xa9";
  BinaryCopyReader copy(conninfo, "reading a literal");
  copy.start("SELECT convert_to(" + copy.literal(hostile) + ", 'UTF8')");
  std::vector<std::string_view> fields;
  ASSERT_TRUE(copy.next(fields));
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(std::string(fields[0]), hostile);
  EXPECT_FALSE(copy.next(fields));
}

TEST_F(CopyBinaryTest, FailuresAreErrorsThatNameTheRead) {
  try {
    BinaryCopyReader copy(conninfo, "reading vectors of model m v1");
    copy.start("SELECT 1 / (g - 500) FROM generate_series(1, 1000) g");
    std::vector<std::string_view> fields;
    while (copy.next(fields)) {
    }
    ADD_FAILURE() << "a division by zero was not reported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("reading vectors of model m v1: ERROR:  division by zero"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(
      BinaryCopyReader("host=/nonexistent/socket dbname=x connect_timeout=2", "connecting"), Error);
  BinaryCopyReader copy(conninfo, "starting");
  EXPECT_THROW(copy.start("SELECT no_such_column FROM documents"), Error);
  EXPECT_THROW(copy_int8("abc"), Error);
  EXPECT_THROW(copy_uint4(""), Error);
  const std::string two_floats(20 + 16, '\0');  // a header of zeros: not a real[]
  float out[2];
  EXPECT_THROW(copy_float4_array(two_floats, 2, out), Error);
}

}  // namespace
}  // namespace twinflow
