// Retriever: vector, text and hybrid search over current chunks. See
// retriever.h.
#include "tasks/search/retriever.h"

#include <algorithm>
#include <chrono>

#include "store/store.h"
#include "tasks/embed/text_embedder.h"
#include "tasks/search/rank_fusion.h"
#include "tasks/search/vector_index.h"
#include "util/error.h"

namespace twinflow {
namespace fs = std::filesystem;

// Candidates each ranking contributes to a hybrid search: RRF needs more than
// k from each side, or a chunk ranked k+1 by both would be missed.
constexpr size_t kHybridDepth = 4;

struct Retriever::Cache {
  int64_t model_id = 0;
  std::unique_ptr<TextEmbedder> model;
  std::string vectors_key;  // filter + signature of the loaded vectors
  std::unique_ptr<VectorIndex> index;
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

Retriever::Retriever(Store& store, fs::path artifacts_root,
                     std::chrono::milliseconds recheck_interval)
    : store_(store), artifacts_root_(std::move(artifacts_root)), cache_(std::make_unique<Cache>()) {
  cache_->recheck_interval = recheck_interval;
}

Retriever::~Retriever() = default;

namespace {

std::vector<std::pair<int64_t, double>> vector_ranking(Store& store, const fs::path& artifacts,
                                                       Retriever::Cache& cache,
                                                       const SearchQuery& query, size_t depth);

}  // namespace

std::vector<SearchHit> Retriever::search(const SearchQuery& query) {
  const size_t depth = query.mode == SearchMode::kHybrid ? query.k * kHybridDepth : query.k;
  std::vector<std::pair<int64_t, double>> by_vector, by_text;
  if (query.mode != SearchMode::kText)
    by_vector = vector_ranking(store_, artifacts_root_, *cache_, query, depth);
  if (query.mode != SearchMode::kVector)
    by_text = store_.text_search(query.text, query.filter, static_cast<int>(depth));

  std::vector<std::pair<int64_t, double>> ranked;
  if (query.mode == SearchMode::kVector) ranked = by_vector;
  if (query.mode == SearchMode::kText) ranked = by_text;
  if (query.mode == SearchMode::kHybrid) {
    std::vector<std::vector<int64_t>> rankings(2);
    for (const auto& [id, score] : by_vector) rankings[0].push_back(id);
    for (const auto& [id, score] : by_text) rankings[1].push_back(id);
    for (const FusedHit& hit : reciprocal_rank_fusion(rankings, query.k))
      ranked.emplace_back(hit.id, hit.score);
  }
  if (ranked.size() > query.k) ranked.resize(query.k);

  auto rank_in = [](const std::vector<std::pair<int64_t, double>>& list, int64_t id) {
    for (size_t i = 0; i < list.size(); ++i)
      if (list[i].first == id) return static_cast<int>(i + 1);
    return 0;
  };
  std::vector<int64_t> ids;
  for (const auto& [id, score] : ranked) ids.push_back(id);
  std::vector<ChunkDetail> details = store_.chunk_details(ids);
  std::vector<SearchHit> hits;
  for (size_t i = 0; i < details.size(); ++i) {
    SearchHit hit;
    hit.chunk = std::move(details[i]);
    hit.score = ranked[i].second;
    hit.vector_rank = rank_in(by_vector, hit.chunk.id);
    hit.text_rank = rank_in(by_text, hit.chunk.id);
    hits.push_back(std::move(hit));
  }
  return hits;
}

namespace {

std::string filter_key(const ChunkFilter& f) {
  return f.author + '\x1f' + f.kind + '\x1f' + f.platform;
}

// Makes the cache hold the current model and its vectors for the filter.
void refresh(Store& store, const fs::path& artifacts, Retriever::Cache& cache,
             const SearchQuery& query) {
  // Asking the database whether anything changed costs a scan of the
  // embeddings; a long-lived server asks at most once per recheck_interval.
  const auto now = std::chrono::steady_clock::now();
  const std::string checked = query.model_name + "\n" + filter_key(query.filter);
  if (cache.index && checked == cache.checked && now < cache.next_check) return;
  cache.checked = checked;
  cache.next_check = now + cache.recheck_interval;
  auto model = store.current_embedding_model(query.model_name);
  if (!model)
    throw Error("no embedding model '" + query.model_name +
                "' yet: run the feature pipeline's embed step first (or use --mode text)");
  if (model->id != cache.model_id) {
    cache.model = open_embedder(*model, artifacts);
    cache.model_id = model->id;
    cache.vectors_key.clear();
  }
  const std::string key = filter_key(query.filter) + store.vectors_signature(*model, query.filter);
  if (key == cache.vectors_key) return;
  ChunkVectors vectors = store.load_vectors(*model, query.filter);
  auto index = std::make_unique<VectorIndex>(vectors.dimension);
  for (size_t i = 0; i < vectors.ids.size(); ++i)
    index->add(vectors.ids[i], vectors.data.data() + i * static_cast<size_t>(vectors.dimension));
  cache.index = std::move(index);
  cache.vectors_key = key;
}

std::vector<std::pair<int64_t, double>> vector_ranking(Store& store, const fs::path& artifacts,
                                                       Retriever::Cache& cache,
                                                       const SearchQuery& query, size_t depth) {
  refresh(store, artifacts, cache, query);
  const std::vector<float> q = cache.model->embed({query.text});
  // A query of words the model has never seen embeds to zero: every cosine
  // would be 0, and ranking by id would be noise.
  if (std::all_of(q.begin(), q.end(), [](float x) { return x == 0.0f; })) return {};
  std::vector<std::pair<int64_t, double>> out;
  for (const auto& hit : cache.index->top_k(q.data(), depth)) out.emplace_back(hit.id, hit.score);
  return out;
}

}  // namespace
}  // namespace twinflow
