// The feature store's tables and Store operations against a real PostgreSQL:
// document versioning, cleaning and chunk bookkeeping, the database's own
// checks on embeddings, full-text search and vector loading.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "store/feature_store.h"
#include "store/store.h"
#include "tasks/embed/text_embedder.h"
#include "tests/support/twinflow_fixture.h"
#include "util/error.h"
#include "util/sha256.h"

namespace twinflow {
namespace {

class FeatureStoreTest : public TwinflowTest {
 protected:
  DocumentToStore doc(const std::string& url, const std::string& content) {
    DocumentToStore d;
    d.author = "Ines";
    d.platform = "medium";
    d.kind = "article";
    d.url = url;
    d.title = "A title";
    d.content = content;
    d.published_at = "2024-03-05";
    d.etag = "\"v1\"";
    return d;
  }

  // A document cleaned and chunked into `pieces`; returns the cleaned record.
  CleanedDocumentRecord chunked(const std::string& url, const std::vector<std::string>& pieces) {
    std::string content;
    for (const auto& p : pieces) content += p + "\n\n";
    store->features().upsert_document(doc(url, content));
    for (const auto& d : store->features().documents_to_clean("Ines", "c1"))
      store->features().insert_cleaned_document(d.id, "c1", d.content, 0);
    for (const auto& k : store->features().documents_to_chunk("Ines", "c1", "k1")) {
      if (k.url != url) continue;
      std::vector<ChunkToStore> rows;
      int position = 0;
      for (const auto& p : pieces) {
        rows.push_back({url + "#" + std::to_string(position) + p, position, 0, 1, p});
        ++position;
      }
      store->features().replace_current_chunks(k, "k1", "article", rows, 0);
      return k;
    }
    ADD_FAILURE() << "nothing to chunk for " << url;
    return {};
  }

  // The ids of the chunks BM25 ranks for `query`, best first.
  std::vector<int64_t> search(const std::string& query, const ChunkFilter& filter) {
    std::vector<int64_t> ids;
    for (const Bm25Hit& hit : store->features().bm25_search(query, filter, 10, {}).hits)
      ids.push_back(hit.id);
    return ids;
  }

  EmbeddingModelRecord model(int dimension) {
    return store->features().register_embedding_model("m", "builtin", dimension, "", {}, 0);
  }
};

TEST_F(FeatureStoreTest, ChangedContentIsANewVersionAndTheOldOneIsKept) {
  auto first = store->features().upsert_document(doc("https://a/1", "one"));
  EXPECT_EQ(first.change, "new");
  EXPECT_EQ(first.version, 1);
  auto same = store->features().upsert_document(doc("https://a/1", "one"));
  EXPECT_EQ(same.change, "unchanged");
  EXPECT_EQ(same.id, first.id);
  auto changed = store->features().upsert_document(doc("https://a/1", "two"));
  EXPECT_EQ(changed.change, "changed");
  EXPECT_EQ(changed.version, 2);
  EXPECT_NE(changed.id, first.id);

  auto latest = store->features().latest_documents("Ines");
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].content, "two");
  EXPECT_EQ(latest[0].published_at, "2024-03-05T00:00:00Z");
  auto old = store->features().find_document(first.id);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->content, "one");
  EXPECT_EQ(store->features().feature_counts("Ines", "m").document_versions, 2);
}

TEST_F(FeatureStoreTest, ValidatorsAreKeptForConditionalRequests) {
  store->features().upsert_document(doc("https://a/1", "one"));
  auto validators =
      store->features().document_validators("Ines", {"https://a/1", "https://a/missing"});
  ASSERT_EQ(validators.size(), 1u);
  EXPECT_EQ(validators["https://a/1"].etag, "\"v1\"");
  auto checked = store->features().mark_documents_checked("Ines", {"https://a/1"});
  EXPECT_EQ(checked.size(), 1u);
}

TEST_F(FeatureStoreTest, OnlyUncleanedAndUnchunkedDocumentsAreReturned) {
  store->features().upsert_document(doc("https://a/1", "one"));
  store->features().upsert_document(doc("https://a/2", "two"));
  auto to_clean = store->features().documents_to_clean("Ines", "c1");
  ASSERT_EQ(to_clean.size(), 2u);
  store->features().insert_cleaned_document(to_clean[0].id, "c1", "one", 0);
  EXPECT_EQ(store->features().documents_to_clean("Ines", "c1").size(), 1u);
  EXPECT_EQ(store->features().documents_to_clean("Ines", "other cleaner").size(), 2u);
  EXPECT_EQ(store->features().documents_to_clean("Someone else", "c1").size(), 0u);

  auto to_chunk = store->features().documents_to_chunk("Ines", "c1", "k1");
  ASSERT_EQ(to_chunk.size(), 1u);
  store->features().replace_current_chunks(to_chunk[0], "k1", "article",
                                           {{"key-1", 0, 0, 3, "one"}}, 0);
  EXPECT_TRUE(store->features().documents_to_chunk("Ines", "c1", "k1").empty());
}

TEST_F(FeatureStoreTest, ANewVersionsChunksReplaceTheOldOnesInSearch) {
  chunked("https://a/1", {"pipelines orchestrate steps"});
  ASSERT_EQ(search("pipelines", {}).size(), 1u);
  chunked("https://a/1", {"vector search with embeddings"});  // version 2
  EXPECT_TRUE(search("pipelines", {}).empty());
  auto hits = search("embeddings", {});
  ASSERT_EQ(hits.size(), 1u);
  auto details = store->features().chunk_details({hits[0]});
  ASSERT_EQ(details.size(), 1u);
  EXPECT_EQ(details[0].document_version, 2);
  EXPECT_EQ(store->features().current_chunks({}).size(), 1u);
}

TEST_F(FeatureStoreTest, TextSearchMatchesAnyTermAndRespectsFilters) {
  chunked("https://a/1", {"retrieval augmented generation", "fine tuning with LoRA adapters"});
  // One word the corpus never uses does not hide the matching documents.
  auto hits = search("LoRA zebra", {});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(store->features().chunk_details({hits[0]})[0].content,
            "fine tuning with LoRA adapters");
  EXPECT_TRUE(search("LoRA", {"Someone else", "", ""}).empty());
  EXPECT_TRUE(search("LoRA", {"", "code", ""}).empty());
  EXPECT_EQ(search("LoRA", {"Ines", "article", "medium"}).size(), 1u);
}

TEST_F(FeatureStoreTest, EmbeddingsRoundTripAndTheDatabaseChecksTheirShape) {
  chunked("https://a/1", {"alpha", "beta"});
  auto chunks = store->features().current_chunks({});
  ASSERT_EQ(chunks.size(), 2u);
  auto m = model(2);
  EXPECT_EQ(m.version, 1);
  EXPECT_EQ(store->features().chunks_without_embedding(m.id, {}).size(), 2u);
  const float s = 1.0f / std::sqrt(2.0f);
  store->features().insert_embeddings(m, {chunks[0].id}, {s, s}, 0);
  EXPECT_EQ(store->features().chunks_without_embedding(m.id, {}).size(), 1u);
  auto loaded = store->features().load_vectors(m, {});
  ASSERT_EQ(loaded.ids.size(), 1u);
  EXPECT_FLOAT_EQ(loaded.data[0], s);
  EXPECT_FLOAT_EQ(loaded.data[1], s);

  // Not unit length: refused by the writer, which names the chunk and the
  // norm, and nothing is stored.
  try {
    store->features().insert_embeddings(m, {chunks[1].id}, {3.0f, 4.0f}, 0);
    ADD_FAILURE() << "a vector of norm 5 was stored";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("chunk " + std::to_string(chunks[1].id) + " has norm 5"),
              std::string::npos)
        << e.what();
  }
  // A vector of another model's dimension: refused by the foreign key.
  auto m3 = store->features().register_embedding_model("m", "builtin", 3, "", {}, 0);
  EXPECT_EQ(m3.version, 2);
  EmbeddingModelRecord lying = m3;
  lying.dimension = 2;
  EXPECT_THROW(store->features().insert_embeddings(lying, {chunks[1].id}, {1.0f, 0.0f}, 0), Error);
  EXPECT_EQ(store->features().chunks_without_embedding(m.id, {}).size(), 1u);
  EXPECT_EQ(store->features().current_embedding_model("m")->version, 2);
}

// Every chunk is embedded with its document's title (embedding_text), so each
// read the embed step makes brings the title along.
TEST_F(FeatureStoreTest, ChunksToEmbedComeWithTheirDocumentsTitle) {
  chunked("https://a/1", {"alpha", "beta"});
  const auto m = model(2);
  const std::vector<ChunkText> waiting = store->features().chunks_to_embed(m, {}, 0, 100).chunks;
  ASSERT_EQ(waiting.size(), 2u);
  for (const ChunkText& c : waiting) EXPECT_EQ(c.title, "A title");
  EXPECT_EQ(embedding_text(waiting[1]), "A title\n\nbeta");
  const std::vector<ChunkText> sample = store->features().current_chunks_sample({}, 10);
  ASSERT_EQ(sample.size(), 2u);
  EXPECT_EQ(sample[0].title, "A title");
  EXPECT_EQ(store->features().chunks_without_embedding(m.id, {}).at(0).title, "A title");
  EXPECT_EQ(embedding_text(ChunkText{1, "only text", ""}), "only text");
}

// Migration 0026: the embed step reads the chunks waiting for the latest
// model version instead of looking at every chunk.
TEST_F(FeatureStoreTest, ChunksWaitForTheLatestModelVersionUntilEmbedded) {
  chunked("https://a/1", {"alpha", "beta"});
  auto waiting = [&](const EmbeddingModelRecord& m) {
    std::vector<int64_t> ids;
    for (const ChunkText& c : store->features().chunks_to_embed(m, {}, 0, 100).chunks)
      ids.push_back(c.id);
    return ids;
  };
  auto queued = [&](int64_t chunk_id) {
    pqxx::connection c(conninfo);
    return pqxx::nontransaction(c)
        .exec_params1("SELECT count(*) FROM embedding_queue WHERE chunk_id = $1", chunk_id)[0]
        .as<int>();
  };
  const auto v1 = model(2);  // registered after the chunks: they wait for it
  const auto chunks = store->features().current_chunks({});
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(waiting(v1), (std::vector<int64_t>{chunks[0].id, chunks[1].id}));
  const float s = 1.0f / std::sqrt(2.0f);
  store->features().insert_embeddings(v1, {chunks[0].id}, {s, s}, 0);
  EXPECT_EQ(waiting(v1), std::vector<int64_t>{chunks[1].id});
  EXPECT_EQ(queued(chunks[0].id), 0);

  // A chunk written later waits too; paging goes by id.
  chunked("https://a/2", {"gamma"});
  const auto all = store->features().current_chunks({});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(waiting(v1), (std::vector<int64_t>{chunks[1].id, all[2].id}));
  EXPECT_EQ(store->features().chunks_to_embed(v1, {}, chunks[1].id, 100).chunks.size(), 1u);

  // A new version: every current chunk waits for it, none for the old one.
  const auto v2 = store->features().register_embedding_model("m", "builtin", 2, "", {}, 0);
  EXPECT_TRUE(waiting(v1).empty());
  EXPECT_EQ(waiting(v2).size(), 3u);

  // A chunk no longer current is not read, and the sweep takes it off; made
  // current again without an embedding, it waits again.
  {
    pqxx::connection c(conninfo);
    pqxx::nontransaction(c).exec_params("UPDATE chunks SET is_current = false WHERE id = $1",
                                        all[2].id);
  }
  EXPECT_EQ(waiting(v2).size(), 2u);
  EXPECT_EQ(store->features().sweep_embedding_queue(v2), 1);
  EXPECT_EQ(queued(all[2].id), 0);
  {
    pqxx::connection c(conninfo);
    pqxx::nontransaction(c).exec_params("UPDATE chunks SET is_current = true WHERE id = $1",
                                        all[2].id);
  }
  EXPECT_EQ(queued(all[2].id), 1);
  EXPECT_EQ(waiting(v2).size(), 3u);
  EXPECT_EQ(store->features().sweep_embedding_queue(v2), 0);
}

// A page is read from the queue, then its chunks: a page of queued chunks that
// the filter leaves out comes back empty, and the cursor goes on past it.
TEST_F(FeatureStoreTest, APageToEmbedPassesOverQueuedChunksTheFilterLeavesOut) {
  chunked("https://a/1", {"alpha", "beta", "gamma"});
  chunked("https://a/2", {"delta", "epsilon"});
  {
    pqxx::connection c(conninfo);
    pqxx::nontransaction(c).exec(
        "UPDATE documents SET platform = 'substack' WHERE url = 'https://a/1'");
  }
  const auto m = model(2);
  const ChunkFilter medium{"", "", "medium"};
  std::vector<std::string> read;
  int pages = 0, empty_pages = 0;
  for (int64_t after = 0;;) {
    const EmbedPage page = store->features().chunks_to_embed(m, medium, after, 1);
    if (page.last_queued == 0) {
      EXPECT_TRUE(page.chunks.empty());
      break;
    }
    ++pages;
    EXPECT_GT(page.last_queued, after);
    ASSERT_LE(page.chunks.size(), 1u);
    if (page.chunks.empty()) ++empty_pages;
    for (const ChunkText& c : page.chunks) {
      EXPECT_EQ(c.id, page.last_queued);
      read.push_back(c.content);
    }
    after = page.last_queued;
  }
  EXPECT_EQ(read, (std::vector<std::string>{"delta", "epsilon"}));
  EXPECT_EQ(pages, 5);
  EXPECT_EQ(empty_pages, 3);
  const EmbedPage all = store->features().chunks_to_embed(m, {}, 0, 100);
  EXPECT_EQ(all.chunks.size(), 5u);
  EXPECT_EQ(all.last_queued, all.chunks.back().id);
  EXPECT_EQ(store->features().chunks_to_embed(m, {}, 0, 4).chunks.size(), 4u);
  EXPECT_EQ(store->features().chunks_to_embed(m, {}, all.last_queued, 100).last_queued, 0);
}

// The data steps' manifests digest the ids the database holds as a walk of
// them in C++ would: each id, ascending, a field of its decimal text.
TEST_F(FeatureStoreTest, TheChunkDigestsAreTheFieldDigestsOfTheIdsInOrder) {
  chunked("https://a/1", {"alpha", "beta", "gamma"});
  chunked("https://a/2", {"delta"});
  const std::vector<int64_t> ids = store->features().current_chunk_ids({});
  ASSERT_EQ(ids.size(), 4u);
  const auto m = model(2);
  store->features().insert_embeddings(m, {ids[0], ids[2]}, {0.6f, 0.8f, 1.0f, 0.0f}, 0);
  auto digest = [](const std::vector<int64_t>& of) {
    Sha256 h;
    for (int64_t id : of) h.field(std::to_string(id));
    return h.hex_digest();
  };

  const IdDigest current = store->features().current_chunks_digest({});
  EXPECT_EQ(current.count, 4);
  EXPECT_EQ(current.sha256, digest(ids));
  const IdDigest embedded = store->features().embedded_chunks_digest(m, {});
  EXPECT_EQ(embedded.count, 2);
  EXPECT_EQ(embedded.sha256, digest({ids[0], ids[2]}));
  const IdDigest none = store->features().current_chunks_digest({"nobody", "", ""});
  EXPECT_EQ(none.count, 0);
  EXPECT_EQ(none.sha256, digest({}));
  // Ids of different lengths: the length prefix is the digit count.
  {
    pqxx::connection c(conninfo);
    pqxx::nontransaction(c).exec_params("UPDATE chunks SET id = id + 100000 WHERE id = $1", ids[3]);
  }
  EXPECT_EQ(store->features().current_chunks_digest({}).sha256,
            digest({ids[0], ids[1], ids[2], ids[3] + 100000}));
}

// The signature a server checks before reloading its vectors moves with
// every commit that changes what a search reads, in whatever order the
// writers began, and stays when nothing changed or the change log is folded.
TEST_F(FeatureStoreTest, TheVectorsSignatureMovesWithEveryCommitThatChangesWhatASearchReads) {
  const auto m = model(2);
  FeatureStore features = store->features();
  const std::string empty = features.vectors_signature(m, {});
  chunked("https://a/1", {"alpha", "beta"});
  const std::string chunked_once = features.vectors_signature(m, {});
  EXPECT_NE(chunked_once, empty);

  // Statements that change no row, or no column a search reads (a re-check
  // of an unchanged page).
  pqxx::connection c(conninfo);
  pqxx::nontransaction(c).exec("INSERT INTO documents SELECT * FROM documents WHERE false");
  pqxx::nontransaction(c).exec("UPDATE documents SET is_latest = is_latest, checked_at = now()");
  pqxx::nontransaction(c).exec("DELETE FROM embeddings WHERE false");
  EXPECT_EQ(features.vectors_signature(m, {}), chunked_once);
  EXPECT_EQ(store->features().upsert_document(doc("https://a/1", "alpha\n\nbeta\n\n")).change,
            "unchanged");
  EXPECT_EQ(features.vectors_signature(m, {}), chunked_once);

  // A writer that began first and commits last still moves the signature
  // that a reader took after the other writer's commit.
  const auto ids = features.current_chunk_ids({});
  ASSERT_EQ(ids.size(), 2u);
  pqxx::connection early_connection(conninfo);
  pqxx::work early(early_connection);
  early.exec_params("UPDATE chunks SET is_current = false WHERE id = $1", ids[0]);
  features.insert_embeddings(m, {ids[1]}, {0.6f, 0.8f}, 0);
  const std::string before_early_commit = features.vectors_signature(m, {});
  EXPECT_NE(before_early_commit, chunked_once);
  early.commit();
  const std::string after_early_commit = features.vectors_signature(m, {});
  EXPECT_NE(after_early_commit, before_early_commit);

  // Folding the log keeps the signature, and empties the log.
  features.refresh_feature_statistics(FeatureStore::Statistics::kEmbeddings);
  EXPECT_EQ(features.vectors_signature(m, {}), after_early_commit);
  EXPECT_EQ(pqxx::nontransaction(c).exec1("SELECT count(*) FROM feature_changes")[0].as<int>(), 0);
  chunked("https://a/2", {"gamma"});
  EXPECT_NE(features.vectors_signature(m, {}), after_early_commit);
}

// A model version registered while a chunk writer's transaction is open waits
// for it (the SHARE lock on chunks), so the chunk is not missed: its insert
// trigger ran before the version existed, and the registration queues it.
TEST_F(FeatureStoreTest, AChunkWrittenWhileAModelIsRegisteredWaitsForIt) {
  chunked("https://a/1", {"alpha"});
  pqxx::connection writer(conninfo);
  pqxx::work tx(writer);
  tx.exec(
      "INSERT INTO chunks (chunk_key, cleaned_document_id, document_id, chunker, kind, position, "
      "start_offset, end_offset, content) "
      "SELECT 'late', k.id, k.document_id, 'k1', 'article', 9, 0, 1, 'late words' "
      "FROM cleaned_documents k");
  EmbeddingModelRecord registered;
  std::thread registering([&] {
    Store other(conninfo);
    registered = other.features().register_embedding_model("m", "builtin", 2, "", {}, 0);
  });
  pqxx::connection watcher(conninfo);
  bool waited = false;
  for (int i = 0; i < 200 && !waited; ++i) {
    waited = pqxx::nontransaction(watcher)
                 .exec1(
                     "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                     "WHERE c.relname = 'chunks' AND NOT l.granted")[0]
                 .as<int>() > 0;
    if (!waited) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(waited) << "the registration did not wait for the chunk writer";
  tx.commit();
  registering.join();
  EXPECT_EQ(store->features().chunks_to_embed(registered, {}, 0, 100).chunks.size(), 2u);
}

TEST_F(FeatureStoreTest, VectorsLoadPageByPageInChunkOrder) {
  chunked("https://a/1", {"alpha", "beta", "gamma", "delta", "epsilon"});
  auto chunks = store->features().current_chunks({});
  ASSERT_EQ(chunks.size(), 5u);
  auto m = model(2);
  std::vector<int64_t> ids;
  std::vector<float> vectors;
  for (const auto& c : chunks) {
    ids.push_back(c.id);
    vectors.insert(vectors.end(), {1.0f, 0.0f});
  }
  store->features().insert_embeddings(m, ids, vectors, 0);
  std::vector<size_t> pages;
  std::vector<int64_t> seen;
  store->features().load_vectors(
      m, {},
      [&](const ChunkVectors& page) {
        pages.push_back(page.ids.size());
        EXPECT_EQ(page.data.size(), page.ids.size() * 2);
        seen.insert(seen.end(), page.ids.begin(), page.ids.end());
      },
      2);
  EXPECT_EQ(pages, (std::vector<size_t>{2, 2, 1}));
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(seen, ids);
  EXPECT_EQ(store->features().load_vectors(m, {}).ids, ids);
}

}  // namespace
}  // namespace twinflow
