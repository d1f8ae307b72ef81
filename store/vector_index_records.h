// Records of the approximate vector index (store/store_vector_index.cc,
// migrations 0017 and 0021): an embedding model's IVF centroids, list vectors
// and their compact codes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace twinflow {

struct VectorIndexRecord {
  int64_t model_id = 0;
  int dimension = 0;
  int lists = 0;                 // 0: being built (or a build died): not usable
  std::vector<float> centroids;  // lists × dimension, row-major
  int64_t trained_on = 0;        // embeddings the build listed
  int64_t assigned = 0;          // embeddings assigned to lists since the build
  std::string created_at;        // changes with every build
};

// Vectors with their ids (row-major, ids.size() × dimension); `lists` is
// filled where the vectors come from the index's lists.
struct ListedVectors {
  std::vector<int64_t> ids;
  std::vector<float> data;
  std::vector<int> lists;
};

// The codes of the vectors in some lists (migration 0021): vector i is
// approximately codes[i × dimension + j] × scales[i] / 127 in dimension j.
struct ListedCodes {
  std::vector<int64_t> ids;
  std::vector<float> scales;
  std::vector<int8_t> codes;
};

}  // namespace twinflow
