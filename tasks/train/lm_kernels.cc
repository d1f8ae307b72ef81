// See lm_kernels.h.
#include "tasks/train/lm_kernels.h"

#include <cstring>

#include "util/simd.h"

namespace twinflow {
namespace {

// C.col(j) = Σ_t coefficient(t, j) · A.col(t) over t < terms, A m×terms,
// coefficient(t, j) = b[t·t_stride + j·j_stride]. Four columns of A at a time,
// so each pass over C.col(j) does four multiply-adds per load and store.
TWINFLOW_AVX2_CLONE void combine_columns(const float* a, const float* b, float* c, size_t m,
                                         size_t terms, size_t n, size_t t_stride, size_t j_stride) {
  for (size_t j = 0; j < n; ++j) {
    float* cj = c + j * m;
    std::memset(cj, 0, m * sizeof(float));
    size_t t = 0;
    for (; t + 4 <= terms; t += 4) {
      const float b0 = b[t * t_stride + j * j_stride];
      const float b1 = b[(t + 1) * t_stride + j * j_stride];
      const float b2 = b[(t + 2) * t_stride + j * j_stride];
      const float b3 = b[(t + 3) * t_stride + j * j_stride];
      const float* a0 = a + t * m;
      const float* a1 = a0 + m;
      const float* a2 = a1 + m;
      const float* a3 = a2 + m;
      size_t i = 0;
      for (; i + 8 <= m; i += 8) {
        Float8 x0, x1, x2, x3, y;
        std::memcpy(&x0, a0 + i, sizeof y);
        std::memcpy(&x1, a1 + i, sizeof y);
        std::memcpy(&x2, a2 + i, sizeof y);
        std::memcpy(&x3, a3 + i, sizeof y);
        std::memcpy(&y, cj + i, sizeof y);
        y = (((y + b0 * x0) + b1 * x1) + b2 * x2) + b3 * x3;
        std::memcpy(cj + i, &y, sizeof y);
      }
      for (; i < m; ++i) cj[i] = (((cj[i] + b0 * a0[i]) + b1 * a1[i]) + b2 * a2[i]) + b3 * a3[i];
    }
    for (; t < terms; ++t) {
      const float bt = b[t * t_stride + j * j_stride];
      const float* at = a + t * m;
      size_t i = 0;
      for (; i + 8 <= m; i += 8) {
        Float8 x, y;
        std::memcpy(&x, at + i, sizeof x);
        std::memcpy(&y, cj + i, sizeof y);
        y += bt * x;
        std::memcpy(cj + i, &y, sizeof y);
      }
      for (; i < m; ++i) cj[i] += bt * at[i];
    }
  }
}

// C(i, j) = A.col(i) · B.col(j), columns of length k. Two columns of A
// against two of B at a time, eight lanes each, summed lane by lane at the end.
TWINFLOW_AVX2_CLONE void dot_columns(const float* a, const float* b, float* c, size_t m, size_t k,
                                     size_t n) {
  const auto lane_sum = [](const Float8& v) {
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
  };
  const size_t vector_end = k - k % 8;
  const auto dot_pair = [&](const float* x, const float* y) {
    Float8 sum = {};
    for (size_t p = 0; p < vector_end; p += 8) {
      Float8 xv, yv;
      std::memcpy(&xv, x + p, sizeof xv);
      std::memcpy(&yv, y + p, sizeof yv);
      sum += xv * yv;
    }
    float total = lane_sum(sum);
    for (size_t p = vector_end; p < k; ++p) total += x[p] * y[p];
    return total;
  };
  size_t j = 0;
  for (; j + 2 <= n; j += 2) {
    const float* b0 = b + j * k;
    const float* b1 = b0 + k;
    size_t i = 0;
    for (; i + 2 <= m; i += 2) {
      const float* a0 = a + i * k;
      const float* a1 = a0 + k;
      Float8 s00 = {}, s01 = {}, s10 = {}, s11 = {};
      for (size_t p = 0; p < vector_end; p += 8) {
        Float8 x0, x1, y0, y1;
        std::memcpy(&x0, a0 + p, sizeof x0);
        std::memcpy(&x1, a1 + p, sizeof x1);
        std::memcpy(&y0, b0 + p, sizeof y0);
        std::memcpy(&y1, b1 + p, sizeof y1);
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
      }
      float t00 = lane_sum(s00), t01 = lane_sum(s01), t10 = lane_sum(s10), t11 = lane_sum(s11);
      for (size_t p = vector_end; p < k; ++p) {
        t00 += a0[p] * b0[p];
        t01 += a0[p] * b1[p];
        t10 += a1[p] * b0[p];
        t11 += a1[p] * b1[p];
      }
      c[i + j * m] = t00;
      c[i + (j + 1) * m] = t01;
      c[i + 1 + j * m] = t10;
      c[i + 1 + (j + 1) * m] = t11;
    }
    for (; i < m; ++i) {
      c[i + j * m] = dot_pair(a + i * k, b0);
      c[i + (j + 1) * m] = dot_pair(a + i * k, b1);
    }
  }
  for (; j < n; ++j) {
    for (size_t i = 0; i < m; ++i) c[i + j * m] = dot_pair(a + i * k, b + j * k);
  }
}

}  // namespace

void matmul_nn(const float* a, const float* b, float* c, size_t m, size_t k, size_t n) {
  combine_columns(a, b, c, m, k, n, 1, k);
}

void matmul_nt(const float* a, const float* b, float* c, size_t m, size_t k, size_t n) {
  // C.col(p) = Σ_j B(p, j) · A.col(j): terms j < n, output columns p < k.
  combine_columns(a, b, c, m, n, k, k, 1);
}

void matmul_tn(const float* a, const float* b, float* c, size_t m, size_t k, size_t n) {
  dot_columns(a, b, c, m, k, n);
}

}  // namespace twinflow
