// Int4 codes: the encoding and the table scorer; see int4_codes.h.
#include "util/int4_codes.h"

#include <algorithm>
#include <cmath>

namespace twinflow {

float encode_int4(const float* x, size_t n, uint8_t* code) {
  float scale = 0;
  for (size_t j = 0; j < n; ++j) scale = std::max(scale, std::fabs(x[j]));
  std::fill(code, code + int4_code_bytes(n), uint8_t{0x88});
  for (size_t j = 0; j < n; ++j) {
    const float q = scale > 0 ? std::clamp(std::round(x[j] / scale * 7.0f), -7.0f, 7.0f) : 0.0f;
    const auto nibble = static_cast<uint8_t>(static_cast<int>(q) + 8);
    uint8_t& byte = code[j / 2];
    byte = j % 2 == 0 ? static_cast<uint8_t>((byte & 0xF0) | nibble)
                      : static_cast<uint8_t>((byte & 0x0F) | nibble << 4);
  }
  return scale;
}

Int4Scorer::Int4Scorer(const float* query, size_t n)
    : bytes_(int4_code_bytes(n)), table_(bytes_ * 256) {
  for (size_t i = 0; i < bytes_; ++i) {
    const float low = query[2 * i];
    const float high = 2 * i + 1 < n ? query[2 * i + 1] : 0.0f;
    for (int b = 0; b < 256; ++b)
      table_[i * 256 + static_cast<size_t>(b)] =
          low * static_cast<float>((b & 15) - 8) + high * static_cast<float>((b >> 4) - 8);
  }
}

float Int4Scorer::dot(const uint8_t* code) const {
  // Four sums, so the additions need not wait on one another.
  float sum[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= bytes_; i += 4)
    for (size_t k = 0; k < 4; ++k) sum[k] += table_[(i + k) * 256 + code[i + k]];
  for (; i < bytes_; ++i) sum[0] += table_[i * 256 + code[i]];
  return (sum[0] + sum[1]) + (sum[2] + sum[3]);
}

}  // namespace twinflow
