// IVF (inverted file) centroids for approximate cosine search: spherical
// k-means over unit vectors, and the lists nearest to a query.
//
// An IVF index splits the vectors into `lists` groups by their nearest
// centroid; a search ranks the centroids against the query and scores only
// the vectors of the `probes` best lists (the store keeps the lists:
// store/store_vector_index.cc, migration 0017). The centroids are fitted by
// spherical k-means (cosine assignment, centroids renormalised to unit
// length) on a seeded sample, so a build is reproducible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace twinflow {

struct IvfCentroids {
  int dimension = 0;
  int lists = 0;
  std::vector<float> data;  // lists × dimension, unit rows, row-major

  const float* row(int list) const { return data.data() + static_cast<size_t>(list) * dimension; }
};

// The number of lists for `count` vectors: about sqrt(count), at least 1,
// at most 4096.
int default_ivf_lists(size_t count);

// The number of lists a search probes by default: a sixth of them, at least
// 8 (recall@10 against exact search: bench/rag_bench prints it).
int default_ivf_probes(int lists);

// Fits `lists` centroids to `count` vectors (row-major, `dimension` floats
// each; need not be unit length) with `iterations` rounds of spherical
// k-means, starting from `lists` distinct sample vectors chosen by `seed`. A
// list that loses all its vectors is restarted at the vector farthest from
// its centroid. Throws Error when count < lists or lists < 1.
IvfCentroids train_ivf(const float* vectors, size_t count, int dimension, int lists, int iterations,
                       uint64_t seed);

// The list whose centroid is closest (highest dot product) to `vector`;
// ties by lowest list.
int nearest_list(const IvfCentroids& centroids, const float* vector);

// The `probes` lists closest to `query`, best first.
std::vector<int> nearest_lists(const IvfCentroids& centroids, const float* query, int probes);

// Dot product of two float arrays of length n (vectorised).
float dot_product(const float* a, const float* b, size_t n);

}  // namespace twinflow
