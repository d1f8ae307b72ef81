// util/int4_codes.h: codes hold every dimension within half a step of its
// value, the table scorer gives the dot product of the query with the code
// exactly as the codes say (odd dimensions too), and a zero vector codes to
// zero.
#include "util/int4_codes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace twinflow {
namespace {

// The value of dimension j of a code.
int code_at(const std::vector<uint8_t>& code, size_t j) {
  const uint8_t byte = code[j / 2];
  return (j % 2 == 0 ? byte & 15 : byte >> 4) - 8;
}

TEST(Int4Codes, EveryDimensionIsWithinHalfAStepAndTheScorerAddsItUp) {
  std::mt19937 random(11);
  std::normal_distribution<float> normal;
  for (size_t n : {1u, 2u, 7u, 16u, 255u, 256u}) {
    std::vector<float> x(n), q(n);
    for (float& v : x) v = normal(random);
    for (float& v : q) v = normal(random);
    std::vector<uint8_t> code(int4_code_bytes(n));
    const float scale = encode_int4(x.data(), n, code.data());
    float max = 0;
    for (float v : x) max = std::max(max, std::fabs(v));
    EXPECT_EQ(scale, max);
    double expected = 0;
    for (size_t j = 0; j < n; ++j) {
      const int c = code_at(code, j);
      ASSERT_GE(c, -7);
      ASSERT_LE(c, 7);
      EXPECT_LE(std::fabs(static_cast<float>(c) * scale / 7.0f - x[j]), scale / 14.0f + 1e-6f);
      expected += static_cast<double>(q[j]) * c;
    }
    if (n % 2) {
      EXPECT_EQ(code.back() >> 4, 8) << "the unused half of the last byte codes 0";
    }
    EXPECT_NEAR(Int4Scorer(q.data(), n).dot(code.data()), expected, 1e-4 * n);
  }
}

TEST(Int4Codes, AZeroVectorCodesToZero) {
  const std::vector<float> x(9, 0.0f), q(9, 1.0f);
  std::vector<uint8_t> code(int4_code_bytes(9));
  EXPECT_EQ(encode_int4(x.data(), 9, code.data()), 0.0f);
  for (uint8_t byte : code) EXPECT_EQ(byte, 0x88);
  EXPECT_EQ(Int4Scorer(q.data(), 9).dot(code.data()), 0.0f);
}

}  // namespace
}  // namespace twinflow
