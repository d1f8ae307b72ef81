// The approximate vector index (IVF lists in PostgreSQL, migration 0017;
// tasks/search/ivf*.h) against a real database: on a seeded clustered set
// its recall@10 against exact search is >= 0.95 with the default probes;
// embeddings written after the build are assigned by the next search and
// found; chunks that stop being searchable (re-chunked, deleted) or outside
// the filter are not returned; and k-means itself is seeded (same centroids
// for the same seed).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include <pqxx/pqxx>

#include "store/feature_store.h"
#include "tasks/search/ivf_search.h"
#include "tests/support/twinflow_fixture.h"
#include "util/error.h"

namespace twinflow {
namespace {

constexpr int kDim = 16;

// Clustered unit vectors: 40 random centres, each vector a centre plus
// noise, as embeddings of a corpus with topics are.
class ClusteredVectors {
 public:
  explicit ClusteredVectors(uint64_t seed) : random_(seed) {
    std::normal_distribution<float> normal;
    for (int c = 0; c < 40; ++c) {
      std::vector<float> centre(kDim);
      for (float& x : centre) x = normal(random_);
      centres_.push_back(unit(centre));
    }
  }
  std::vector<float> next() {
    std::normal_distribution<float> noise(0, 0.2f);
    std::vector<float> v = centres_[random_() % centres_.size()];
    for (float& x : v) x += noise(random_);
    return unit(v);
  }
  static std::vector<float> unit(std::vector<float> v) {
    double n = 0;
    for (float x : v) n += static_cast<double>(x) * x;
    for (float& x : v) x = static_cast<float>(x / std::sqrt(n));
    return v;
  }

 private:
  std::mt19937_64 random_;
  std::vector<std::vector<float>> centres_;
};

float dot(const std::vector<float>& a, const float* b) {
  float s = 0;
  for (int i = 0; i < kDim; ++i) s += a[i] * b[i];
  return s;
}

class VectorIndexSearchTest : public TwinflowTest {
 protected:
  // `documents` documents of `per_document` chunks for `author`; returns
  // the new current chunk ids.
  std::vector<int64_t> chunks(const std::string& author, int documents, int per_document,
                              const std::string& chunker = "k1") {
    for (int d = 0; d < documents; ++d) {
      DocumentToStore doc;
      doc.author = author;
      doc.platform = "web";
      doc.kind = "article";
      doc.url = "https://" + author + "/" + std::to_string(d);
      doc.title = "Doc " + std::to_string(d);
      doc.content = "content of " + doc.url;
      store->features().upsert_document(doc);
    }
    for (const auto& doc : store->features().documents_to_clean(author, "c1"))
      store->features().insert_cleaned_document(doc.id, "c1", doc.content, 0);
    std::vector<int64_t> before = store->features().current_chunk_ids({author, "", ""});
    for (const auto& k : store->features().documents_to_chunk(author, "c1", chunker)) {
      std::vector<ChunkToStore> rows;
      for (int i = 0; i < per_document; ++i)
        rows.push_back({chunker + k.url + "#" + std::to_string(i), i, 0, 1,
                        "words of chunk " + std::to_string(i)});
      store->features().replace_current_chunks(k, chunker, "article", rows, 0);
    }
    std::vector<int64_t> after = store->features().current_chunk_ids({author, "", ""});
    std::vector<int64_t> fresh;
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                        std::back_inserter(fresh));
    return fresh;
  }

  void embed(const std::vector<int64_t>& ids, ClusteredVectors& source) {
    std::vector<float> data;
    for (int64_t id : ids) {
      const std::vector<float> v = source.next();
      data.insert(data.end(), v.begin(), v.end());
      vectors_[id] = v;
    }
    store->features().insert_embeddings(model_, ids, data, 0);
  }

  // Exact top-k over the vectors of `ids`.
  std::vector<int64_t> exact(const std::vector<float>& q, const std::vector<int64_t>& ids,
                             size_t k) {
    std::vector<std::pair<float, int64_t>> scored;
    for (int64_t id : ids) scored.emplace_back(-dot(q, vectors_[id].data()), id);
    std::sort(scored.begin(), scored.end());
    std::vector<int64_t> out;
    for (size_t i = 0; i < std::min(k, scored.size()); ++i) out.push_back(scored[i].second);
    return out;
  }

  EmbeddingModelRecord model_;
  std::map<int64_t, std::vector<float>> vectors_;
};

TEST_F(VectorIndexSearchTest, RecallAtTenAgainstExactSearchIsAtLeastNinetyFivePercent) {
  model_ = store->features().register_embedding_model("m", "builtin", kDim, "", {}, 0);
  ClusteredVectors source(3);
  const std::vector<int64_t> ids = chunks("ann", 20, 100);
  ASSERT_EQ(ids.size(), 2000u);
  embed(ids, source);
  const auto built = build_vector_index(store->features(), model_);
  ASSERT_TRUE(built);
  EXPECT_EQ(built->vectors, 2000);
  EXPECT_EQ(built->lists, default_ivf_lists(2000));

  IvfState state;
  std::vector<std::string> notes;
  ASSERT_TRUE(prepare_ivf(store->features(), model_, state, notes));
  EXPECT_TRUE(notes.empty());  // built already: nothing to do
  double recall = 0;
  const int queries = 50;
  for (int i = 0; i < queries; ++i) {
    const std::vector<float> q = source.next();
    const auto truth = exact(q, ids, 10);
    const auto hits = ivf_top_k(store->features(), model_, state, q, 10, {});
    ASSERT_EQ(hits.size(), 10u);
    for (size_t j = 1; j < hits.size(); ++j) EXPECT_GE(hits[j - 1].score, hits[j].score);
    int found = 0;
    for (const IvfHit& h : hits) found += std::count(truth.begin(), truth.end(), h.id) > 0;
    recall += found / 10.0;
  }
  EXPECT_GE(recall / queries, 0.95);
  // Probing every list is exact.
  const std::vector<float> q = source.next();
  const auto all = ivf_top_k(store->features(), model_, state, q, 10, {}, state.centroids.lists);
  const auto truth = exact(q, ids, 10);
  ASSERT_EQ(all.size(), truth.size());
  for (size_t j = 0; j < all.size(); ++j) EXPECT_EQ(all[j].id, truth[j]);
}

TEST_F(VectorIndexSearchTest, NewEmbeddingsAreAssignedAndUnsearchableChunksLeftOut) {
  model_ = store->features().register_embedding_model("m", "builtin", kDim, "", {}, 0);
  ClusteredVectors source(5);
  const std::vector<int64_t> ann = chunks("ann", 10, 50);
  embed(ann, source);
  ASSERT_TRUE(build_vector_index(store->features(), model_, 16));

  // Written after the build: pending until a search assigns it.
  const std::vector<int64_t> bob = chunks("bob", 2, 10);
  embed(bob, source);
  {
    pqxx::connection c(conninfo);
    pqxx::nontransaction tx(c);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM vector_pending")[0].as<int>(), 20);
  }
  IvfState state;
  std::vector<std::string> notes;
  ASSERT_TRUE(prepare_ivf(store->features(), model_, state, notes));
  {
    pqxx::connection c(conninfo);
    pqxx::nontransaction tx(c);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM vector_pending")[0].as<int>(), 0);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM vector_lists")[0].as<int>(), 520);
  }
  for (int64_t id : bob) {
    const auto hits = ivf_top_k(store->features(), model_, state, vectors_[id], 1, {});
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].id, id);
    EXPECT_NEAR(hits[0].score, 1.0, 1e-5);
  }
  // The filter: only bob's chunks for bob.
  const auto only_bob =
      ivf_top_k(store->features(), model_, state, vectors_[ann[0]], 50, {"bob", "", ""});
  EXPECT_EQ(only_bob.size(), 20u);  // fewer than k in the probed lists: every list is probed
  for (const IvfHit& h : only_bob) EXPECT_TRUE(std::count(bob.begin(), bob.end(), h.id)) << h.id;

  // Re-chunking bob's documents makes the old chunks non-current: not found.
  chunks("bob", 2, 10, "k2");
  for (const IvfHit& h : ivf_top_k(store->features(), model_, state, vectors_[bob[0]], 600, {}))
    EXPECT_FALSE(std::count(bob.begin(), bob.end(), h.id)) << h.id;
  // Deleting ann's documents deletes their list entries with the embeddings.
  {
    pqxx::connection c(conninfo);
    pqxx::work tx(c);
    tx.exec("DELETE FROM documents WHERE author = 'ann'");
    tx.commit();
  }
  {
    pqxx::connection c(conninfo);
    pqxx::nontransaction tx(c);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM vector_lists")[0].as<int>(), 20);
  }
  EXPECT_TRUE(ivf_top_k(store->features(), model_, state, vectors_[ann[0]], 10, {}).empty());
}

// Codes are stored as base64 text (migration 0030) that PostgreSQL decodes
// itself to whole entries (chunk id, scale, int4 code); a block that is not
// base64 of whole entries stops the search with a clear error.
TEST_F(VectorIndexSearchTest, CodesAreBase64OfWholeEntriesAndACorruptBlockIsAClearError) {
  model_ = store->features().register_embedding_model("m", "builtin", kDim, "", {}, 0);
  ClusteredVectors source(9);
  const std::vector<int64_t> ids = chunks("ann", 10, 30);
  embed(ids, source);
  ASSERT_TRUE(build_vector_index(store->features(), model_, 8));
  {
    pqxx::connection c(conninfo);
    pqxx::nontransaction tx(c);
    EXPECT_EQ(tx.exec1("SELECT sum(length(decode(entries, 'base64'))) FROM vector_codes")[0]
                  .as<int64_t>(),
              static_cast<int64_t>(ids.size()) * (8 + 4 + kDim / 2));
  }
  IvfState state;
  std::vector<std::string> notes;
  ASSERT_TRUE(prepare_ivf(store->features(), model_, state, notes));
  ASSERT_EQ(ivf_top_k(store->features(), model_, state, vectors_[ids[0]], 1, {}, 8)[0].id, ids[0]);
  for (const char* bad : {"not base64!", "AAAA", "QUJD=EFC"}) {
    {
      pqxx::connection c(conninfo);
      pqxx::work tx(c);
      tx.exec_params(
          "UPDATE vector_codes SET entries = $1 WHERE block = (SELECT min(block) FROM "
          "vector_codes)",
          std::string(bad));
      tx.commit();
    }
    try {
      ivf_top_k(store->features(), model_, state, vectors_[ids[0]], 1, {}, 8);
      ADD_FAILURE() << bad << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("a block of codes is malformed"), std::string::npos)
          << e.what();
    }
  }
}

TEST_F(VectorIndexSearchTest, FewVectorsAreSearchedExactly) {
  model_ = store->features().register_embedding_model("m", "builtin", kDim, "", {}, 0);
  ClusteredVectors source(7);
  embed(chunks("ann", 2, 10), source);
  IvfState state;
  std::vector<std::string> notes;
  EXPECT_FALSE(prepare_ivf(store->features(), model_, state, notes));  // < kMinIndexedVectors
  pqxx::connection c(conninfo);
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM vector_indexes")[0].as<int>(), 0);
}

TEST(IvfTraining, TheSameSeedGivesTheSameCentroids) {
  ClusteredVectors source(9);
  std::vector<float> data;
  for (int i = 0; i < 500; ++i) {
    const auto v = source.next();
    data.insert(data.end(), v.begin(), v.end());
  }
  const IvfCentroids a = train_ivf(data.data(), 500, kDim, 12, 5, 42);
  const IvfCentroids b = train_ivf(data.data(), 500, kDim, 12, 5, 42);
  EXPECT_EQ(a.data, b.data);
  for (int l = 0; l < a.lists; ++l) {
    double n = 0;
    for (int i = 0; i < kDim; ++i) n += static_cast<double>(a.row(l)[i]) * a.row(l)[i];
    EXPECT_NEAR(n, 1.0, 1e-5);
  }
  EXPECT_THROW(train_ivf(data.data(), 5, kDim, 12, 5, 42), Error);
}

}  // namespace
}  // namespace twinflow
