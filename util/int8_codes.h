// Vectors as codes of one signed byte per dimension: x ≈ code × scale / 127
// with scale = max |x| (the IVF lists of migration 0021, the server's vector
// scan: tasks/search/vector_index.h). A quarter of the bytes of float32, so a
// scan bound by memory bandwidth reads four times less.
#pragma once

#include <cstddef>
#include <cstdint>

namespace twinflow {

// Writes the code of the `n` floats at `x` to `code` and returns its scale
// (0 for a zero vector, whose code is all 0). Codes are in [-127, 127].
float encode_int8(const float* x, size_t n, int8_t* code);

// The floats a code stands for: code[j] × scale / 127.
void decode_int8(const int8_t* code, float scale, size_t n, float* x);

// Σ a[i] × b[i] over two codes of length n, exact (an AVX2 build where the
// machine has it, the same integer result either way).
int32_t int8_dot(const int8_t* a, const int8_t* b, size_t n);

}  // namespace twinflow
