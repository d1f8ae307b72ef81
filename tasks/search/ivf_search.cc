// Approximate vector search through the store's IVF index; see ivf_search.h.
#include "tasks/search/ivf_search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <unordered_set>

#include "store/feature_store.h"
#include "store/store.h"
#include "store/vector_index_store.h"
#include "tasks/search/vector_index.h"
#include "util/error.h"
#include "util/int4_codes.h"

namespace twinflow {
namespace {

constexpr int kPage = 10000;
constexpr int kSamplePerList = 32;
constexpr int kIterations = 8;

void assign_lists(const IvfCentroids& centroids, ListedVectors& vectors) {
  const auto dim = static_cast<size_t>(centroids.dimension);
  vectors.lists.resize(vectors.ids.size());
  for (size_t i = 0; i < vectors.ids.size(); ++i)
    vectors.lists[i] = nearest_list(centroids, vectors.data.data() + i * dim);
}

// Candidates of the first round re-scored with their exact vectors. Each is
// a random row read from vector_lists, 40-100 µs at 100,000 vectors, so fewer
// than a server re-scores in memory (coded_candidates): four times k, at
// least 100. Ranked by int4 codes in the 53 probed lists of the benchmark's
// 100,000 vectors, the 100 best held all of the exact top 10, and the 200
// best 99% of the exact top 50 (the 100 best: 94%); the benchmark prints
// recall at hybrid search's depth (bench/search_scale.h).
size_t ivf_candidates(size_t k) {
  return std::max<size_t>(4 * k, 100);
}

}  // namespace

std::optional<IvfBuildStats> build_vector_index(FeatureStore features,
                                                const EmbeddingModelRecord& model, int lists,
                                                uint64_t seed) {
  const auto start = std::chrono::steady_clock::now();
  VectorIndexStore index(features);
  if (!index.begin(model)) return std::nullopt;
  try {
    IvfBuildStats stats;
    // The training sample: a seeded choice among the current chunks' vectors.
    std::vector<int64_t> ids;
    for (const EmbeddedRow& row : features.embedded_rows(model, {})) ids.push_back(row.chunk_id);
    if (lists <= 0) lists = default_ivf_lists(ids.size());
    lists = std::max(1, std::min<int>(lists, static_cast<int>(std::max<size_t>(ids.size(), 1))));
    std::mt19937_64 random(seed);
    const size_t sample = std::min(ids.size(), static_cast<size_t>(lists) * kSamplePerList);
    for (size_t i = 0; i < sample; ++i) {
      std::uniform_int_distribution<size_t> pick(i, ids.size() - 1);
      std::swap(ids[i], ids[pick(random)]);
    }
    ids.resize(sample);
    std::sort(ids.begin(), ids.end());
    ListedVectors training;
    for (size_t at = 0; at < ids.size(); at += kPage) {
      std::vector<int64_t> page(
          ids.begin() + static_cast<std::ptrdiff_t>(at),
          ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), at + kPage)));
      ListedVectors got = index.embeddings_of(model, page);
      training.ids.insert(training.ids.end(), got.ids.begin(), got.ids.end());
      training.data.insert(training.data.end(), got.data.begin(), got.data.end());
    }
    if (training.ids.size() < static_cast<size_t>(lists))
      throw Error("vector index: " + std::to_string(training.ids.size()) +
                  " vectors are too few for " + std::to_string(lists) + " lists");
    IvfCentroids centroids = train_ivf(training.data.data(), training.ids.size(), model.dimension,
                                       lists, kIterations, seed);
    centroids.data = VectorIndexStore::as_stored(centroids.data, model.dimension);
    stats.trained_on = static_cast<int64_t>(training.ids.size());
    stats.lists = lists;
    for (int64_t after = 0;;) {
      ListedVectors page = index.embedding_page(model, after, kPage);
      if (page.ids.empty()) break;
      after = page.ids.back();
      assign_lists(centroids, page);
      index.add_to_lists(model, page, "");
      stats.vectors += static_cast<int64_t>(page.ids.size());
    }
    index.finish(model, lists, centroids.data, stats.vectors);
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return stats;
  } catch (...) {
    index.end_build(model);
    throw;
  }
}

bool prepare_ivf(FeatureStore features, const EmbeddingModelRecord& model, IvfState& state,
                 std::vector<std::string>& notes) {
  VectorIndexStore index(features);
  std::optional<VectorIndexRecord> info = index.index(model.id, false);
  const bool usable = info && info->lists > 0 && info->dimension == model.dimension;
  const bool stale = usable && info->assigned > info->trained_on;
  if (!usable || stale) {
    if (!usable && index.embedding_count(model.id) < kMinIndexedVectors) return false;
    if (auto built = build_vector_index(features, model)) {
      char text[160];
      std::snprintf(text, sizeof text,
                    "built the approximate vector index: %lld vectors in %d lists, %.1f s",
                    static_cast<long long>(built->vectors), built->lists, built->seconds);
      notes.push_back(text);
      info = index.index(model.id, false);
    } else if (!usable) {
      return false;  // being built elsewhere
    }
  }
  if (!info || info->lists == 0) return false;
  if (state.model_id != model.id || state.built_at != info->created_at) {
    std::optional<VectorIndexRecord> full = index.index(model.id, true);
    if (!full || full->lists == 0) return false;
    state.model_id = model.id;
    state.built_at = full->created_at;
    state.centroids.dimension = full->dimension;
    state.centroids.lists = full->lists;
    state.centroids.data = std::move(full->centroids);
  }
  // Embeddings written since the build go to their nearest list.
  for (;;) {
    ListedVectors pending = index.pending(model, kPage);
    if (pending.ids.empty()) break;
    assign_lists(state.centroids, pending);
    if (!index.add_to_lists(model, pending, state.built_at)) break;
    if (pending.ids.size() < static_cast<size_t>(kPage)) break;
  }
  return true;
}

std::vector<IvfHit> ivf_top_k(FeatureStore features, const EmbeddingModelRecord& model,
                              const IvfState& state, const std::vector<float>& query, size_t k,
                              const ChunkFilter& filter, int probes) {
  VectorIndexStore index(features);
  const int lists = state.centroids.lists;
  const auto dim = static_cast<size_t>(state.centroids.dimension);
  if (query.size() != dim) throw Error("vector index: the query's dimension differs");
  std::vector<float> unit = query;
  double norm2 = 0;
  for (float x : unit) norm2 += static_cast<double>(x) * x;
  if (norm2 > 0)
    for (float& x : unit) x = static_cast<float>(x / std::sqrt(norm2));
  if (probes <= 0) probes = default_ivf_probes(lists);
  probes = std::min(probes, lists);
  // Every probed vector ranked by its code's approximate score; the best
  // candidates, in batches, re-scored with their exact vectors, which only
  // chunks that are searchable in the filter's scope return. A candidate is
  // asked about once across rounds of probes.
  const Int4Scorer scorer(unit.data(), dim);
  std::vector<IvfHit> candidates;
  std::unordered_set<int64_t> asked;
  std::vector<IvfHit> hits;
  const auto better = [](const IvfHit& a, const IvfHit& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  };
  for (int done = 0;;) {
    const std::vector<int> nearest = nearest_lists(state.centroids, unit.data(), probes);
    const std::vector<int> fresh(nearest.begin() + done, nearest.end());
    index.probe_codes(model, fresh, [&](int64_t id, float scale, const uint8_t* code) {
      candidates.push_back({id, scorer.dot(code) * scale / 7.0f});
    });
    done = probes;
    std::sort(candidates.begin(), candidates.end(), better);
    size_t batch = ivf_candidates(k);
    for (size_t at = 0; at < candidates.size() && hits.size() < k; batch *= 4) {
      std::vector<int64_t> ask;
      for (; at < candidates.size() && ask.size() < batch; ++at)
        if (asked.insert(candidates[at].id).second) ask.push_back(candidates[at].id);
      const ListedVectors exact = index.exact_searchable(model, ask, filter);
      for (size_t i = 0; i < exact.ids.size(); ++i)
        hits.push_back({exact.ids[i], dot_product(unit.data(), exact.data.data() + i * dim, dim)});
    }
    if (hits.size() >= k || probes >= lists) break;
    probes = std::min(lists, probes * 4);
  }
  const size_t n = std::min(k, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(n), hits.end(),
                    better);
  hits.resize(n);
  return hits;
}

}  // namespace twinflow
