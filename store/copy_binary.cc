// See copy_binary.h. The format: PostgreSQL's documentation, "COPY", "Binary
// Format"; arrays as array_send writes them.
#include "store/copy_binary.h"

#include <libpq-fe.h>

#include <cstring>

#include "store/reconnect.h"
#include "util/error.h"
#include "util/strings.h"

namespace twinflow {

namespace {

constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // and a zero byte: 11 in all
constexpr size_t kSignatureSize = 11;
constexpr uint32_t kFloat4Oid = 700;

uint32_t be32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}

}  // namespace

BinaryCopyReader::BinaryCopyReader(const std::string& conninfo, std::string what)
    : what_(std::move(what)) {
  connection_ = PQconnectdb(conninfo.c_str());
  if (PQstatus(connection_) != CONNECTION_OK) {
    // The destructor does not run for a constructor that throws.
    const std::string error = PQerrorMessage(connection_);
    PQfinish(connection_);
    connection_ = nullptr;
    fail(error);
  }
}

BinaryCopyReader::~BinaryCopyReader() {
  release();
  PQfinish(connection_);
}

void BinaryCopyReader::release() {
  if (row_) PQfreemem(row_);
  row_ = nullptr;
}

void BinaryCopyReader::fail(const std::string& why) {
  const std::string message = one_line(why);  // libpq's run over lines
  // A connection that failed or broke is the database being away, not a
  // refusal (reconnect.h).
  if (!connection_ || PQstatus(connection_) == CONNECTION_BAD)
    throw DatabaseUnavailable(what_ + ": " + message);
  throw Error(what_ + ": " + message);
}

std::string BinaryCopyReader::literal(std::string_view value) {
  char* quoted = PQescapeLiteral(connection_, value.data(), value.size());
  if (!quoted) fail(PQerrorMessage(connection_));
  std::string out(quoted);
  PQfreemem(quoted);
  return out;
}

void BinaryCopyReader::start(const std::string& select) {
  PGresult* result =
      PQexec(connection_, ("COPY (" + select + ") TO STDOUT (FORMAT binary)").c_str());
  const bool started = PQresultStatus(result) == PGRES_COPY_OUT;
  const std::string error = started ? "" : PQresultErrorMessage(result);
  PQclear(result);
  if (!started) fail(error);
}

bool BinaryCopyReader::next(std::vector<std::string_view>& fields) {
  release();
  fields.clear();
  if (done_) return false;
  const int size = PQgetCopyData(connection_, &row_, 0);
  if (size == -1) {  // the end: the COPY's own result says whether it succeeded
    PGresult* result = PQgetResult(connection_);
    const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    const std::string error = ok ? "" : PQresultErrorMessage(result);
    PQclear(result);
    while ((result = PQgetResult(connection_))) PQclear(result);
    if (!ok) fail(error);
    done_ = true;
    return false;
  }
  if (size < 0) fail(PQerrorMessage(connection_));
  const char* p = row_;
  const char* end = row_ + size;
  if (!header_read_) {  // the header comes with the first row
    if (size < static_cast<int>(kSignatureSize + 8) || std::memcmp(p, kSignature, kSignatureSize))
      fail("not a binary COPY stream");
    const uint32_t extension = be32(p + kSignatureSize + 4);
    p += kSignatureSize + 8;
    if (extension > static_cast<size_t>(end - p)) fail("truncated COPY header");
    p += extension;
    header_read_ = true;
  }
  if (end - p < 2) fail("truncated COPY row");
  const int16_t columns =
      static_cast<int16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
  p += 2;
  if (columns == -1) return next(fields);  // the trailer; the end follows
  for (int16_t c = 0; c < columns; ++c) {
    if (end - p < 4) fail("truncated COPY row");
    const auto length = static_cast<int32_t>(be32(p));
    p += 4;
    if (length == -1) {
      fields.emplace_back();
      continue;
    }
    if (length < 0 || length > end - p) fail("truncated COPY field");
    fields.emplace_back(p, static_cast<size_t>(length));
    p += length;
  }
  return true;
}

int64_t copy_int8(std::string_view field) {
  if (field.size() != 8)
    throw Error("COPY field of " + std::to_string(field.size()) + " bytes, not an int8");
  uint64_t v;
  std::memcpy(&v, field.data(), 8);
  return static_cast<int64_t>(__builtin_bswap64(v));
}

uint32_t copy_uint4(std::string_view field) {
  if (field.size() != 4)
    throw Error("COPY field of " + std::to_string(field.size()) + " bytes, not 4");
  return be32(field.data());
}

void copy_float4_array(std::string_view field, int dimension, float* out) {
  // ndim, has-nulls flag, element type; per dimension its length and lower
  // bound; per element its length (4) and its bytes.
  const auto n = static_cast<size_t>(dimension);
  if (field.size() != 20 + 8 * n || be32(field.data()) != 1 || be32(field.data() + 4) != 0 ||
      be32(field.data() + 8) != kFloat4Oid || be32(field.data() + 12) != n)
    throw Error("COPY field is not a real[] of " + std::to_string(dimension) + " values");
  const char* p = field.data() + 20;
  for (size_t i = 0; i < n; ++i, p += 8) {
    if (be32(p) != 4) throw Error("COPY field is not a real[] without NULLs");
    const uint32_t bits = be32(p + 4);
    std::memcpy(out + i, &bits, 4);
  }
}

}  // namespace twinflow
