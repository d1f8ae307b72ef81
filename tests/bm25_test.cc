// Text ranking by Okapi BM25F against a real PostgreSQL (Store::bm25_search,
// migration 0012): scores equal hand-computed ones on a tiny corpus, a title
// word finds a chunk whose body lacks it, any word of a long query matches,
// statistics follow the search's scope, and after incremental re-chunking, new
// document versions, deletes and concurrent writers the statistics and
// scores equal those of a database loaded from scratch with the final chunks.
// The Retriever and `twinflow search` answer awkward queries (empty store,
// empty query, stop words only, 1 MB) with notes, never an exception, and an
// expanded query (RM3) reaches chunks that share the best hit's words.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include <pqxx/pqxx>

#include "store/bm25_postings.h"
#include "store/bytea_text.h"
#include "store/feature_store.h"
#include "tasks/search/retriever.h"
#include "tests/support/bm25_corpus.h"
#include "tests/support/test_database.h"
#include "tests/support/twinflow_fixture.h"
#include "util/error.h"

namespace twinflow {
namespace {

// Differences between the kept statistics and postings and a count from
// scratch of the searchable chunks (0 when they agree), and the number of
// counted chunks.
std::pair<int64_t, int64_t> statistics_drift(const std::string& conninfo) {
  pqxx::connection c(conninfo);
  pqxx::nontransaction tx(c);
  auto row = tx.exec1(R"(
    WITH live AS (SELECT c.id, to_tsvector('english', c.content) AS tsv, d.author, d.platform,
                         c.kind,
                         to_tsvector('english', d.title) AS title
                    FROM chunks c JOIN documents d ON d.id = c.document_id
                   WHERE c.is_current AND d.is_latest),
    fresh AS (SELECT u.lexeme, l.author, l.platform, l.kind, count(*) AS n
                FROM live l, unnest(l.tsv || l.title) u GROUP BY 1, 2, 3, 4),
    kept AS (SELECT t.lexeme, s.author, s.platform, s.kind, t.chunks AS n
               FROM bm25_terms t JOIN bm25_scopes s ON s.id = t.scope_id),
    tot_fresh AS (SELECT author, platform, kind, count(*) AS n,
                         sum(twinflow_tsvector_length(tsv)) AS bl,
                         sum(twinflow_tsvector_length(title)) AS tl FROM live GROUP BY 1, 2, 3),
    tot_kept AS (SELECT author, platform, kind, chunks, body_length, title_length
                   FROM bm25_scopes WHERE chunks > 0),
    post_fresh AS (SELECT x.lexeme, l.author, l.platform, l.kind, l.id,
                          sum(x.body)::integer, sum(x.title)::integer,
                          max(twinflow_tsvector_length(l.tsv)),
                          max(twinflow_tsvector_length(l.title))
                     FROM live l,
                          LATERAL (SELECT u.lexeme, coalesce(array_length(u.positions, 1), 1)
                                          AS body, 0 AS title FROM unnest(l.tsv) u
                                   UNION ALL
                                   SELECT u.lexeme, 0, coalesce(array_length(u.positions, 1), 1)
                                     FROM unnest(l.title) u) x
                    GROUP BY 1, 2, 3, 4, 5),
    post_kept AS (SELECT p.lexeme, s.author, s.platform, s.kind, p.chunk_id, p.body_tf,
                         p.title_tf, p.body_length, p.title_length
                    FROM bm25_postings p JOIN bm25_scopes s ON s.id = p.scope_id)
    SELECT (SELECT count(*) FROM ((SELECT * FROM fresh EXCEPT SELECT * FROM kept)
                                  UNION ALL (SELECT * FROM kept EXCEPT SELECT * FROM fresh)) x)
         + (SELECT count(*) FROM ((SELECT * FROM tot_fresh EXCEPT SELECT * FROM tot_kept)
                                  UNION ALL (SELECT * FROM tot_kept EXCEPT SELECT * FROM tot_fresh)) y)
         + (SELECT count(*) FROM ((SELECT id FROM live EXCEPT SELECT chunk_id FROM bm25_chunks)
                                  UNION ALL (SELECT chunk_id FROM bm25_chunks
                                             EXCEPT SELECT id FROM live)) z)
         + (SELECT count(*) FROM ((SELECT * FROM post_fresh EXCEPT SELECT * FROM post_kept)
                                  UNION ALL (SELECT * FROM post_kept
                                             EXCEPT SELECT * FROM post_fresh)) p),
           (SELECT count(*) FROM bm25_chunks))");
  return {row[0].as<int64_t>(), row[1].as<int64_t>()};
}

class Bm25Test : public TwinflowTest {
 protected:
  // The tiny corpus of the hand computation.
  void tiny_corpus() {
    Corpus corpus(*store);
    corpus.put("Ann", "https://a/1", "", {"wing wing flutter"});
    corpus.put("Ann", "https://a/2", "", {"wing lift"});
    corpus.put("Ann", "https://a/3", "", {"heat transfer"});
    corpus.put("Ann", "https://a/4", "Panel flutter", {"vibration of thin panels"});
  }
  int64_t chunk_of(const std::string& url) {
    pqxx::connection c(conninfo);
    pqxx::nontransaction tx(c);
    return tx
        .exec_params1(
            "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id "
            "WHERE d.url = $1 AND c.is_current",
            url)[0]
        .as<int64_t>();
  }
};

TEST_F(Bm25Test, ScoresEqualTheHandComputedOnes) {
  tiny_corpus();
  // N = 4 chunks; body lengths 3, 2, 2, 3 (avg 2.5; "of" is a stop word);
  // title lengths 0, 0, 0, 2 (avg 0.5). df(wing) = 2, df(flutter) = 2 (a body
  // and a title), so idf = ln(1 + (4 - 2 + 0.5) / (2 + 0.5)) = ln 2 for both.
  // k1 1.2, b 0.75, title weight 2. part = idf · tf~ · 2.2 / (1.2 + tf~):
  //  chunk 1: wing tf~ = 2 / (0.25 + 0.75·3/2.5) = 2 / 1.15    -> 0.9023217735099882
  //           flutter tf~ = 1 / 1.15                           -> 0.6407242845512101
  //  chunk 2: wing tf~ = 1 / (0.25 + 0.75·2/2.5) = 1 / 0.85    -> 0.7549127709068713
  //  chunk 4: flutter in the title only, tf~ = 2 · 1 / (0.25 + 0.75·2/0.5) = 2 / 3.25
  //                                                            -> 0.5169233210955525
  const Bm25Result r = store->features().bm25_search("Wing flutter?", {}, 10);
  EXPECT_EQ(r.chunks, 4);
  ASSERT_EQ(r.terms.size(), 2u);
  EXPECT_EQ(r.terms[0].lexeme, "flutter");
  EXPECT_EQ(r.terms[0].chunks, 2);
  EXPECT_DOUBLE_EQ(r.terms[1].idf, std::log(2.0));
  ASSERT_EQ(r.hits.size(), 3u);  // chunk 3 has neither word
  EXPECT_EQ(r.hits[0].id, chunk_of("https://a/1"));
  EXPECT_NEAR(r.hits[0].score, 1.5430460580611984, 1e-12);
  EXPECT_NEAR(r.hits[0].terms.at("wing"), 0.9023217735099882, 1e-12);
  EXPECT_NEAR(r.hits[0].terms.at("flutter"), 0.6407242845512101, 1e-12);
  EXPECT_EQ(r.hits[1].id, chunk_of("https://a/2"));
  EXPECT_NEAR(r.hits[1].score, 0.7549127709068713, 1e-12);
  EXPECT_EQ(r.hits[2].id, chunk_of("https://a/4"));
  EXPECT_NEAR(r.hits[2].score, 0.5169233210955525, 1e-12);
}

TEST_F(Bm25Test, ParametersChangeTheScoresAsTheFormulaSays) {
  tiny_corpus();
  // b = 0: no length normalisation; k1 = 2: wing in chunk 2 scores
  // ln 2 · 1 · 3 / (2 + 1); a title weight of 0 drops chunk 4's title match
  // to a score of 0 (it is still a candidate, with nothing to add).
  const Bm25Result r = store->features().bm25_search("wing flutter", {}, 10, {2.0, 0.0, 0.0});
  ASSERT_GE(r.hits.size(), 2u);
  EXPECT_EQ(r.hits[1].id, chunk_of("https://a/2"));
  EXPECT_NEAR(r.hits[1].score, std::log(2.0), 1e-12);
  EXPECT_THROW(store->features().bm25_search("wing", {}, 10, {-1, 0.75, 2}), Error);
  EXPECT_THROW(store->features().bm25_search("wing", {}, 10, {1.2, 1.5, 2}), Error);
  EXPECT_THROW(store->features().bm25_search("wing", {}, 10, {1.2, 0.75, -2}), Error);
}

TEST_F(Bm25Test, AWeightedTermTooCommonForItsMaxShareIsNotScored) {
  tiny_corpus();
  // wing is in 2 of 4 chunks (share 0.5): over a max_share of 0.4 it is
  // reported but not scored; heat (1 of 4) is, with half its weight.
  const Bm25Result r =
      store->features().bm25_search({{"wing", 1, 0.4}, {"heat", 0.5, 0.4}}, {}, 10);
  ASSERT_EQ(r.terms.size(), 2u);
  EXPECT_EQ(r.terms[1].lexeme, "wing");
  EXPECT_EQ(r.terms[1].chunks, 2);
  EXPECT_EQ(r.scored_terms, 1u);
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.hits[0].id, chunk_of("https://a/3"));
  const Bm25Result full = store->features().bm25_search({{"heat", 1}}, {}, 10);
  EXPECT_NEAR(r.hits[0].score, 0.5 * full.hits[0].score, 1e-12);
  EXPECT_THROW(store->features().bm25_search({{"heat", 0}}, {}, 10), Error);
  EXPECT_THROW(store->features().bm25_search({{"heat", 1, 0}}, {}, 10), Error);
}

TEST_F(Bm25Test, AnyWordOfALongQueryMatches) {
  tiny_corpus();
  // No chunk has every word: the old "all terms first" gate would find none
  // in its first pass; BM25 with OR ranks the one with most weight first.
  const Bm25Result r = store->features().bm25_search(
      "what are the heat transfer problems in supersonic aircraft structures", {}, 10);
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.hits[0].id, chunk_of("https://a/3"));
  EXPECT_EQ(r.hits[0].terms.size(), 2u);
}

TEST_F(Bm25Test, StatisticsFollowTheSearchScope) {
  tiny_corpus();
  Corpus corpus(*store);
  corpus.put("Bob", "https://b/1", "", {"wing wing wing"}, "k1", "medium");
  corpus.put("Bob", "https://b/2", "", {"wing root"}, "k1", "medium");
  // Ann's scope alone gives exactly the hand-computed score; both authors
  // together make "wing" commoner (df 4 of 6) and chunk 2's score lower.
  const Bm25Result ann = store->features().bm25_search("wing", {"Ann", "", ""}, 10);
  EXPECT_EQ(ann.chunks, 4);
  ASSERT_EQ(ann.hits.size(), 2u);
  EXPECT_NEAR(ann.hits[1].score, 0.7549127709068713, 1e-12);
  const Bm25Result medium = store->features().bm25_search("wing", {"", "", "medium"}, 10);
  EXPECT_EQ(medium.chunks, 2);
  EXPECT_EQ(medium.hits.size(), 2u);
  const Bm25Result all = store->features().bm25_search("wing", {}, 10);
  EXPECT_EQ(all.chunks, 6);
  EXPECT_EQ(all.terms[0].chunks, 4);
  EXPECT_EQ(all.hits.size(), 4u);
  EXPECT_EQ(store->features().searchable_chunks({"Bob", "", ""}), 2);
  EXPECT_TRUE(store->features().bm25_search("wing", {"", "code", ""}, 10).hits.empty());
}

// The corpus reached incrementally, and the same final corpus loaded at once
// into a fresh database: the same statistics and the same scores.
TEST_F(Bm25Test, IncrementalChangesEqualAFromScratchCount) {
  Corpus corpus(*store);
  corpus.put("Ann", "https://a/1", "Boundary layers",
             {"laminar boundary layer", "flow over a plate"});
  corpus.put("Ann", "https://a/2", "Heat", {"heat transfer in a laminar flow"});
  corpus.put("Ann", "https://a/3", "Wings", {"wing flutter", "flutter of a wing in flow"});
  corpus.put("Bob", "https://b/1", "Shocks", {"shock waves", "shock and boundary layer"});
  EXPECT_EQ(statistics_drift(conninfo), std::make_pair(int64_t{0}, int64_t{7}));
  // Re-chunk a document with other options, a new version with a new title,
  // a chunking that gives back earlier chunks (reused, current again), and
  // a document deleted outright.
  corpus.put("Ann", "https://a/1", "Boundary layers", {"laminar boundary layer flow over a plate"},
             "k2");
  corpus.put("Ann", "https://a/2", "Heat flux", {"heat flux at the wall", "laminar flow"});
  corpus.put("Ann", "https://a/3", "Wings", {"wing flutter", "flutter of a wing in flow"}, "k2");
  corpus.put("Ann", "https://a/3", "Wings", {"wing flutter", "flutter of a wing in flow"}, "k1");
  corpus.put("Bob", "https://b/2", "Nozzles", {"nozzle flow"});
  {
    pqxx::connection c(conninfo);
    pqxx::work tx(c);
    tx.exec("DELETE FROM documents WHERE url = 'https://b/1'");
    tx.commit();
  }
  EXPECT_EQ(statistics_drift(conninfo), std::make_pair(int64_t{0}, int64_t{6}));

  const std::string scratch_url = fresh_test_database();
  Store scratch(scratch_url);
  scratch.migrate();
  Corpus final_corpus(scratch);
  final_corpus.put("Ann", "https://a/1", "Boundary layers",
                   {"laminar boundary layer flow over a plate"});
  final_corpus.put("Ann", "https://a/2", "Heat flux", {"heat flux at the wall", "laminar flow"});
  final_corpus.put("Ann", "https://a/3", "Wings", {"wing flutter", "flutter of a wing in flow"});
  final_corpus.put("Bob", "https://b/2", "Nozzles", {"nozzle flow"});
  for (const char* query : {"laminar flow", "flutter of wings", "heat flux at a plate", "nozzle"}) {
    for (const ChunkFilter& filter : {ChunkFilter{}, ChunkFilter{"Ann", "", ""}}) {
      SCOPED_TRACE(std::string(query) + " / " + filter.author);
      const Bm25Result a = store->features().bm25_search(query, filter, 10);
      const Bm25Result b = scratch.features().bm25_search(query, filter, 10);
      EXPECT_EQ(a.chunks, b.chunks);
      ASSERT_EQ(a.terms.size(), b.terms.size());
      for (size_t i = 0; i < a.terms.size(); ++i) {
        EXPECT_EQ(a.terms[i].chunks, b.terms[i].chunks) << a.terms[i].lexeme;
        EXPECT_DOUBLE_EQ(a.terms[i].idf, b.terms[i].idf) << a.terms[i].lexeme;
      }
      ASSERT_EQ(a.hits.size(), b.hits.size());
      for (size_t i = 0; i < a.hits.size(); ++i)
        EXPECT_NEAR(a.hits[i].score, b.hits[i].score, 1e-12);
    }
  }
  // TRUNCATE (as a reset would) empties the statistics too.
  {
    pqxx::connection c(conninfo);
    pqxx::work tx(c);
    tx.exec("TRUNCATE chunks CASCADE");
    tx.commit();
  }
  EXPECT_EQ(statistics_drift(conninfo), std::make_pair(int64_t{0}, int64_t{0}));
  EXPECT_EQ(store->features().searchable_chunks({}), 0);
}

// Migrations 0022 and 0023: the store counts the chunks it writes from their
// C++ analysis; a chunk inserted by plain SQL is analysed and counted by the
// trigger. The same text gets the same postings either way, and the
// statistics stay exact.
TEST_F(Bm25Test, ChunksInsertedBySqlAreAnalysedAndCountedByTheDatabase) {
  Corpus corpus(*store);
  corpus.put("Ann", "https://a/1", "Shock tubes", {"Shock-tube flows don't re-attach at 3.5 Mach"});
  pqxx::connection c(conninfo);
  {
    pqxx::work tx(c);
    tx.exec(
        "INSERT INTO chunks (chunk_key, cleaned_document_id, document_id, chunker, kind, "
        "position, start_offset, end_offset, content) "
        "SELECT 'by-sql', cleaned_document_id, document_id, chunker, kind, 1, 0, 1, content "
        "FROM chunks WHERE chunk_key <> 'by-sql'");
    tx.commit();
  }
  pqxx::nontransaction tx(c);
  auto postings = [&](const std::string& condition) {
    return tx
        .exec1(
            "SELECT string_agg(p.lexeme || ':' || p.body_tf || ':' || p.title_tf || ':' || "
            "p.body_length || ':' || p.title_length, ' ' ORDER BY p.lexeme) "
            "FROM bm25_postings p JOIN chunks c ON c.id = p.chunk_id WHERE " +
            condition)[0]
        .as<std::string>("");
  };
  const std::string by_sql = postings("c.chunk_key = 'by-sql'");
  EXPECT_EQ(postings("c.chunk_key <> 'by-sql'"), by_sql);
  EXPECT_NE(by_sql.find("shock-tub:1:0"), std::string::npos) << by_sql;
  EXPECT_NE(by_sql.find("tube:1:1"), std::string::npos) << by_sql;
  EXPECT_EQ(statistics_drift(conninfo), std::make_pair(int64_t{0}, int64_t{2}));
  // The database packed its chunk's postings in codec 1, the writer in codec
  // 2 (migration 0029); a search reads both alike.
  EXPECT_EQ(tx.exec1("SELECT string_agg(DISTINCT codec::text, ',') FROM bm25_blocks")[0]
                .as<std::string>(),
            "1,2");
  const Bm25Result r = store->features().bm25_search("shock tube flows", {}, 10);
  ASSERT_EQ(r.hits.size(), 2u);
  EXPECT_GT(r.hits[0].score, 0);
  EXPECT_DOUBLE_EQ(r.hits[0].score, r.hits[1].score);
  // Two more chunks by SQL, in one block of codec 1 rows; one removed, the
  // block compacted: the rows that held it are written again, in codec 2, and
  // the statistics stay exact.
  {
    pqxx::connection writer(conninfo);
    pqxx::work w(writer);
    w.exec(
        "INSERT INTO chunks (chunk_key, cleaned_document_id, document_id, chunker, kind, "
        "position, start_offset, end_offset, content) "
        "SELECT k, cleaned_document_id, document_id, chunker, kind, p, 0, 1, "
        "'Tube walls ' || k FROM chunks, (VALUES ('sql-2', 2), ('sql-3', 3)) AS v (k, p) "
        "WHERE chunk_key = 'by-sql'");
    w.exec("DELETE FROM chunks WHERE chunk_key = 'sql-2'");
    w.commit();
  }
  EXPECT_EQ(store->features().compact_bm25_blocks(0), 1);
  // The row of "wall" held both chunks and was written again; the first
  // chunk's block was not touched.
  EXPECT_EQ(
      tx.exec1("SELECT string_agg(codec::text, ',') FROM bm25_blocks WHERE lexeme = 'wall'")[0]
          .as<std::string>(),
      "2");
  EXPECT_GT(tx.exec1("SELECT count(*) FROM bm25_blocks WHERE codec = 1")[0].as<int>(), 0);
  EXPECT_EQ(statistics_drift(conninfo), std::make_pair(int64_t{0}, int64_t{3}));
  EXPECT_EQ(store->features().bm25_search("walls", {}, 10).hits.size(), 1u);
}

// SQL and C++ read the same postings from the same bytes, in both codecs.
TEST_F(Bm25Test, SqlAndTheStoreReadBothCodecsAlike) {
  const std::vector<Bm25Posting> postings = {{7, 1, 0, 12, 3},
                                             {8, 255, 2, 4000, 3},
                                             {1000000, 3, 1, 129, 0},
                                             {int64_t{1} << 40, 1, 0, 1, 1}};
  pqxx::connection c(conninfo);
  pqxx::nontransaction tx(c);
  auto text = [](const Bm25Posting& p) {
    return std::to_string(p.chunk_id) + ":" + std::to_string(p.body_tf) + ":" +
           std::to_string(p.title_tf) + ":" + std::to_string(p.body_length) + ":" +
           std::to_string(p.title_length);
  };
  std::string expected;
  for (const Bm25Posting& p : postings) expected += (expected.empty() ? "" : " ") + text(p);
  // Codec 2, written here, read by SQL.
  Bm25PostingEncoder encoder;
  for (const Bm25Posting& p : postings) encoder.add(p);
  const std::string hex = bytes_to_hex(encoder.bytes());
  EXPECT_EQ(tx.exec_params1("SELECT string_agg(chunk_id || ':' || body_tf || ':' || title_tf || "
                            "':' || body_length || ':' || title_length, ' ' ORDER BY i) "
                            "FROM twinflow_bm25_unpack(decode($1, 'hex'), 2::smallint)",
                            hex)[0]
                .as<std::string>(),
            expected);
  EXPECT_THROW(tx.exec_params("SELECT * FROM twinflow_bm25_unpack(decode($1, 'hex'), 2::smallint)",
                              hex.substr(0, hex.size() - 2)),
               pqxx::sql_error);
  // Codec 1, packed by SQL, read here.
  std::vector<std::string> ids, body, title, body_length, title_length;
  for (const Bm25Posting& p : postings) {
    ids.push_back(std::to_string(p.chunk_id));
    body.push_back(std::to_string(p.body_tf));
    title.push_back(std::to_string(p.title_tf));
    body_length.push_back(std::to_string(p.body_length));
    title_length.push_back(std::to_string(p.title_length));
  }
  auto array = [](const std::vector<std::string>& v) {
    std::string out = "{";
    for (const std::string& x : v) out += (out.size() > 1 ? "," : "") + x;
    return out + "}";
  };
  const std::string packed =
      tx.exec_params1(
            "SELECT encode(string_agg(twinflow_bm25_pack(a, b, c, d, e), ''::bytea ORDER BY a), "
            "'hex') FROM unnest($1::bigint[], $2::int[], $3::int[], $4::int[], $5::int[]) "
            "AS u (a, b, c, d, e)",
            array(ids), array(body), array(title), array(body_length), array(title_length))[0]
          .as<std::string>();
  std::vector<unsigned char> bytes(packed.size() / 2);
  ASSERT_TRUE(decode_hex(packed.data(), bytes.size(), bytes.data()));
  std::vector<Bm25Posting> read;
  ASSERT_TRUE(decode_postings(bytes.data(), bytes.size(), 1, nullptr, read));
  std::string got;
  for (const Bm25Posting& p : read) got += (got.empty() ? "" : " ") + text(p);
  EXPECT_EQ(got, expected);
}

TEST_F(Bm25Test, ConcurrentChunkWritersKeepTheStatisticsExact) {
  // Two writers re-chunk their own documents over and over, sharing most
  // words: every transaction updates the same lexeme rows. They must neither
  // deadlock nor lose an update.
  auto writer = [this](const std::string& author, int rounds) {
    Store own(conninfo);
    Corpus corpus(own);
    for (int round = 0; round < rounds; ++round)
      for (int doc = 0; doc < 3; ++doc)
        corpus.put(author, "https://" + author + "/" + std::to_string(doc), "Flow " + author,
                   {"laminar flow number " + std::to_string(round), "boundary layer flow",
                    "shock wave " + std::to_string(doc)},
                   "k" + std::to_string(round));
  };
  std::thread a(writer, "ann", 6), b(writer, "bob", 6);
  a.join();
  b.join();
  EXPECT_EQ(statistics_drift(conninfo), std::make_pair(int64_t{0}, int64_t{18}));
}

// The chunk step's path: many documents' chunks in one statement (migration
// 0020 keeps their postings in blocks of at most 2,000 chunks), then a batch
// that re-chunks some of them (their chunks leave blocks written earlier) and
// a new version of one. The statistics equal a count from scratch, and the
// scores equal those of the final corpus written a document at a time.
TEST_F(Bm25Test, BatchedChunkWritesKeepTheStatisticsExact) {
  static const char* const kWords[] = {"laminar", "flow",   "shock", "wave",  "wing",
                                       "flutter", "nozzle", "heat",  "plate", "boundary",
                                       "layer",   "vortex", "drag",  "lift",  "panel"};
  auto piece = [](int doc, int i, int salt) {
    std::string text;
    for (int w = 0; w < 3 + (doc + i) % 5; ++w)
      text += std::string(kWords[(doc * 7 + i * 3 + w * w + salt) % 15]) + " ";
    return text + "n" + std::to_string(doc % 9);
  };
  auto title = [](int doc) { return std::string(kWords[doc % 15]) + " " + kWords[(doc + 4) % 15]; };
  auto rechunked = [](int doc) { return doc < 10 || doc >= 50; };
  auto chunk_batch = [&](Store& target, const std::string& chunker, int salt, int pieces) {
    std::vector<DocumentChunks> batch;
    for (const auto& k : target.features().documents_to_chunk("Ann", "c1", chunker)) {
      const int doc = std::stoi(k.url.substr(k.url.rfind('/') + 1));
      if (chunker == "k2" && !rechunked(doc)) continue;
      DocumentChunks& rows = batch.emplace_back();
      rows.cleaned_document_id = k.id;
      rows.document_id = k.document_id;
      rows.author = k.author;
      rows.url = k.url;
      rows.kind = "article";
      for (int i = 0; i < pieces; ++i)
        rows.chunks.push_back(
            {chunker + k.url + "v" + std::to_string(k.document_version) + "#" + std::to_string(i),
             i, 0, 1, piece(doc, i, salt)});
    }
    return target.features().replace_current_chunks(batch, chunker, 0);
  };
  auto load = [&](Store& target, int documents) {
    for (int doc = 0; doc < documents; ++doc) {
      DocumentToStore d;
      d.author = "Ann";
      d.platform = "web";
      d.kind = "article";
      d.url = "https://a/" + std::to_string(doc);
      d.title = title(doc);
      d.content = "text of " + std::to_string(doc);
      target.features().upsert_document(d);
    }
    for (const auto& doc : target.features().documents_to_clean("Ann", "c1"))
      target.features().insert_cleaned_document(doc.id, "c1", doc.content, 0);
  };
  // 60 documents of 340 chunks: 20,400 chunks in one statement, two blocks
  // (store/bm25_batch.cc cuts a block at 20,000 chunks).
  const int chunks_per_document = 340;
  load(*store, 60);
  EXPECT_EQ(chunk_batch(*store, "k1", 0, chunks_per_document), 20400);
  EXPECT_EQ(statistics_drift(conninfo), std::make_pair(int64_t{0}, int64_t{20400}));
  {
    pqxx::connection c(conninfo);
    EXPECT_EQ(
        pqxx::nontransaction(c).exec1("SELECT count(DISTINCT block) FROM bm25_chunks")[0].as<int>(),
        2);
  }
  // Re-chunk documents 0-9 and 50-59 (both blocks) with other pieces, then a
  // new version of document 3 with another title.
  EXPECT_EQ(chunk_batch(*store, "k2", 5, 30), 600);
  DocumentToStore changed;
  changed.author = "Ann";
  changed.platform = "web";
  changed.kind = "article";
  changed.url = "https://a/3";
  changed.title = "vortex drag";
  changed.content = "new text of 3";
  store->features().upsert_document(changed);
  load(*store, 0);
  EXPECT_EQ(chunk_batch(*store, "k2", 5, 30), 30);
  EXPECT_EQ(statistics_drift(conninfo), std::make_pair(int64_t{0}, int64_t{14200}));

  // The same final corpus, one document at a time.
  const std::string scratch_url = fresh_test_database();
  Store scratch(scratch_url);
  scratch.migrate();
  Corpus final_corpus(scratch);
  for (int doc = 0; doc < 60; ++doc) {
    std::vector<std::string> pieces;
    for (int i = 0; i < (rechunked(doc) ? 30 : chunks_per_document); ++i)
      pieces.push_back(piece(doc, i, rechunked(doc) ? 5 : 0));
    final_corpus.put("Ann", "https://a/" + std::to_string(doc),
                     doc == 3 ? "vortex drag" : title(doc), pieces);
  }
  EXPECT_EQ(statistics_drift(scratch_url), std::make_pair(int64_t{0}, int64_t{14200}));
  auto same_as_scratch = [&] {
    for (const char* query : {"laminar flow", "vortex drag n3", "wing flutter panel", "n7 heat"}) {
      SCOPED_TRACE(query);
      const Bm25Result a = store->features().bm25_search(query, {}, 20);
      const Bm25Result b = scratch.features().bm25_search(query, {}, 20);
      EXPECT_EQ(a.chunks, b.chunks);
      ASSERT_EQ(a.terms.size(), b.terms.size());
      for (size_t i = 0; i < a.terms.size(); ++i) EXPECT_EQ(a.terms[i].chunks, b.terms[i].chunks);
      ASSERT_EQ(a.hits.size(), b.hits.size());
      for (size_t i = 0; i < a.hits.size(); ++i)
        EXPECT_NEAR(a.hits[i].score, b.hits[i].score, 1e-12);
    }
  };
  // The removed chunks' postings are still in their blocks (migration 0025),
  // skipped by the search and the views.
  auto dead_chunks = [&] {
    pqxx::connection c(conninfo);
    return pqxx::nontransaction(c)
        .exec1("SELECT coalesce(sum(cardinality(chunk_ids)), 0) FROM bm25_dead")[0]
        .as<int64_t>();
  };
  EXPECT_EQ(dead_chunks(), 6830);
  same_as_scratch();
  // Compaction writes the two first blocks again without them (over a tenth
  // of each is dead); the block of the 600 re-chunked chunks, where the 30 of
  // document 3's first version are 5%, waits. Then all, and nothing changes.
  EXPECT_EQ(store->features().compact_bm25_blocks(), 2);
  EXPECT_EQ(dead_chunks(), 30);
  same_as_scratch();
  EXPECT_EQ(store->features().compact_bm25_blocks(0), 1);
  EXPECT_EQ(dead_chunks(), 0);
  EXPECT_EQ(store->features().compact_bm25_blocks(0), 0);
  EXPECT_EQ(statistics_drift(conninfo), std::make_pair(int64_t{0}, int64_t{14200}));
  {
    pqxx::connection c(conninfo);
    EXPECT_EQ(pqxx::nontransaction(c)
                  .exec1("SELECT count(*) FROM bm25_dead_terms WHERE chunks <> 0")[0]
                  .as<int>(),
              0);
  }
  same_as_scratch();
}

TEST_F(Bm25Test, OddQueriesAreSafe) {
  tiny_corpus();
  for (const char* query :
       {"o'brien \\ & | ! :* <-> (wing", "'wing'", "\"flutter\" -lift", "wing:*A", "\\'wing\\'"}) {
    SCOPED_TRACE(query);
    EXPECT_NO_THROW(store->features().bm25_search(query, {}, 10));
  }
  EXPECT_EQ(store->features().bm25_search("'wing'", {}, 10).hits.size(), 2u);
}

class RetrieverAnswersTest : public TwinflowTest {};

TEST_F(RetrieverAnswersTest, AnEmptyStoreGivesNoHitsAndANoteInEveryMode) {
  Retriever retriever(store->features(), home / "artifacts");
  for (SearchMode mode : {SearchMode::kText, SearchMode::kVector, SearchMode::kHybrid}) {
    SCOPED_TRACE(search_mode_name(mode));
    SearchQuery query;
    query.text = "wing flutter";
    query.mode = mode;
    SearchResult result;
    ASSERT_NO_THROW(result = retriever.search_explained(query));
    EXPECT_TRUE(result.hits.empty());
    ASSERT_FALSE(result.notes.empty());
    EXPECT_NE(result.notes.back().find("nothing to search"), std::string::npos)
        << result.notes.back();
  }
}

TEST_F(RetrieverAnswersTest, AwkwardQueriesGiveNotesNotErrors) {
  Corpus corpus(*store);
  corpus.put("Ann", "https://a/1", "Flutter", {"wing flutter at transonic speed"});
  Retriever retriever(store->features(), home / "artifacts");
  auto text_search = [&](const std::string& text) {
    SearchQuery query;
    query.text = text;
    query.mode = SearchMode::kText;
    return retriever.search_explained(query);
  };
  SearchResult empty = text_search(" \n\t ");
  EXPECT_TRUE(empty.hits.empty());
  ASSERT_EQ(empty.notes.size(), 1u);
  EXPECT_NE(empty.notes[0].find("empty"), std::string::npos);

  SearchResult stop = text_search("the and of which");
  EXPECT_TRUE(stop.hits.empty());
  ASSERT_EQ(stop.notes.size(), 1u);
  EXPECT_NE(stop.notes[0].find("stop words"), std::string::npos);

  SearchResult unknown = text_search("zeppelin");
  EXPECT_TRUE(unknown.hits.empty());
  ASSERT_EQ(unknown.notes.size(), 1u);
  EXPECT_NE(unknown.notes[0].find("no chunk contains"), std::string::npos);

  // 1 MB of words (more than a tsvector may hold), "flutter" among them.
  std::string huge = "flutter ";
  for (int i = 0; huge.size() < (1 << 20); ++i) huge += "w" + std::to_string(i) + " ";
  SearchResult big;
  ASSERT_NO_THROW(big = text_search(huge));
  ASSERT_EQ(big.hits.size(), 1u);
  EXPECT_NE(big.notes[0].find("searched by its first"), std::string::npos);
}

TEST_F(RetrieverAnswersTest, AnExpandedQueryFindsChunksThatShareTheBestHitsWords) {
  Corpus corpus(*store);
  corpus.put("Ann", "https://a/1", "", {"jet engine turbine thrust"});
  corpus.put("Ann", "https://a/2", "", {"turbine thrust compressor blades"});
  corpus.put("Ann", "https://a/3", "", {"garden flowers bloom"});
  Retriever retriever(store->features(), home / "artifacts");
  SearchQuery query;
  query.text = "jet";
  query.mode = SearchMode::kText;
  query.expand = false;
  const SearchResult plain = retriever.search_explained(query);
  ASSERT_EQ(plain.hits.size(), 1u);
  EXPECT_EQ(plain.hits[0].chunk.url, "https://a/1");

  query.expand = true;
  query.expansion.max_share = 1;  // in a corpus of three chunks every word is common
  const SearchResult expanded = retriever.search_explained(query);
  ASSERT_EQ(expanded.hits.size(), 2u);  // the garden shares no word
  EXPECT_EQ(expanded.hits[0].chunk.url, "https://a/1");
  EXPECT_EQ(expanded.hits[1].chunk.url, "https://a/2");
  EXPECT_GT(expanded.hits[1].text_terms.at("turbin"), 0);
  double total = 0;
  for (const Bm25Term& t : expanded.terms) total += t.weight;
  EXPECT_NEAR(total, 1.0, 1e-9);  // the mixed weights of RM3 sum to 1
  query.expansion.feedback_terms = 0;
  EXPECT_THROW(retriever.search_explained(query), Error);
}

TEST_F(RetrieverAnswersTest, TheCommandLineExplainsAndRefusesAnEmptyQuery) {
  Corpus corpus(*store);
  corpus.put("Ann", "https://a/1", "Flutter", {"wing flutter at transonic speed"});
  corpus.put("Ann", "https://a/2", "", {"heat transfer"});

  CommandResult empty = twinflow({"search", "  "});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("the query is empty"), std::string::npos) << empty.err;

  CommandResult stop = twinflow({"search", "--mode", "text", "the of and"});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_NE(stop.out.find("no results"), std::string::npos);
  EXPECT_NE(stop.err.find("stop words"), std::string::npos) << stop.err;

  CommandResult explained =
      twinflow({"search", "--mode", "text", "--no-expand", "--explain", "wing flutter"});
  ASSERT_EQ(explained.exit_code, 0) << explained.err;
  EXPECT_NE(explained.out.find("text:   rank 1,"), std::string::npos) << explained.out;
  EXPECT_NE(explained.out.find("flutter df 1"), std::string::npos) << explained.out;
  // Expanded (the default), each word shows its weight in the query.
  CommandResult weighted = twinflow({"search", "--mode", "text", "--explain", "wing flutter"});
  ASSERT_EQ(weighted.exit_code, 0) << weighted.err;
  EXPECT_NE(weighted.out.find("flutter x0.3"), std::string::npos) << weighted.out;

  CommandResult json = twinflow({"--json", "search", "--mode", "text", "wing"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto hits = nlohmann::json::parse(json.out);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["explain"]["text"]["rank"], 1);
  EXPECT_GT(hits[0]["explain"]["text"]["terms"]["wing"].get<double>(), 0);

  CommandResult bad = twinflow({"search", "--b", "2", "wing"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("b must be between 0 and 1"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace twinflow
