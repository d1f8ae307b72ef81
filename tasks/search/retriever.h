// Retriever: search over the feature store's current chunks, the library
// behind `twinflow search` and the RAG server's retrieval.
//
// Three modes: vector (the query embedded with the current embedding model,
// cosine top-k: approximate through the model's IVF index in the store when
// it has enough vectors, ivf_search.h, else or when asked exact over every
// vector of that model held in memory, vector_index.h), text
// (Okapi BM25F over the chunks' bodies and their documents' titles, with exact
// statistics kept by the database, Store::bm25_search; by default with the
// query expanded by pseudo-relevance feedback, query_expansion.h) and hybrid (the two
// rankings fused, rank_fusion.h: weighted reciprocal-rank fusion by default).
// A Retriever keeps the model and the vectors in memory between searches and
// reloads them when a new model version is registered or the number of
// embedded chunks changes, so a long-lived server answers from memory and
// still sees new data.
//
// Awkward queries give an answer, not an error: an empty or blank query, a
// query of stop words only, or one whose words no chunk has, give no hits and
// a note saying why; an empty feature store gives no hits and a note; a query
// longer than kMaxQueryBytes is searched by its first kMaxQueryBytes (cut at a
// character boundary), with a note.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/bm25_postings_cache.h"
#include "store/feature_records.h"
#include "store/feature_store.h"
#include "store/search_records.h"
#include "tasks/search/query_expansion.h"
#include "tasks/search/rank_fusion.h"
#include "tasks/search/shared_vectors.h"

namespace twinflow {

enum class SearchMode { kVector, kText, kHybrid };

// "vector", "text" or "hybrid"; throws Error otherwise.
SearchMode parse_search_mode(const std::string& name);
const char* search_mode_name(SearchMode mode);

// Queries are searched by at most this many bytes of their text.
constexpr size_t kMaxQueryBytes = 64 * 1024;

struct SearchQuery {
  std::string text;
  size_t k = 10;
  SearchMode mode = SearchMode::kHybrid;
  ChunkFilter filter;
  std::string model_name = "tfidf-svd-256";
  Bm25Params bm25;  // text ranking (search_records.h)
  // Text and hybrid (not vector alone): the text ranking is run again with
  // the query expanded from its first ranking's best chunks (RM3), and in
  // hybrid the vector query is moved towards the expanded ranking's best
  // chunks (Rocchio); query_expansion.h. On by default: on Cranfield it
  // raised hybrid nDCG@10 by 9% and text by 8.5% (docs/STEPS.md).
  bool expand = true;
  ExpansionParams expansion;
  FusionParams fusion;  // hybrid: how the two rankings combine (rank_fusion.h)
  // Vector ranking: exact scores every vector of the model; otherwise a model
  // with at least kMinIndexedVectors embeddings is searched through its IVF
  // index (ivf_search.h), probing `probes` lists (0: default_ivf_probes),
  // except by a Retriever with a recheck interval (a server), which holds
  // every vector in memory and ranks them by their codes, the best
  // candidates re-scored exactly (vector_index.h: top_k_coded).
  bool exact = false;
  int probes = 0;
};

struct SearchHit {
  ChunkDetail chunk;
  // The score of the mode asked: cosine (vector), BM25F (text) or the fused
  // score (hybrid).
  double score = 0;
  int vector_rank = 0;      // 1-based rank in the vector ranking, 0 when absent from it
  int text_rank = 0;        // 1-based rank in the text ranking, 0 when absent from it
  double vector_score = 0;  // cosine, when in the vector ranking
  double text_score = 0;    // BM25F, when in the text ranking
  std::map<std::string, double> text_terms;  // lexeme -> its part of text_score
};

struct SearchResult {
  std::vector<SearchHit> hits;
  // Why there are fewer hits than asked, or what was done to the query
  // ("the query has only stop words", ...), one sentence each.
  std::vector<std::string> notes;
  std::vector<Bm25Term> terms;    // the query's lexemes with their statistics (text, hybrid)
  int64_t searchable_chunks = 0;  // in the filter's scope
};

class Retriever {
 public:
  // `artifacts_root` is $TWINFLOW_HOME/artifacts, where the model file lives.
  // Every search checks whether the model or the vectors changed, unless the
  // last check is younger than `recheck_interval` (a server's choice: new data
  // shows within the interval, and searches skip a scan of the embeddings).
  // `shared`: where a server's Retrievers keep one copy of the vectors
  // between them (shared_vectors.h); without it, this Retriever holds its own.
  // `postings`: where text searches keep the postings they read, valid
  // while the scope does not change (store/bm25_postings_cache.h); a
  // server's Retrievers share one; without it, this Retriever keeps its own.
  Retriever(FeatureStore features, std::filesystem::path artifacts_root,
            std::chrono::milliseconds recheck_interval = std::chrono::milliseconds(0),
            std::shared_ptr<SharedVectors> shared = nullptr,
            std::shared_ptr<Bm25PostingsCache> postings = nullptr);
  ~Retriever();
  Retriever(const Retriever&) = delete;
  Retriever& operator=(const Retriever&) = delete;

  // The hits of search_explained().
  std::vector<SearchHit> search(const SearchQuery& query);
  // Throws Error when the mode needs a model (vector, hybrid) and there is
  // none while there are chunks to search; hybrid without a model is refused
  // rather than silently degraded, so a missing embed step is noticed. Throws
  // Error for invalid parameters (bm25, fusion).
  SearchResult search_explained(const SearchQuery& query);

  struct Cache;  // the loaded model and vectors (retriever.cc)

 private:
  FeatureStore features_;
  std::filesystem::path artifacts_root_;
  std::unique_ptr<Cache> cache_;
  std::shared_ptr<Bm25PostingsCache> postings_;
};

}  // namespace twinflow
