// Reloading a model's vectors from the previous load (vector_loading.h)
// against a real database: a reload reads only the vectors that are new or
// whose row was rewritten (an UPDATE, a delete and an insert), leaves out the
// chunks no longer current, keeps the rest, and ends with exactly what a full
// load reads; when much changed it is a full load.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "store/feature_store.h"
#include "tasks/search/vector_loading.h"
#include "tests/support/bm25_corpus.h"
#include "tests/support/committed_sql.h"
#include "tests/support/twinflow_fixture.h"

namespace twinflow {
namespace {

constexpr int kDim = 4;

class VectorLoadingTest : public TwinflowTest {
 protected:
  void SetUp() override {
    TwinflowTest::SetUp();
    model = store->features().register_embedding_model("m", "builtin", kDim, "", {}, 0);
  }

  // Documents 0..count-1 of four chunks each.
  void put_documents(int first, int count, const std::string& chunker = "k1") {
    Corpus corpus(*store);
    for (int i = first; i < first + count; ++i)
      corpus.put("Ines", "https://a/" + std::to_string(i), "Title",
                 {"one " + std::to_string(i), "two", "three", "four"}, chunker);
  }

  // Embeds every current chunk without a vector: a unit vector made from
  // its id, so that each chunk's is different.
  void embed_missing() {
    std::vector<int64_t> ids;
    std::vector<float> vectors;
    for (const ChunkText& c : store->features().chunks_without_embedding(model.id, {})) {
      ids.push_back(c.id);
      const std::vector<float> v = vector_of(c.id);
      vectors.insert(vectors.end(), v.begin(), v.end());
    }
    store->features().insert_embeddings(model, ids, vectors, 0);
  }

  static std::vector<float> vector_of(int64_t id) {
    std::vector<float> v{1.0f, static_cast<float>(id % 7), static_cast<float>(id % 3), 0.5f};
    double n = 0;
    for (float x : v) n += static_cast<double>(x) * x;
    for (float& x : v) x = static_cast<float>(x / std::sqrt(n));
    return v;
  }

  std::unique_ptr<VectorIndex> load(const VectorIndex* previous, VectorLoadStats& stats) {
    return load_vector_index(store->features(), model, {}, previous, &stats);
  }

  EmbeddingModelRecord model;
};

// The same vectors (ids, row versions, floats bit for bit), in any order.
void expect_same(const VectorIndex& got, const VectorIndex& want) {
  const auto by_id = [](const VectorIndex& index) {
    std::map<int64_t, std::pair<uint32_t, std::vector<float>>> out;
    for (size_t i = 0; i < index.size(); ++i)
      out[index.id_at(i)] = {index.version_at(i),
                             std::vector<float>(index.vector_at(i), index.vector_at(i) + kDim)};
    return out;
  };
  EXPECT_EQ(got.size(), want.size());
  EXPECT_EQ(by_id(got), by_id(want));
}

TEST_F(VectorLoadingTest, NothingChangedNothingIsRead) {
  put_documents(0, 5);
  embed_missing();
  VectorLoadStats first_stats, again_stats;
  const auto first = load(nullptr, first_stats);
  EXPECT_TRUE(first_stats.full);
  EXPECT_EQ(first_stats.read, 20u);
  const auto again = load(first.get(), again_stats);
  EXPECT_FALSE(again_stats.full);
  EXPECT_EQ(again_stats.kept, 20u);
  EXPECT_EQ(again_stats.read, 0u);
  EXPECT_EQ(again->segments(), 1u);  // the first load's, shared
  expect_same(*again, *first);
}

TEST_F(VectorLoadingTest, AReloadReadsOnlyNewAndRewrittenVectorsAndEqualsAFullLoad) {
  put_documents(0, 10);
  embed_missing();
  VectorLoadStats stats;
  const auto before = load(nullptr, stats);
  ASSERT_EQ(before->size(), 40u);

  put_documents(10, 1);       // 4 new chunks
  put_documents(2, 1, "k2");  // document 2 re-chunked: 4 gone, 4 new
  embed_missing();
  const int64_t updated = before->id_at(0), reinserted = before->id_at(39);
  exec_committed(conninfo, "UPDATE embeddings SET vector = '{0,0,0,1}' WHERE chunk_id = " +
                               std::to_string(updated));
  exec_committed(conninfo, "DELETE FROM embeddings WHERE chunk_id = " + std::to_string(reinserted));
  store->features().insert_embeddings(model, {reinserted}, {0, 0, 1, 0}, 0);

  VectorLoadStats reload_stats, full_stats;
  const auto reloaded = load(before.get(), reload_stats);
  const auto full = load(nullptr, full_stats);
  EXPECT_FALSE(reload_stats.full);
  EXPECT_EQ(reload_stats.read, 10u);  // 4 + 4 new, 1 updated, 1 re-inserted
  EXPECT_EQ(reload_stats.kept, 34u);  // 40 - 4 re-chunked - 2 rewritten
  EXPECT_TRUE(full_stats.full);
  EXPECT_EQ(reloaded->segments(), 2u);  // the previous load's and what was read
  EXPECT_EQ(reloaded->resident(), 40u + 10u);
  expect_same(*reloaded, *full);
  const auto updated_vector = [&] {
    for (size_t i = 0; i < reloaded->size(); ++i)
      if (reloaded->id_at(i) == updated)
        return std::vector<float>(reloaded->vector_at(i), reloaded->vector_at(i) + kDim);
    return std::vector<float>{};
  };
  EXPECT_EQ(updated_vector(), (std::vector<float>{0, 0, 0, 1}));
  // The previous snapshot is untouched: a search still using it sees the old data.
  EXPECT_EQ(before->size(), 40u);
  EXPECT_EQ(before->id_at(0), updated);
  EXPECT_NE(before->vector_at(0)[3], 1.0f);
}

TEST_F(VectorLoadingTest, ReloadsThatLeaveTooManyVectorsUnusedStartAfresh) {
  put_documents(0, 20);  // 80 chunks
  embed_missing();
  VectorLoadStats stats;
  auto index = load(nullptr, stats);
  // Each round re-chunks one document: 4 vectors no longer searched, 4 read.
  // After five rounds the unused ones would pass a quarter: a full load.
  std::vector<bool> full;
  for (int round = 0; round < 6; ++round) {
    put_documents(round, 1, "k2");
    embed_missing();
    index = load(index.get(), stats);
    full.push_back(stats.full);
    VectorLoadStats fresh;
    expect_same(*index, *load(nullptr, fresh));
  }
  EXPECT_EQ(full, (std::vector<bool>{false, false, false, false, false, true}));
  EXPECT_EQ(index->segments(), 1u);
  EXPECT_EQ(index->resident(), 80u);
}

TEST_F(VectorLoadingTest, TheFullLoadReadsTheSameFloatsAsTheRowsByIdAndFilters) {
  put_documents(0, 3);
  Corpus(*store).put("O'Brien \\ \"x\"", "https://b/1", "Title", {"alpha", "beta"});
  embed_missing();
  // The full load (binary COPY) against the rows read by id (text).
  const ChunkVectors all = store->features().load_vectors(model, {});
  ASSERT_EQ(all.ids.size(), 14u);
  std::vector<int64_t> ids = all.ids;
  ChunkVectors by_id;
  store->features().load_vectors_of(model, ids, [&](const ChunkVectors& page) {
    by_id.ids.insert(by_id.ids.end(), page.ids.begin(), page.ids.end());
    by_id.versions.insert(by_id.versions.end(), page.versions.begin(), page.versions.end());
    by_id.data.insert(by_id.data.end(), page.data.begin(), page.data.end());
  });
  EXPECT_EQ(by_id.ids, all.ids);
  EXPECT_EQ(by_id.versions, all.versions);
  EXPECT_EQ(by_id.data, all.data);
  // A filter value with quotes and a backslash selects its author only.
  const ChunkVectors obrien = store->features().load_vectors(model, {"O'Brien \\ \"x\"", "", ""});
  EXPECT_EQ(obrien.ids.size(), 2u);
  EXPECT_TRUE(store->features().load_vectors(model, {"O'Brien", "", ""}).ids.empty());
}

TEST_F(VectorLoadingTest, WhenMoreThanAQuarterChangedAFullLoadGoes) {
  put_documents(0, 4);
  embed_missing();
  VectorLoadStats stats;
  const auto before = load(nullptr, stats);
  put_documents(0, 2, "k2");  // half of the chunks replaced
  embed_missing();
  const auto after = load(before.get(), stats);
  EXPECT_TRUE(stats.full);
  EXPECT_EQ(stats.read, 16u);
  VectorLoadStats full_stats;
  expect_same(*after, *load(nullptr, full_stats));
}

}  // namespace
}  // namespace twinflow
