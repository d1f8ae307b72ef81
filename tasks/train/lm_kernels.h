// The matrix products of the neural LM's forward and backward passes, as
// explicit AVX2 loops (util/simd.h): the system BLAS may be the slow reference
// one, and these few shapes (a vocabulary-sized output layer, batches of tens)
// are all the model needs. No FMA, fixed summation order: the same bits on
// every x86-64 machine and in the portable build, whatever the BLAS.
//
// All matrices are column-major with leading dimension = rows, as Armadillo
// stores them. The result is overwritten.
#pragma once

#include <cstddef>

namespace twinflow {

// C (m×n) = A (m×k) · B (k×n).
void matmul_nn(const float* a, const float* b, float* c, size_t m, size_t k, size_t n);

// C (m×k) = A (m×n) · Bᵀ, B k×n.
void matmul_nt(const float* a, const float* b, float* c, size_t m, size_t k, size_t n);

// C (m×n) = Aᵀ · B, A k×m, B k×n.
void matmul_tn(const float* a, const float* b, float* c, size_t m, size_t k, size_t n);

}  // namespace twinflow
