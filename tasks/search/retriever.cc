// Retriever: vector, text and hybrid search over current chunks. See
// retriever.h.
#include "tasks/search/retriever.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <tuple>

#include "store/feature_store.h"
#include "store/store.h"
#include "tasks/embed/text_embedder.h"
#include "tasks/search/ivf_search.h"
#include "tasks/search/rank_fusion.h"
#include "tasks/search/vector_index.h"
#include "tasks/search/vector_loading.h"
#include "tasks/text/utf8.h"
#include "util/error.h"

namespace twinflow {
namespace fs = std::filesystem;

// Candidates each ranking contributes to a hybrid search: fusion needs more
// than k from each side, or a chunk ranked k+1 by both would be missed.
constexpr size_t kHybridDepth = 4;
constexpr size_t kMinHybridDepth = 50;

struct Retriever::Cache {
  int64_t model_id = 0;
  std::unique_ptr<TextEmbedder> model;
  std::optional<EmbeddingModelRecord> record;  // the current model, as last checked
  IvfState ivf;
  bool ivf_ready = false;     // search through the IVF index (else the exact index)
  std::string vectors_key;    // model, filter and signature of the loaded vectors
  std::string vectors_scope;  // model and filter of the loaded vectors
  std::shared_ptr<const VectorIndex> index;
  std::shared_ptr<SharedVectors> shared;  // the server's one copy, when given
  std::chrono::milliseconds recheck_interval{0};
  std::string checked;  // model name + filter of the last check
  std::chrono::steady_clock::time_point next_check{};
};

SearchMode parse_search_mode(const std::string& name) {
  if (name == "vector") return SearchMode::kVector;
  if (name == "text") return SearchMode::kText;
  if (name == "hybrid") return SearchMode::kHybrid;
  throw Error("unknown search mode '" + name + "': use vector, text or hybrid");
}

const char* search_mode_name(SearchMode mode) {
  switch (mode) {
    case SearchMode::kVector:
      return "vector";
    case SearchMode::kText:
      return "text";
    case SearchMode::kHybrid:
      return "hybrid";
  }
  return "hybrid";
}

Retriever::Retriever(FeatureStore features, fs::path artifacts_root,
                     std::chrono::milliseconds recheck_interval,
                     std::shared_ptr<SharedVectors> shared,
                     std::shared_ptr<Bm25PostingsCache> postings)
    : features_(features),
      artifacts_root_(std::move(artifacts_root)),
      cache_(std::make_unique<Cache>()),
      postings_(postings ? std::move(postings) : std::make_shared<Bm25PostingsCache>()) {
  cache_->recheck_interval = recheck_interval;
  cache_->shared = std::move(shared);
}

Retriever::~Retriever() = default;

namespace {

using Ranking = std::vector<std::pair<int64_t, double>>;

// The vector ranking; empty with a note when the query embeds to nothing.
// nullopt when there is no model yet. The query's embedding moves towards
// the `feedback` chunks' (Rocchio, query_expansion.h) when there are any.
std::optional<Ranking> vector_ranking(FeatureStore& features, const fs::path& artifacts,
                                      Retriever::Cache& cache, const SearchQuery& query,
                                      size_t depth, const std::vector<FeedbackChunk>& feedback,
                                      std::vector<std::string>& notes);

// The first `max` bytes of `text`, not cutting a UTF-8 character.
std::string cut_utf8(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  return text.substr(0, utf8_floor(text, max));
}

// The best `n` hits of a text ranking with their text, best first. `texts`
// holds the chunks' texts read so far for this query: only the others are
// read, and added to it.
std::vector<FeedbackChunk> feedback_of(FeatureStore& features, const std::vector<Bm25Hit>& hits,
                                       size_t n, std::map<int64_t, ChunkText>& texts) {
  n = std::min(n, hits.size());
  std::vector<int64_t> missing;
  for (size_t i = 0; i < n; ++i)
    if (!texts.count(hits[i].id)) missing.push_back(hits[i].id);
  if (!missing.empty())
    for (ChunkDetail& c : features.chunk_details(missing))
      texts[c.id] = ChunkText{c.id, std::move(c.content), std::move(c.title)};
  std::vector<FeedbackChunk> feedback;
  for (size_t i = 0; i < n; ++i)
    if (auto it = texts.find(hits[i].id); it != texts.end())
      feedback.push_back({hits[i].score, it->second.content, it->second.title});
  return feedback;
}

// The text ranking again, with the query expanded from `first`'s best chunks.
Bm25Result expanded_search(FeatureStore& features, const SearchQuery& query, Bm25Result first,
                           int depth, Bm25PostingsCache& cache,
                           std::map<int64_t, ChunkText>& texts) {
  std::vector<Bm25QueryTerm> original;
  for (const Bm25Term& t : first.terms)
    if (t.chunks > 0) original.push_back({t.lexeme, t.weight});
  const std::vector<FeedbackChunk> feedback = feedback_of(
      features, first.hits, static_cast<size_t>(query.expansion.feedback_chunks), texts);
  if (original.empty() || feedback.empty()) return first;
  return features.bm25_search(expand_query(original, feedback, query.expansion), query.filter,
                              depth, query.bm25, &cache);
}

std::string count_text(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::vector<SearchHit> Retriever::search(const SearchQuery& query) {
  return search_explained(query).hits;
}

SearchResult Retriever::search_explained(const SearchQuery& asked) {
  validate(asked.bm25);
  validate(asked.fusion);
  validate(asked.expansion);
  SearchResult result;
  if (asked.text.find_first_not_of(" \t\r\n\f\v") == std::string::npos) {
    result.notes.push_back("the query is empty: say what to search for");
    return result;
  }
  SearchQuery query = asked;
  if (query.text.size() > kMaxQueryBytes) {
    query.text = cut_utf8(query.text, kMaxQueryBytes);
    result.notes.push_back("the query is " + std::to_string(asked.text.size()) +
                           " bytes long: searched by its first " +
                           std::to_string(query.text.size()));
  }
  const bool hybrid = query.mode == SearchMode::kHybrid;
  const size_t depth = hybrid ? std::max(query.k * kHybridDepth, kMinHybridDepth) : query.k;

  Ranking by_text;
  std::map<int64_t, std::map<std::string, double>> text_terms;
  std::vector<FeedbackChunk> feedback;  // hybrid, expand: the text ranking's best chunks
  if (query.mode != SearchMode::kVector) {
    Bm25Result text = features_.bm25_search(query.text, query.filter, static_cast<int>(depth),
                                            query.bm25, postings_.get());
    result.searchable_chunks = text.chunks;
    // Notes are about the query as asked, before any expansion.
    const size_t known = static_cast<size_t>(std::count_if(
        text.terms.begin(), text.terms.end(), [](const Bm25Term& t) { return t.chunks > 0; }));
    if (text.chunks == 0) {
      result.notes.push_back(
          "there is nothing to search: no current chunks" +
          std::string(query.filter.author.empty() && query.filter.kind.empty() &&
                              query.filter.platform.empty()
                          ? " (run the feature pipeline: crawl, clean, chunk, embed)"
                          : " match the filter"));
      return result;
    }
    if (text.terms.empty())
      result.notes.push_back(
          "the query has no searchable word (only stop words or punctuation) for text search");
    else if (known == 0)
      result.notes.push_back("no chunk contains any word of the query (" +
                             count_text(static_cast<int64_t>(text.terms.size()), "word", "words") +
                             " after stemming)");
    else if (text.scored_terms < known)
      result.notes.push_back("the query has " +
                             count_text(static_cast<int64_t>(known), "word", "words") +
                             " found in chunks: only the " + std::to_string(text.scored_terms) +
                             " rarest were scored");
    if (query.expand && !text.hits.empty()) {
      std::map<int64_t, ChunkText> texts;  // feedback chunks read, for both uses
      text = expanded_search(features_, query, std::move(text), static_cast<int>(depth), *postings_,
                             texts);
      // Hybrid: the vector query moves towards the expanded ranking's best
      // chunks (Rocchio), the same feedback the text side read, improved.
      if (hybrid)
        feedback = feedback_of(features_, text.hits,
                               static_cast<size_t>(query.expansion.feedback_chunks), texts);
    }
    result.terms = text.terms;
    for (Bm25Hit& hit : text.hits) {
      by_text.emplace_back(hit.id, hit.score);
      text_terms[hit.id] = std::move(hit.terms);
    }
  }
  Ranking by_vector;
  if (query.mode != SearchMode::kText) {
    std::optional<Ranking> ranking =
        vector_ranking(features_, artifacts_root_, *cache_, query, depth, feedback, result.notes);
    if (!ranking) {
      if (query.mode == SearchMode::kVector)
        result.searchable_chunks = features_.searchable_chunks(query.filter);
      if (result.searchable_chunks == 0) {
        result.notes.push_back("there is nothing to search: no current chunks" +
                               std::string(query.filter.author.empty() &&
                                                   query.filter.kind.empty() &&
                                                   query.filter.platform.empty()
                                               ? " (run the feature pipeline)"
                                               : " match the filter"));
        return result;
      }
      throw Error("no embedding model '" + query.model_name +
                  "' yet: run the feature pipeline's embed step first (or use --mode text)");
    }
    by_vector = std::move(*ranking);
  }

  Ranking ranked;
  if (query.mode == SearchMode::kVector) ranked = by_vector;
  if (query.mode == SearchMode::kText) ranked = by_text;
  if (hybrid) {
    std::vector<ScoredList> lists = {{by_vector, query.fusion.vector_weight},
                                     {by_text, query.fusion.text_weight}};
    for (const FusedHit& hit :
         fuse_rankings(lists, query.fusion.method, query.k, query.fusion.k_rrf))
      ranked.emplace_back(hit.id, hit.score);
  }
  if (ranked.size() > query.k) ranked.resize(query.k);

  auto find_in = [](const Ranking& list, int64_t id) -> std::pair<int, double> {
    for (size_t i = 0; i < list.size(); ++i)
      if (list[i].first == id) return {static_cast<int>(i + 1), list[i].second};
    return {0, 0.0};
  };
  std::vector<int64_t> ids;
  for (const auto& [id, score] : ranked) ids.push_back(id);
  std::vector<ChunkDetail> details = features_.chunk_details(ids);
  for (size_t i = 0; i < details.size(); ++i) {
    SearchHit hit;
    hit.chunk = std::move(details[i]);
    hit.score = ranked[i].second;
    std::tie(hit.vector_rank, hit.vector_score) = find_in(by_vector, hit.chunk.id);
    std::tie(hit.text_rank, hit.text_score) = find_in(by_text, hit.chunk.id);
    if (auto it = text_terms.find(hit.chunk.id); it != text_terms.end())
      hit.text_terms = std::move(it->second);
    result.hits.push_back(std::move(hit));
  }
  return result;
}

namespace {

std::string filter_key(const ChunkFilter& f) {
  return f.author + '\x1f' + f.kind + '\x1f' + f.platform;
}

// Makes the cache hold the current model and, unless the model's IVF index
// serves the query, its vectors for the filter; false when there is no such
// model.
bool refresh(FeatureStore& features, const fs::path& artifacts, Retriever::Cache& cache,
             const SearchQuery& query, std::vector<std::string>& notes) {
  // Asking the database whether anything changed costs a scan of the
  // embeddings; a long-lived server asks at most once per recheck_interval.
  const auto now = std::chrono::steady_clock::now();
  const std::string checked =
      query.model_name + "\n" + filter_key(query.filter) + (query.exact ? "\nexact" : "");
  if (cache.record && (cache.ivf_ready || cache.index) && checked == cache.checked &&
      now < cache.next_check)
    return true;
  cache.checked = checked;
  cache.next_check = now + cache.recheck_interval;
  auto model = features.current_embedding_model(query.model_name);
  if (!model) {
    cache.record.reset();
    cache.index.reset();
    cache.ivf_ready = false;
    return false;
  }
  if (model->id != cache.model_id) {
    cache.model = open_embedder(*model, artifacts);
    cache.model_id = model->id;
    cache.vectors_key.clear();
  }
  cache.record = *model;
  // A long-lived retriever (a server: recheck_interval > 0) holds every
  // vector in memory and ranks them there, faster than reading lists from the
  // database per query; a fresh process reads only the probed lists.
  cache.ivf_ready = !query.exact && cache.recheck_interval.count() == 0 &&
                    prepare_ivf(features, *model, cache.ivf, notes);
  if (cache.ivf_ready) return true;
  const auto signature = [&] { return features.vectors_signature(*model, query.filter); };
  // Only what changed since the previous load of the same model and filter
  // is read (vector_loading.h).
  const auto load = [&](const VectorIndex* previous) {
    return load_vector_index(features, *model, query.filter, previous);
  };
  const std::string scope = std::to_string(model->id) + '\x1f' + filter_key(query.filter);
  if (cache.shared) {
    cache.index = cache.shared->get(scope, cache.recheck_interval, signature, load);
    return true;
  }
  const std::string key = scope + '\x1f' + signature();
  if (key == cache.vectors_key && cache.index) return true;
  cache.index = load(cache.index && cache.vectors_scope == scope ? cache.index.get() : nullptr);
  cache.vectors_key = key;
  cache.vectors_scope = scope;
  return true;
}

std::optional<Ranking> vector_ranking(FeatureStore& features, const fs::path& artifacts,
                                      Retriever::Cache& cache, const SearchQuery& query,
                                      size_t depth, const std::vector<FeedbackChunk>& feedback,
                                      std::vector<std::string>& notes) {
  if (!refresh(features, artifacts, cache, query, notes)) return std::nullopt;
  std::vector<float> q = cache.model->embed({query.text});
  const double beta = query.expansion.vector_feedback_weight;
  if (!feedback.empty() && beta > 0 &&
      !std::all_of(q.begin(), q.end(), [](float x) { return x == 0.0f; })) {
    std::vector<ChunkText> chunks;
    for (const FeedbackChunk& f : feedback) chunks.push_back({0, f.text, f.title});
    move_towards(q, embed_chunks(*cache.model, chunks), beta);
  }
  // A query of words the model has never seen embeds to zero: every cosine
  // would be 0, and ranking by id would be noise.
  if (std::all_of(q.begin(), q.end(), [](float x) { return x == 0.0f; })) {
    notes.push_back("no word of the query is known to the embedding model: no vector hits");
    return Ranking{};
  }
  Ranking out;
  if (cache.ivf_ready) {
    for (const IvfHit& hit :
         ivf_top_k(features, *cache.record, cache.ivf, q, depth, query.filter, query.probes))
      out.emplace_back(hit.id, hit.score);
    return out;
  }
  // In memory: as many vectors as an IVF index would serve are ranked by
  // their codes, the best re-scored exactly (a quarter of the bytes to
  // read), unless asked to score every vector exactly.
  const bool coded = !query.exact && cache.index->size() >= static_cast<size_t>(kMinIndexedVectors);
  const auto hits = coded ? cache.index->top_k_coded(q.data(), depth, coded_candidates(depth))
                          : cache.index->top_k(q.data(), depth);
  for (const auto& hit : hits) out.emplace_back(hit.id, hit.score);
  return out;
}

}  // namespace
}  // namespace twinflow
