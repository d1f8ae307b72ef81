// Retriever: search over the feature store's current chunks, the library
// behind `twinflow search` and the RAG server's retrieval.
//
// Three modes: vector (the query embedded with the current embedding model,
// exact cosine top-k over every vector of that model, vector_index.h), text
// (PostgreSQL full-text ranking over the chunks' tsvector) and hybrid
// (reciprocal-rank fusion of the two, rank_fusion.h). A Retriever keeps the
// model and the vectors in memory between searches and reloads them when a new
// model version is registered or the number of embedded chunks changes, so a
// long-lived server answers from memory and still sees new data.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store/feature_records.h"

namespace twinflow {

class Store;

enum class SearchMode { kVector, kText, kHybrid };

// "vector", "text" or "hybrid"; throws Error otherwise.
SearchMode parse_search_mode(const std::string& name);
const char* search_mode_name(SearchMode mode);

struct SearchQuery {
  std::string text;
  size_t k = 10;
  SearchMode mode = SearchMode::kHybrid;
  ChunkFilter filter;
  std::string model_name = "tfidf-svd-256";
};

struct SearchHit {
  ChunkDetail chunk;
  double score = 0;     // cosine (vector), ts_rank_cd (text) or fused RRF score (hybrid)
  int vector_rank = 0;  // 1-based rank in the vector ranking, 0 when absent from it
  int text_rank = 0;    // 1-based rank in the text ranking, 0 when absent from it
};

class Retriever {
 public:
  // `artifacts_root` is $TWINFLOW_HOME/artifacts, where the model file lives.
  // Every search checks whether the model or the vectors changed, unless the
  // last check is younger than `recheck_interval` (a server's choice: new data
  // shows within the interval, and searches skip a scan of the embeddings).
  Retriever(Store& store, std::filesystem::path artifacts_root,
            std::chrono::milliseconds recheck_interval = std::chrono::milliseconds(0));
  ~Retriever();
  Retriever(const Retriever&) = delete;
  Retriever& operator=(const Retriever&) = delete;

  // Throws Error when the mode needs a model (vector, hybrid with vectors)
  // and there is none; hybrid without a model is refused rather than silently
  // degraded, so a missing embed step is noticed.
  std::vector<SearchHit> search(const SearchQuery& query);

  struct Cache;  // the loaded model and vectors (retriever.cc)

 private:
  Store& store_;
  std::filesystem::path artifacts_root_;
  std::unique_ptr<Cache> cache_;
};

}  // namespace twinflow
