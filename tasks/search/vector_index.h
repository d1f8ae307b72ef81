// VectorIndex: exact cosine top-k over every embedding of one model, in
// memory.
//
// Retrieval loads the vectors of the current embedding model from the feature
// store and scores all of them against the query: exact, so results never
// depend on index build parameters, and fast enough at twinflow's scale (one
// author: thousands to a few million chunks). The vectors sit in one
// contiguous row-major float array, scanned in parallel by a few threads, each
// keeping its best k in a small heap; the heaps are merged at the end. A scan
// is bound by memory bandwidth (4 bytes × dimension per vector), not
// arithmetic.
//
// top_k_coded() is the server's faster way: each vector also has a code of
// one signed byte per dimension (x ≈ code × scale / 127, scale = max |x|, as
// the IVF lists of migration 0021), a quarter of the bytes to read. The codes
// pick `candidates` vectors by approximate score, and those are ranked by
// their exact scores: the same hits as top_k() unless a true top-k vector
// falls outside the candidates (bench/rag_bench prints recall@10).
//
// Scores are dot products of unit vectors, i.e. cosines. add() normalises any
// vector that is not already of unit length; a zero vector (a text with no
// known term) is kept as is and scores 0 against every query. Equal scores
// are ordered by ascending id, so results are deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace twinflow {

// Vectors re-scored exactly for the top k of a search by codes (top_k_coded,
// and the IVF search's first round): a code's score is within about 1% of the
// exact one, so the approximate order cannot matter beyond these.
inline size_t coded_candidates(size_t k) {
  return k * 8 > 100 ? k * 8 : 100;
}

class VectorIndex {
 public:
  struct Hit {
    int64_t id;
    float score;
  };

  // Throws Error unless dimension >= 1.
  explicit VectorIndex(int dimension);

  // Reserves room for `count` vectors in total: without it a million 256-d
  // vectors (1 GB) would be copied on each growth and briefly held twice.
  void reserve(size_t count);
  // Copies dimension() floats from `vector`. Ids are not checked for
  // uniqueness; a repeated id is returned as often as it was added.
  void add(int64_t id, const float* vector);

  // The min(k, size()) vectors closest to `query` (dimension() floats; need
  // not be unit length), best first. threads: 0 = one per core; small indexes
  // use fewer threads than asked, as starting one costs more than it saves.
  std::vector<Hit> top_k(const float* query, size_t k, int threads = 0) const;
  // The best `k` of the max(k, candidates) vectors whose codes score highest
  // against the query's code, by exact score, best first; as top_k().
  std::vector<Hit> top_k_coded(const float* query, size_t k, size_t candidates,
                               int threads = 0) const;

  size_t size() const { return ids_.size(); }
  int dimension() const { return dimension_; }

 private:
  std::vector<Hit> scan(const float* query, size_t begin, size_t end, size_t k) const;
  // The best k by code score, as hits whose id is the vector's position.
  std::vector<Hit> scan_codes(const int8_t* query, size_t begin, size_t end, size_t k) const;
  // Runs `part(begin, end)` over about equal parts of the index, in parallel
  // when it is large enough, and merges their hits into the best k.
  template <typename Part>
  std::vector<Hit> in_parts(size_t k, int threads, const Part& part) const;

  int dimension_;
  std::vector<float> vectors_;  // size() × dimension_, row-major
  std::vector<int8_t> codes_;   // size() × dimension_, row-major
  std::vector<float> scales_;   // per vector: code × scale / 127 ≈ x
  std::vector<int64_t> ids_;
};

}  // namespace twinflow
