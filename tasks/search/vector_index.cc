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

VectorIndex::VectorIndex(const VectorIndex& base, const std::vector<bool>& keep)
    : dimension_(base.dimension_) {
  if (keep.size() != base.size()) {
    throw Error("vector index: " + std::to_string(keep.size()) + " marks for " +
                std::to_string(base.size()) + " vectors");
  }
  for (size_t p = 0; p < base.parts_.size(); ++p) {
    const Part& from = base.parts_[p];
    Part part{from.segment, {}};
    bool all = true;
    for (size_t i = 0; i < from.size(); ++i) {
      if (keep[base.starts_[p] + i])
        part.kept.push_back(from.kept.empty() ? static_cast<uint32_t>(i) : from.kept[i]);
      else
        all = false;
    }
    if (part.kept.empty()) continue;  // nothing of this segment is searched
    if (all) part.kept = from.kept;
    starts_.push_back(size_);
    size_ += part.size();
    parts_.push_back(std::move(part));
  }
}

VectorIndex::Segment& VectorIndex::writable() {
  if (parts_.empty() || !parts_.back().kept.empty() || parts_.back().segment.use_count() > 1) {
    starts_.push_back(size_);
    parts_.push_back({std::make_shared<Segment>(), {}});
  }
  return *parts_.back().segment;
}

void VectorIndex::reserve(size_t count) {
  Segment& s = writable();
  const size_t total = s.ids.size() + count;
  s.vectors.reserve(total * dimension_);
  s.codes.reserve(total * dimension_);
  s.scales.reserve(total);
  s.ids.reserve(total);
  s.versions.reserve(total);
}

void VectorIndex::add(int64_t id, const float* vector, uint32_t version) {
  Segment& s = writable();
  const size_t offset = s.vectors.size();
  s.vectors.insert(s.vectors.end(), vector, vector + dimension_);
  s.ids.push_back(id);
  s.versions.push_back(version);
  const double norm2 = squared_norm(vector, dimension_);
  if (norm2 != 0 && std::abs(norm2 - 1) > kUnitTolerance) {
    const auto inverse = static_cast<float>(1 / std::sqrt(norm2));
    for (int i = 0; i < dimension_; ++i) s.vectors[offset + i] *= inverse;
  }
  s.codes.resize(offset + dimension_);
  s.scales.push_back(encode_int8(s.vectors.data() + offset, dimension_, s.codes.data() + offset));
  ++size_;
}

size_t VectorIndex::resident() const {
  size_t n = 0;
  for (const Part& part : parts_) n += part.segment->ids.size();
  return n;
}

std::pair<const VectorIndex::Segment*, size_t> VectorIndex::locate(size_t position) const {
  const size_t p = std::upper_bound(starts_.begin(), starts_.end(), position) - starts_.begin() - 1;
  const Part& part = parts_[p];
  const size_t i = position - starts_[p];
  return {part.segment.get(), part.kept.empty() ? i : part.kept[i]};
}

int64_t VectorIndex::id_at(size_t position) const {
  const auto [segment, offset] = locate(position);
  return segment->ids[offset];
}

uint32_t VectorIndex::version_at(size_t position) const {
  const auto [segment, offset] = locate(position);
  return segment->versions[offset];
}

const float* VectorIndex::vector_at(size_t position) const {
  const auto [segment, offset] = locate(position);
  return segment->vectors.data() + offset * dimension_;
}

template <typename Visit>
void VectorIndex::for_range(size_t begin, size_t end, const Visit& visit) const {
  if (begin >= end) return;
  size_t p = std::upper_bound(starts_.begin(), starts_.end(), begin) - starts_.begin() - 1;
  for (; p < parts_.size() && starts_[p] < end; ++p) {
    const Part& part = parts_[p];
    const size_t first = begin > starts_[p] ? begin - starts_[p] : 0;
    const size_t last = std::min(part.size(), end - starts_[p]);
    if (part.kept.empty()) {
      for (size_t i = first; i < last; ++i) visit(*part.segment, i, starts_[p] + i);
    } else {
      for (size_t i = first; i < last; ++i) visit(*part.segment, part.kept[i], starts_[p] + i);
    }
  }
}

std::vector<VectorIndex::Hit> VectorIndex::scan(const float* query, size_t begin, size_t end,
                                                size_t k) const {
  BestHits best(k);
  for_range(begin, end, [&](const Segment& s, size_t offset, size_t) {
    best.offer(s.ids[offset],
               dot_product(query, s.vectors.data() + offset * dimension_, dimension_));
  });
  return best.take();
}

std::vector<VectorIndex::Hit> VectorIndex::scan_codes(const int8_t* query, size_t begin, size_t end,
                                                      size_t k) const {
  BestHits best(k);
  for_range(begin, end, [&](const Segment& s, size_t offset, size_t position) {
    best.offer(static_cast<int64_t>(position),
               s.scales[offset] * static_cast<float>(int8_dot(
                                      query, s.codes.data() + offset * dimension_, dimension_)));
  });
  return best.take();
}

template <typename Scan>
std::vector<VectorIndex::Hit> VectorIndex::in_parts(size_t k, int threads, const Scan& scan) const {
  const size_t wanted = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  const size_t parts = std::clamp<size_t>(size() / kMinVectorsPerThread, 1, wanted);
  std::vector<std::vector<Hit>> partial(parts);
  {
    std::vector<std::jthread> workers;
    for (size_t p = 1; p < parts; ++p) {
      workers.emplace_back(
          [&, p] { partial[p] = scan(size() * p / parts, size() * (p + 1) / parts); });
    }
    partial[0] = scan(0, size() / parts);
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
    const auto [segment, offset] = locate(static_cast<size_t>(c.id));
    best.offer(segment->ids[offset],
               dot_product(q.data(), segment->vectors.data() + offset * dimension_, dimension_));
  }
  std::vector<Hit> hits = best.take();
  std::sort(hits.begin(), hits.end(), ranks_before);
  return hits;
}

}  // namespace twinflow
