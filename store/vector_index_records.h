// Records of the approximate vector index (store/store_vector_index.cc,
// migrations 0017 and 0021): an embedding model's IVF centroids, list vectors
// and their compact codes.
#pragma once

#include <cstdint>
#include <functional>
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

// Called with one vector's code (migration 0030): its int4 code
// (util/int4_codes.h) and scale. `code` is valid during the call only: codes
// are read block by block and never gathered (at 1,000,000 vectors the lists
// a search probes hold 23 MB of them).
using CodeVisitor = std::function<void(int64_t id, float scale, const uint8_t* code)>;

}  // namespace twinflow
