// Approximate vector search through the IVF index kept in the store
// (migrations 0017, 0021 and 0030): building it from a model's embeddings,
// assigning vectors written since, and probing the lists nearest to a query.
//
// A fresh process reads the centroids (about sqrt(N) of them, as int8 codes)
// and the compact codes of the vectors in `probes` lists (four bits per
// dimension), a few percent of the model's bytes, instead of every vector;
// it re-scores its best candidates with their exact vectors. Results are
// approximate: a vector in a list that was not probed, or whose code ranked
// it below the re-scored candidates, is missed; bench/vector_search_bench and
// bench/rag_bench print recall against exact search. SearchQuery::exact
// (`twinflow search --exact`) searches every vector instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/feature_records.h"
#include "store/feature_store.h"
#include "tasks/search/ivf.h"

namespace twinflow {

// Models with fewer embeddings than this are searched exactly (loading every
// vector costs less than an index would save).
constexpr int64_t kMinIndexedVectors = 4096;

struct IvfBuildStats {
  int64_t vectors = 0;  // listed
  int lists = 0;
  int64_t trained_on = 0;  // vectors the centroids were fitted on (a sample)
  double seconds = 0;
};

// Builds (or rebuilds) the model's index: centroids fitted on a seeded sample
// of up to 32 vectors per list of the current chunks' vectors, then every
// embedding of the model listed, a page at a time (memory stays bounded).
// `lists` 0: default_ivf_lists. nullopt when another process is building it.
std::optional<IvfBuildStats> build_vector_index(FeatureStore features,
                                                const EmbeddingModelRecord& model, int lists = 0,
                                                uint64_t seed = 1);

// The centroids a searcher holds, with the build they came from.
struct IvfState {
  int64_t model_id = 0;
  std::string built_at;
  IvfCentroids centroids;
};

struct IvfHit {
  int64_t id;
  float score;
};

// Makes `state` hold the model's usable index, building it when there is none
// (or it has grown past twice the vectors it was fitted on) and the model has
// at least kMinIndexedVectors embeddings, and assigns embeddings written
// since the build to their lists. False when the model is to be searched
// exactly (too few vectors, or another process is building the index);
// `notes` gets a sentence when an index was built.
bool prepare_ivf(FeatureStore features, const EmbeddingModelRecord& model, IvfState& state,
                 std::vector<std::string>& notes);

// The best `k` searchable vectors of `filter` among the `probes` lists
// nearest to `query` (0: default_ivf_probes); more lists are probed while
// fewer than k are found. Cosine scores, best first, ties by id.
std::vector<IvfHit> ivf_top_k(FeatureStore features, const EmbeddingModelRecord& model,
                              const IvfState& state, const std::vector<float>& query, size_t k,
                              const ChunkFilter& filter, int probes = 0);

}  // namespace twinflow
