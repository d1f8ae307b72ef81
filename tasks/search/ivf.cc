// IVF centroids: spherical k-means and nearest-list ranking; see ivf.h.
#include "tasks/search/ivf.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <string>

#include "util/error.h"
#include "util/simd.h"

namespace twinflow {

// Four independent 8-wide accumulators: -O2 does not vectorise a float sum
// (it may not reorder the additions), and one accumulator would serialise on
// the add latency.
TWINFLOW_AVX2_CLONE float dot_product(const float* a, const float* b, size_t n) {
  Float8 sum[4] = {};
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int lane = 0; lane < 4; ++lane) {
      Float8 x, y;
      std::memcpy(&x, a + i + 8 * lane, sizeof x);
      std::memcpy(&y, b + i + 8 * lane, sizeof y);
      sum[lane] += x * y;
    }
  }
  const Float8 total = (sum[0] + sum[1]) + (sum[2] + sum[3]);
  float result = 0;
  for (int lane = 0; lane < 8; ++lane) result += total[lane];
  for (; i < n; ++i) result += a[i] * b[i];
  return result;
}

namespace {

void normalise(float* v, int dimension) {
  double norm2 = 0;
  for (int i = 0; i < dimension; ++i) norm2 += static_cast<double>(v[i]) * v[i];
  if (norm2 <= 0) return;
  const auto inverse = static_cast<float>(1 / std::sqrt(norm2));
  for (int i = 0; i < dimension; ++i) v[i] *= inverse;
}

}  // namespace

int default_ivf_lists(size_t count) {
  const auto lists = static_cast<int>(std::lround(std::sqrt(static_cast<double>(count))));
  return std::clamp(lists, 1, 4096);
}

int default_ivf_probes(int lists) {
  // A sixth of the lists, at least 8 (rag_bench: recall@10 ~0.9 at 10k
  // chunks of its synthetic corpus; --probes trades speed for recall).
  return std::clamp((lists + 5) / 6, std::min(lists, 8), lists);
}

IvfCentroids train_ivf(const float* vectors, size_t count, int dimension, int lists, int iterations,
                       uint64_t seed) {
  if (lists < 1 || count < static_cast<size_t>(lists))
    throw Error("IVF training: " + std::to_string(count) + " vectors cannot make " +
                std::to_string(lists) + " lists");
  const auto dim = static_cast<size_t>(dimension);
  IvfCentroids c;
  c.dimension = dimension;
  c.lists = lists;
  c.data.resize(static_cast<size_t>(lists) * dim);
  // Start: `lists` distinct vectors in a seeded random order.
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), size_t{0});
  std::mt19937_64 random(seed);
  for (int l = 0; l < lists; ++l) {
    std::uniform_int_distribution<size_t> pick(static_cast<size_t>(l), count - 1);
    std::swap(order[static_cast<size_t>(l)], order[pick(random)]);
    std::memcpy(c.data.data() + l * dim, vectors + order[static_cast<size_t>(l)] * dim,
                dim * sizeof(float));
    normalise(c.data.data() + l * dim, dimension);
  }
  std::vector<int> assignment(count, 0);
  std::vector<float> similarity(count, 0);
  std::vector<double> sums(c.data.size());
  std::vector<size_t> sizes(static_cast<size_t>(lists));
  for (int round = 0; round < iterations; ++round) {
    for (size_t i = 0; i < count; ++i) {
      const float* v = vectors + i * dim;
      int best = 0;
      float best_score = dot_product(v, c.row(0), dim);
      for (int l = 1; l < lists; ++l) {
        const float s = dot_product(v, c.row(l), dim);
        if (s > best_score) best_score = s, best = l;
      }
      assignment[i] = best;
      similarity[i] = best_score;
    }
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(sizes.begin(), sizes.end(), size_t{0});
    for (size_t i = 0; i < count; ++i) {
      const auto l = static_cast<size_t>(assignment[i]);
      ++sizes[l];
      const float* v = vectors + i * dim;
      double* s = sums.data() + l * dim;
      for (size_t j = 0; j < dim; ++j) s[j] += v[j];
    }
    for (int l = 0; l < lists; ++l) {
      float* row = c.data.data() + l * dim;
      if (sizes[static_cast<size_t>(l)] == 0) {
        // Restart an empty list at the worst-served vector.
        const size_t worst = static_cast<size_t>(
            std::min_element(similarity.begin(), similarity.end()) - similarity.begin());
        std::memcpy(row, vectors + worst * dim, dim * sizeof(float));
        similarity[worst] = 1;
      } else {
        for (size_t j = 0; j < dim; ++j) row[j] = static_cast<float>(sums[l * dim + j]);
      }
      normalise(row, dimension);
    }
  }
  return c;
}

int nearest_list(const IvfCentroids& centroids, const float* vector) {
  const auto dim = static_cast<size_t>(centroids.dimension);
  int best = 0;
  float best_score = -2;
  for (int l = 0; l < centroids.lists; ++l) {
    const float s = dot_product(vector, centroids.row(l), dim);
    if (s > best_score) best_score = s, best = l;
  }
  return best;
}

std::vector<int> nearest_lists(const IvfCentroids& centroids, const float* query, int probes) {
  const auto dim = static_cast<size_t>(centroids.dimension);
  std::vector<std::pair<float, int>> scored;
  scored.reserve(static_cast<size_t>(centroids.lists));
  for (int l = 0; l < centroids.lists; ++l)
    scored.emplace_back(dot_product(query, centroids.row(l), dim), l);
  const auto n = static_cast<size_t>(std::clamp(probes, 0, centroids.lists));
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(n), scored.end(),
                    [](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first > b.first : a.second < b.second;
                    });
  std::vector<int> out;
  for (size_t i = 0; i < n; ++i) out.push_back(scored[i].second);
  return out;
}

}  // namespace twinflow
