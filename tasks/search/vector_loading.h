// Loading a model's vectors into a VectorIndex: all of them, or only what
// changed since an earlier load.
//
// A server holds every vector of the current model in memory
// (shared_vectors.h) and loads them again when the feature store changed
// (FeatureStore::vectors_signature). A full load reads every vector as text:
// about 20 s at 1M × 256, and 1.3 GB allocated beside the snapshot still in
// use, after a crawl that added a few hundred chunks. Given the previous load
// of the same model and filter, load_vector_index reads the ids and row
// versions of the vectors a search would now read (FeatureStore::embedded_rows:
// 12 bytes a vector instead of about 3 KB), shares every vector whose row is
// unchanged with the previous index (VectorIndex(base, keep): nothing copied),
// and reads only the new and the rewritten ones. Vectors of chunks that are
// no longer current, or no longer in the filter, are not searched.
//
// A full load goes instead when more than a quarter of the vectors would be
// read (one ordered scan costs less than that many lookups by id), and when
// the shared segments would hold more than a quarter as many vectors that no
// search uses, or 8 segments: a fresh index frees them.
//
// Memory: the new index holds the previous one's segments, and its own for
// what it read; the previous index, released by the last search using it,
// frees nothing they share.
#pragma once

#include <cstddef>
#include <memory>

#include "store/feature_records.h"
#include "store/feature_store.h"
#include "tasks/search/vector_index.h"

namespace twinflow {

struct VectorLoadStats {
  bool full = false;  // every vector read from the store
  size_t kept = 0;    // shared with the previous index, not read
  size_t read = 0;    // read from the store
};

// The model's vectors of the current chunks matching `filter`, in ascending
// chunk id order. `previous`: an earlier result of this function for the
// same model and filter, or null. Throws what the store throws.
std::unique_ptr<VectorIndex> load_vector_index(FeatureStore features,
                                               const EmbeddingModelRecord& model,
                                               const ChunkFilter& filter,
                                               const VectorIndex* previous = nullptr,
                                               VectorLoadStats* stats = nullptr);

}  // namespace twinflow
