// VectorIndex: a vectorised dot product, a bounded heap per thread, and a
// merge; see vector_index.h.
#include "tasks/search/vector_index.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>

#include "tasks/search/ivf.h"  // dot_product
#include "util/error.h"
#include "util/int8_codes.h"

namespace twinflow {

namespace {

// Below this many vectors per thread, a thread costs more than it saves.
constexpr size_t kMinVectorsPerThread = 32 * 1024;

// add() leaves vectors whose squared norm is this close to 1 untouched, so a
// caller's unit vectors are stored bit for bit.
constexpr double kUnitTolerance = 1e-4;

double squared_norm(const float* v, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(v[i]) * v[i];
  return sum;
}

// Result order: higher score first, then lower id.
bool ranks_before(const VectorIndex::Hit& a, const VectorIndex::Hit& b) {
  return a.score != b.score ? a.score > b.score : a.id < b.id;
}

// The best k hits seen so far; the worst of them on top of a heap, so that a
// candidate is usually rejected with one comparison.
class BestHits {
 public:
  explicit BestHits(size_t k) : k_(k) { heap_.reserve(k); }

  void offer(int64_t id, float score) {
    const VectorIndex::Hit hit{id, score};
    if (heap_.size() < k_) {
      heap_.push_back(hit);
      std::push_heap(heap_.begin(), heap_.end(), ranks_before);
    } else if (ranks_before(hit, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), ranks_before);
      heap_.back() = hit;
      std::push_heap(heap_.begin(), heap_.end(), ranks_before);
    }
  }

  std::vector<VectorIndex::Hit> take() { return std::move(heap_); }

 private:
  size_t k_;
  std::vector<VectorIndex::Hit> heap_;  // a max-heap under ranks_before: worst on top
};

}  // namespace

VectorIndex::VectorIndex(int dimension) : dimension_(dimension) {
  if (dimension < 1) {
    throw Error("vector index: dimension must be >= 1, got " + std::to_string(dimension));
  }
}

void VectorIndex::reserve(size_t count) {
  vectors_.reserve(count * dimension_);
  codes_.reserve(count * dimension_);
  scales_.reserve(count);
  ids_.reserve(count);
}

void VectorIndex::add(int64_t id, const float* vector) {
  const size_t offset = vectors_.size();
  vectors_.insert(vectors_.end(), vector, vector + dimension_);
  ids_.push_back(id);
  const double norm2 = squared_norm(vector, dimension_);
  if (norm2 != 0 && std::abs(norm2 - 1) > kUnitTolerance) {
    const auto inverse = static_cast<float>(1 / std::sqrt(norm2));
    for (int i = 0; i < dimension_; ++i) vectors_[offset + i] *= inverse;
  }
  codes_.resize(offset + dimension_);
  scales_.push_back(encode_int8(vectors_.data() + offset, dimension_, codes_.data() + offset));
}

std::vector<VectorIndex::Hit> VectorIndex::scan(const float* query, size_t begin, size_t end,
                                                size_t k) const {
  BestHits best(k);
  const float* row = vectors_.data() + begin * dimension_;
  for (size_t i = begin; i < end; ++i, row += dimension_) {
    best.offer(ids_[i], dot_product(query, row, dimension_));
  }
  return best.take();
}

std::vector<VectorIndex::Hit> VectorIndex::scan_codes(const int8_t* query, size_t begin, size_t end,
                                                      size_t k) const {
  BestHits best(k);
  const int8_t* row = codes_.data() + begin * dimension_;
  for (size_t i = begin; i < end; ++i, row += dimension_)
    best.offer(static_cast<int64_t>(i),
               scales_[i] * static_cast<float>(int8_dot(query, row, dimension_)));
  return best.take();
}

template <typename Part>
std::vector<VectorIndex::Hit> VectorIndex::in_parts(size_t k, int threads, const Part& part) const {
  const size_t wanted = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  const size_t parts = std::clamp<size_t>(size() / kMinVectorsPerThread, 1, wanted);
  std::vector<std::vector<Hit>> partial(parts);
  {
    std::vector<std::jthread> workers;
    for (size_t p = 1; p < parts; ++p) {
      workers.emplace_back(
          [&, p] { partial[p] = part(size() * p / parts, size() * (p + 1) / parts); });
    }
    partial[0] = part(0, size() / parts);
  }
  std::vector<Hit> merged;
  for (const std::vector<Hit>& hits : partial)
    merged.insert(merged.end(), hits.begin(), hits.end());
  k = std::min(k, merged.size());
  std::partial_sort(merged.begin(), merged.begin() + k, merged.end(), ranks_before);
  merged.resize(k);
  return merged;
}

namespace {
std::vector<float> unit(const float* query, int dimension) {
  std::vector<float> out(query, query + dimension);
  const double norm2 = squared_norm(query, dimension);
  if (norm2 > 0) {
    const auto inverse = static_cast<float>(1 / std::sqrt(norm2));
    for (float& x : out) x *= inverse;
  }
  return out;
}
}  // namespace

std::vector<VectorIndex::Hit> VectorIndex::top_k(const float* query, size_t k, int threads) const {
  k = std::min(k, size());
  if (k == 0) return {};
  const std::vector<float> q = unit(query, dimension_);
  return in_parts(k, threads,
                  [&](size_t begin, size_t end) { return scan(q.data(), begin, end, k); });
}

std::vector<VectorIndex::Hit> VectorIndex::top_k_coded(const float* query, size_t k,
                                                       size_t candidates, int threads) const {
  k = std::min(k, size());
  if (k == 0) return {};
  candidates = std::min(std::max(k, candidates), size());
  const std::vector<float> q = unit(query, dimension_);
  std::vector<int8_t> code(static_cast<size_t>(dimension_));
  encode_int8(q.data(), q.size(), code.data());
  BestHits best(k);
  for (const Hit& c : in_parts(candidates, threads, [&](size_t begin, size_t end) {
         return scan_codes(code.data(), begin, end, candidates);
       })) {
    const auto i = static_cast<size_t>(c.id);
    best.offer(ids_[i], dot_product(q.data(), vectors_.data() + i * dimension_, dimension_));
  }
  std::vector<Hit> hits = best.take();
  std::sort(hits.begin(), hits.end(), ranks_before);
  return hits;
}

}  // namespace twinflow
