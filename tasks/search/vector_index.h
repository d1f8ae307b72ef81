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
// Scores are dot products of unit vectors, i.e. cosines. add() normalises any
// vector that is not already of unit length; a zero vector (a text with no
// known term) is kept as is and scores 0 against every query. Equal scores
// are ordered by ascending id, so results are deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace twinflow {

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

  size_t size() const { return ids_.size(); }
  int dimension() const { return dimension_; }

 private:
  std::vector<Hit> scan(const float* query, size_t begin, size_t end, size_t k) const;

  int dimension_;
  std::vector<float> vectors_;  // size() × dimension_, row-major
  std::vector<int64_t> ids_;
};

}  // namespace twinflow
