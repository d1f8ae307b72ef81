// VectorIndexStore: the approximate vector index of an embedding model, IVF
// lists kept in PostgreSQL (store/store_vector_index.cc, migration 0017),
// through a Store's connection. The algorithms that use it:
// tasks/search/ivf_search.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/feature_records.h"
#include "store/feature_store.h"
#include "store/store.h"
#include "store/vector_index_records.h"

namespace twinflow {

class VectorIndexStore {
 public:
  explicit VectorIndexStore(Store& store) : impl_(&store.impl()) {}
  explicit VectorIndexStore(const FeatureStore& features) : impl_(&features.impl()) {}

  // The model's IVF index, nullopt when it has none. With centroids only
  // when `with_centroids`.
  std::optional<VectorIndexRecord> index(int64_t model_id, bool with_centroids = true);
  // The number of embeddings of a model (any chunk).
  int64_t embedding_count(int64_t model_id);
  // Starts (re)building the model's index: takes a session advisory lock of
  // the model's index (false, nothing done, when another session holds it),
  // then, under a SHARE lock on embeddings (waiting for the writers in
  // flight), records an index row with no lists (not usable) and empties the
  // old lists, so every embedding written from then on is recorded as
  // pending. The lock is held until finish or end_build.
  bool begin(const EmbeddingModelRecord& model);
  // The vectors of `chunk_ids` (those that have one) for a model.
  ListedVectors embeddings_of(const EmbeddingModelRecord& model,
                              const std::vector<int64_t>& chunk_ids);
  // A page of a model's embeddings (any chunk), by chunk id after `after_id`.
  ListedVectors embedding_page(const EmbeddingModelRecord& model, int64_t after_id, int limit);
  // Adds vectors to their lists (`vectors.lists`), with their codes, and
  // removes them from the pending ones, in one transaction. A build passes an
  // empty `built_at`; a search assigning pending vectors passes the
  // created_at of the index whose centroids it used: nothing is written
  // (false) unless that index is still the model's and no rebuild is
  // running; the assigned count grows.
  bool add_to_lists(const EmbeddingModelRecord& model, const ListedVectors& vectors,
                    const std::string& built_at);
  // Makes the index usable with `centroids` (lists × dimension) after the
  // build listed `listed` embeddings, and releases the build lock.
  void finish(const EmbeddingModelRecord& model, int lists, const std::vector<float>& centroids,
              int64_t listed);
  // Releases the build lock (after a failed build).
  void end_build(const EmbeddingModelRecord& model);
  // `centroids` (row-major, `dimension` floats each) as `index` will read them
  // back once `finish` has stored them (as int8 codes, migration 0030): a
  // build assigns vectors to lists with these, as every search will.
  static std::vector<float> as_stored(const std::vector<float>& centroids, int dimension);
  // Up to `limit` embeddings written since the index was built (not yet in a
  // list), with their vectors.
  ListedVectors pending(const EmbeddingModelRecord& model, int limit);
  // Visits the codes of the vectors in `lists` (any chunk, and possibly
  // chunks deleted since: `exact_searchable` drops those).
  void probe_codes(const EmbeddingModelRecord& model, const std::vector<int>& lists,
                   const CodeVisitor& visit);
  // The listed vectors of those of `chunk_ids` that are searchable (current
  // chunks of latest documents) and match `filter`, in no particular order.
  ListedVectors exact_searchable(const EmbeddingModelRecord& model,
                                 const std::vector<int64_t>& chunk_ids, const ChunkFilter& filter);

 private:
  Store::Impl* impl_;
};

}  // namespace twinflow
