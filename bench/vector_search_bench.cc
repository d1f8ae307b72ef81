// Exact cosine top-10 latency of VectorIndex over random 256-d unit vectors:
// median and p95 per query, one thread and one per core, with the effective
// memory bandwidth (a scan reads every vector once: 1 KB per vector).
//
// Sizes: 100,000 and 1,000,000 vectors, 50 queries each
// (TWINFLOW_BENCH_SMALL=1: 100,000 vectors, 10 queries).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "tasks/search/vector_index.h"

using Clock = std::chrono::steady_clock;
using namespace twinflow;

namespace {

constexpr int kDimension = 256;
constexpr size_t kTopK = 10;

// Uniform entries, normalised: enough for a benchmark, and much faster to
// generate than Gaussian ones for a billion floats' worth.
void random_unit_vector(std::mt19937_64& random, float* out) {
  double norm2 = 0;
  for (int i = 0; i < kDimension; ++i) {
    out[i] = static_cast<float>(static_cast<int64_t>(random() >> 40) - (1 << 23));
    norm2 += static_cast<double>(out[i]) * out[i];
  }
  const auto inverse = static_cast<float>(1 / std::sqrt(norm2));
  for (int i = 0; i < kDimension; ++i) out[i] *= inverse;
}

VectorIndex build_index(size_t count, std::mt19937_64& random) {
  VectorIndex index(kDimension);
  index.reserve(count);
  std::vector<float> vector(kDimension);
  for (size_t i = 0; i < count; ++i) {
    random_unit_vector(random, vector.data());
    index.add(static_cast<int64_t>(i), vector.data());
  }
  return index;
}

double percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  const auto position = static_cast<size_t>(std::ceil(fraction * values.size())) - 1;
  return values[std::min(position, values.size() - 1)];
}

void measure(const VectorIndex& index, int threads, size_t queries, std::mt19937_64& random) {
  std::vector<float> query(kDimension);
  std::vector<double> milliseconds;
  size_t checksum = 0;
  for (size_t q = 0; q < queries; ++q) {
    random_unit_vector(random, query.data());
    const auto start = Clock::now();
    const auto hits = index.top_k(query.data(), kTopK, threads);
    milliseconds.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    checksum += static_cast<size_t>(hits.front().id);
  }
  const double median = percentile(milliseconds, 0.5);
  const double gigabytes = static_cast<double>(index.size()) * kDimension * sizeof(float) / 1e9;
  std::printf("  %zu vectors, %s: median %.1f ms, p95 %.1f ms, %.1f GB/s (checksum %zu)\n",
              index.size(), threads == 1 ? "1 thread " : "all cores", median,
              percentile(milliseconds, 0.95), gigabytes / (median / 1e3), checksum % 1000);
}

}  // namespace

int main() {
  const bool small = std::getenv("TWINFLOW_BENCH_SMALL") != nullptr;
  const size_t queries = small ? 10 : 50;
  std::vector<size_t> sizes = {100000};
  if (!small) sizes.push_back(1000000);

  std::printf("exact top-%zu, %d-d float vectors, %u hardware threads, %zu queries per size\n",
              kTopK, kDimension, std::thread::hardware_concurrency(), queries);
  std::mt19937_64 random(1);
  for (size_t size : sizes) {
    const auto start = Clock::now();
    const VectorIndex index = build_index(size, random);
    std::printf("built %zu vectors in %.2f s\n", size,
                std::chrono::duration<double>(Clock::now() - start).count());
    measure(index, 1, queries, random);
    measure(index, 0, queries, random);
  }
  return 0;
}
