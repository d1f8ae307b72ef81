// Int8 codes: the encoding, and a dot product with AVX2 where the machine
// has it; see int8_codes.h.
#include "util/int8_codes.h"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TWINFLOW_HAVE_AVX2_DOT 1
#endif

namespace twinflow {

float encode_int8(const float* x, size_t n, int8_t* code) {
  float scale = 0;
  for (size_t j = 0; j < n; ++j) scale = std::max(scale, std::fabs(x[j]));
  for (size_t j = 0; j < n; ++j) {
    const float q = scale > 0 ? std::round(x[j] / scale * 127.0f) : 0.0f;
    code[j] = static_cast<int8_t>(std::clamp(q, -127.0f, 127.0f));
  }
  return scale;
}

void decode_int8(const int8_t* code, float scale, size_t n, float* x) {
  for (size_t j = 0; j < n; ++j) x[j] = static_cast<float>(code[j]) * scale / 127.0f;
}

namespace {

int32_t int8_dot_portable(const int8_t* a, const int8_t* b, size_t n) {
  int32_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<int32_t>(a[i]) * b[i];
  return sum;
}

#ifdef TWINFLOW_HAVE_AVX2_DOT
// 32 bytes at a time: |a| × (b with a's sign) as unsigned × signed bytes,
// pairs summed into 16 bits (at most 2 × 127 × 127, no overflow: codes are
// never -128), then into 32 bits.
__attribute__((target("avx2"))) int32_t int8_dot_avx2(const int8_t* a, const int8_t* b, size_t n) {
  __m256i sum = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi16(1);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i));
    const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i));
    const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
    sum = _mm256_add_epi32(sum, _mm256_madd_epi16(pairs, ones));
  }
  alignas(32) int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sum);
  int32_t total = 0;
  for (int32_t lane : lanes) total += lane;
  return total + int8_dot_portable(a + i, b + i, n - i);
}

const bool kHasAvx2 = __builtin_cpu_supports("avx2");
#endif

}  // namespace

int32_t int8_dot(const int8_t* a, const int8_t* b, size_t n) {
#ifdef TWINFLOW_HAVE_AVX2_DOT
  if (kHasAvx2) return int8_dot_avx2(a, b, n);
#endif
  return int8_dot_portable(a, b, n);
}

}  // namespace twinflow
