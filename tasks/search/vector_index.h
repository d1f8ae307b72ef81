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
// Reloads share storage (vector_loading.h): an index made from another with
// VectorIndex(base, keep) searches the vectors of `base` that `keep` marks,
// without copying them, plus those added to it afterwards. The vectors live in
// immutable segments that both indexes hold (shared_ptr); a segment is freed
// with the last index using it. So a server's reload after a crawl allocates
// only the new vectors, and the old and the new snapshot do not hold the
// unchanged ones twice. Vectors left out stay resident until their segment
// goes: the loader makes a fresh index when they are too many.
//
// Scores are dot products of unit vectors, i.e. cosines. add() normalises any
// vector that is not already of unit length; a zero vector (a text with no
// known term) is kept as is and scores 0 against every query. Equal scores
// are ordered by ascending id, so results are deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
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
  // The vectors of `base` at the positions where keep[position] is true
  // (keep.size() == base.size()), sharing base's storage: nothing copied.
  // Vectors added afterwards go to a segment of this index's own.
  VectorIndex(const VectorIndex& base, const std::vector<bool>& keep);

  // Reserves room for `count` more vectors: without it a million 256-d
  // vectors (1 GB) would be copied on each growth and briefly held twice.
  void reserve(size_t count);
  // Copies dimension() floats from `vector`. Ids are not checked for
  // uniqueness; a repeated id is returned as often as it was added.
  // `version`: the caller's tag of where the vector came from (the feature
  // store's row version), kept for a later reload to compare.
  void add(int64_t id, const float* vector, uint32_t version = 0);

  // The min(k, size()) vectors closest to `query` (dimension() floats; need
  // not be unit length), best first. threads: 0 = one per core; small indexes
  // use fewer threads than asked, as starting one costs more than it saves.
  std::vector<Hit> top_k(const float* query, size_t k, int threads = 0) const;
  // The best `k` of the max(k, candidates) vectors whose codes score highest
  // against the query's code, by exact score, best first; as top_k().
  std::vector<Hit> top_k_coded(const float* query, size_t k, size_t candidates,
                               int threads = 0) const;

  // The vectors searched.
  size_t size() const { return size_; }
  int dimension() const { return dimension_; }
  // How many segments hold them (a fresh load: one; each reload adds one).
  size_t segments() const { return parts_.size(); }
  // The vectors this index keeps resident: size() plus those of its
  // segments it does not search.
  size_t resident() const;
  // The id, version and vector (dimension() floats, unit length or zero) at
  // `position`, 0 <= position < size(): base's kept vectors first, in base's
  // order, then those added, in the order they were added. O(log segments).
  int64_t id_at(size_t position) const;
  uint32_t version_at(size_t position) const;
  const float* vector_at(size_t position) const;

 private:
  struct Segment {
    std::vector<float> vectors;  // row-major, dimension_ floats per vector
    std::vector<int8_t> codes;   // row-major, dimension_ codes per vector
    std::vector<float> scales;   // per vector: code × scale / 127 ≈ x
    std::vector<int64_t> ids;
    std::vector<uint32_t> versions;
  };
  // A segment's vectors that this index searches.
  struct Part {
    std::shared_ptr<Segment> segment;  // never changed once another index holds it
    std::vector<uint32_t> kept;        // the positions searched, ascending; empty: all
    size_t size() const { return kept.empty() ? segment->ids.size() : kept.size(); }
  };
  // (part, offset in its segment) of a position.
  std::pair<const Segment*, size_t> locate(size_t position) const;
  // Calls visit(segment, offset, position) for every position in [begin, end).
  template <typename Visit>
  void for_range(size_t begin, size_t end, const Visit& visit) const;
  // A segment add() may write to: the last, unless it is shared or filtered.
  Segment& writable();

  std::vector<Hit> scan(const float* query, size_t begin, size_t end, size_t k) const;
  // The best k by code score, as hits whose id is the vector's position.
  std::vector<Hit> scan_codes(const int8_t* query, size_t begin, size_t end, size_t k) const;
  // Runs `part(begin, end)` over about equal parts of the index, in parallel
  // when it is large enough, and merges their hits into the best k.
  template <typename Scan>
  std::vector<Hit> in_parts(size_t k, int threads, const Scan& scan) const;

  int dimension_;
  size_t size_ = 0;
  std::vector<Part> parts_;
  std::vector<size_t> starts_;  // per part: the position of its first vector
};

}  // namespace twinflow
