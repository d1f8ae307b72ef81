// Vectors as codes of four bits per dimension: x ≈ code × scale / 7 with
// scale = max |x| and code in [-7, 7], two dimensions to a byte (dimension
// 2i in the low half, 2i + 1 in the high half, each stored as code + 8).
// An eighth of the bytes of float32: the IVF lists' codes (migration 0030),
// which a fresh search reads from the database by the megabyte and only uses
// to choose the vectors it re-scores exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace twinflow {

// The bytes of the code of an n-dimensional vector.
inline size_t int4_code_bytes(size_t n) {
  return (n + 1) / 2;
}

// Writes the code of the `n` floats at `x` to `code` (int4_code_bytes(n)
// bytes) and returns its scale (0 for a zero vector, whose code is all 0).
float encode_int4(const float* x, size_t n, uint8_t* code);

// Scores codes against one query: Σ query[j] × code[j], by a table of every
// byte's value at every position (built once per query, 256 floats per byte
// of code), so a code costs one lookup and one addition per two dimensions.
class Int4Scorer {
 public:
  Int4Scorer(const float* query, size_t n);
  // Multiply by scale / 7 for the approximate dot product.
  float dot(const uint8_t* code) const;

 private:
  size_t bytes_;
  std::vector<float> table_;  // bytes_ × 256
};

}  // namespace twinflow
