// See vector_loading.h.
#include "tasks/search/vector_loading.h"

#include <algorithm>
#include <vector>

#include "store/vector_index_store.h"

namespace twinflow {

namespace {

// A reload reads at most this share of the vectors by id; more, and one
// ordered scan of all of them costs less.
constexpr double kMaxShareRead = 0.25;
// A reload shares the previous index's segments while the vectors they hold
// and no search uses stay under this share of those searched, and they are
// at most kMaxSegments; else a full load starts afresh.
constexpr double kMaxShareUnused = 0.25;
constexpr size_t kMaxSegments = 8;

void add_page(VectorIndex& index, const ChunkVectors& page) {
  for (size_t i = 0; i < page.ids.size(); ++i)
    index.add(page.ids[i], page.data.data() + i * static_cast<size_t>(page.dimension),
              page.versions[i]);
}

std::unique_ptr<VectorIndex> load_all(FeatureStore& features, const EmbeddingModelRecord& model,
                                      const ChunkFilter& filter, VectorLoadStats& stats) {
  // Page by page into the index, so nothing is held twice. It is reserved
  // for every vector of the model, an upper bound for a filter: the pages a
  // smaller filter never writes are never resident.
  auto index = std::make_unique<VectorIndex>(model.dimension);
  index->reserve(static_cast<size_t>(VectorIndexStore(features).embedding_count(model.id)));
  features.load_vectors(model, filter, [&](const ChunkVectors& page) { add_page(*index, page); });
  stats = {true, 0, index->size()};
  return index;
}

}  // namespace

std::unique_ptr<VectorIndex> load_vector_index(FeatureStore features,
                                               const EmbeddingModelRecord& model,
                                               const ChunkFilter& filter,
                                               const VectorIndex* previous,
                                               VectorLoadStats* stats) {
  VectorLoadStats ignored;
  VectorLoadStats& out = stats ? *stats : ignored;
  if (!previous || previous->dimension() != model.dimension || previous->segments() >= kMaxSegments)
    return load_all(features, model, filter, out);

  // The previous index's vectors by chunk id, and the rows a search would
  // read now, also by chunk id: one merge pass finds each row's copy, kept
  // when its version is the same.
  std::vector<std::pair<int64_t, size_t>> held(previous->size());  // (chunk id, position)
  for (size_t i = 0; i < held.size(); ++i) held[i] = {previous->id_at(i), i};
  if (!std::is_sorted(held.begin(), held.end())) std::sort(held.begin(), held.end());
  const std::vector<EmbeddedRow> rows = features.embedded_rows(model, filter);
  std::vector<bool> keep(previous->size(), false);
  std::vector<int64_t> to_read;
  size_t kept = 0;
  for (size_t i = 0, h = 0; i < rows.size(); ++i) {
    while (h < held.size() && held[h].first < rows[i].chunk_id) ++h;
    if (h < held.size() && held[h].first == rows[i].chunk_id &&
        previous->version_at(held[h].second) == rows[i].version) {
      keep[held[h].second] = true;
      ++kept;
    } else {
      to_read.push_back(rows[i].chunk_id);
    }
  }
  const auto share = [&](size_t n) {
    return static_cast<double>(n) / std::max<size_t>(rows.size(), 1);
  };
  if (share(to_read.size()) > kMaxShareRead) return load_all(features, model, filter, out);
  auto index = std::make_unique<VectorIndex>(*previous, keep);
  if (share(index->resident() - index->size()) > kMaxShareUnused)
    return load_all(features, model, filter, out);

  // A row deleted since embedded_rows read it is in no page: left out, and
  // the signature its deletion changed brings the next reload.
  out = {false, kept, 0};
  if (!to_read.empty()) index->reserve(to_read.size());
  features.load_vectors_of(model, to_read, [&](const ChunkVectors& page) {
    add_page(*index, page);
    out.read += page.ids.size();
  });
  return index;
}

}  // namespace twinflow
