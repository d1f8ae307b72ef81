// Text ranking over decoded postings (store/bm25_scoring.h): MaxScore's
// pruned top-k equals an exhaustive ranking to the last bit, ties included;
// the postings cache (store/bm25_postings_cache.h) keeps lists by scope,
// word and version within its byte budget; and against a real PostgreSQL, a
// Retriever that keeps its cache between searches sees every write
// (migration 0027's generations) and answers as a fresh one does.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include <pqxx/pqxx>

#include "store/bm25_postings_cache.h"
#include "store/bm25_scoring.h"
#include "store/feature_store.h"
#include "tasks/search/retriever.h"
#include "tests/support/bm25_corpus.h"
#include "tests/support/twinflow_fixture.h"

namespace twinflow {
namespace {

using Postings = std::vector<Bm25Posting>;

Bm25PostingList with_peaks(Postings p) {
  Bm25PostingList list{std::move(p), {}};
  list.peaks = bm25_peaks(list.postings);
  return list;
}

// Every chunk's score, summed in list order, best first, ties by id.
std::vector<std::pair<int64_t, double>> exhaustive(const std::vector<Bm25List>& lists,
                                                   const Bm25Scorer& scorer) {
  std::map<int64_t, std::vector<double>> parts;
  for (size_t i = 0; i < lists.size(); ++i)
    for (const Bm25Posting& p : lists[i].list->postings) {
      auto& v = parts[p.chunk_id];
      v.resize(lists.size(), -1);
      v[i] = scorer.part(lists[i].weight, lists[i].idf, p);
    }
  std::vector<std::pair<int64_t, double>> out;
  for (auto& [id, v] : parts) {
    v.resize(lists.size(), -1);
    double score = 0;
    for (double part : v)
      if (part >= 0) score += part;
    out.emplace_back(id, score);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return out;
}

// Lists of Zipf-like lengths over `chunks` ids: a few long ones (common
// words, small idf) and many short ones.
std::vector<Postings> random_lists(std::mt19937_64& random, int count, int64_t chunks) {
  std::vector<Postings> lists;
  for (int i = 0; i < count; ++i) {
    const double share = 0.5 / (1 + i * i);
    Postings list;
    std::uniform_real_distribution<double> coin(0, 1);
    for (int64_t id = 1; id <= chunks; ++id)
      if (coin(random) < share) {
        Bm25Posting p{id * 3, static_cast<int>(random() % 4),
                      static_cast<int>(random() % 3 == 0 ? random() % 2 : 0), 0, 0};
        if (p.body_tf == 0 && p.title_tf == 0) p.body_tf = 1;
        p.body_length = p.body_tf + static_cast<int>(5 + random() % 200);
        p.title_length = p.title_tf + static_cast<int>(random() % 7);
        list.push_back(p);
      }
    lists.push_back(std::move(list));
  }
  return lists;
}

TEST(Bm25Scoring, PrunedTopKEqualsTheExhaustiveRankingBitForBit) {
  std::mt19937_64 random(7);
  for (int round = 0; round < 20; ++round) {
    std::vector<Bm25PostingList> postings;
    for (Postings& p : random_lists(random, 2 + round % 12, 3000))
      postings.push_back(with_peaks(std::move(p)));
    std::vector<Bm25List> lists;
    const double n = 3000;
    for (const Bm25PostingList& p : postings) {
      const double df = static_cast<double>(p.postings.size());
      lists.push_back({&p, 1 + static_cast<double>(random() % 3) / 2,
                       std::log(1 + (n - df + 0.5) / (df + 0.5))});
    }
    const Bm25Scorer scorer{{1.2, 0.75, 2.0}, 100, 3};
    const auto truth = exhaustive(lists, scorer);
    for (size_t k : {size_t{1}, size_t{10}, size_t{50}, size_t{100000}}) {
      const std::vector<Bm25Ranked> got = bm25_top_k(lists, scorer, k);
      ASSERT_EQ(got.size(), std::min(k, truth.size())) << "round " << round << " k " << k;
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i].id, truth[i].first) << "round " << round << " k " << k << " rank " << i;
        ASSERT_EQ(got[i].score, truth[i].second);  // bit for bit
      }
    }
  }
}

TEST(Bm25Scoring, PeaksHoldTheLargestPartForAnyParameters) {
  std::mt19937_64 random(3);
  for (Postings& p : random_lists(random, 6, 4000)) {
    const Bm25PostingList list = with_peaks(p);
    // 4 body tfs × 2 title tfs × 8 title lengths at most.
    EXPECT_LE(list.peaks.size(), 64u);
    EXPECT_FALSE(list.peaks.empty());
    for (const Bm25Params params : {Bm25Params{1.2, 0.75, 2.0}, Bm25Params{0.5, 0.0, 0.0},
                                    Bm25Params{2.0, 1.0, 5.0}, Bm25Params{0.0, 0.3, 1.0}})
      for (const double avg_body : {20.0, 300.0}) {
        const Bm25Scorer scorer{params, avg_body, 2};
        double all = 0, peaks = 0;
        for (const Bm25Posting& x : list.postings) all = std::max(all, scorer.part(1, 1, x));
        for (const Bm25Posting& x : list.peaks) peaks = std::max(peaks, scorer.part(1, 1, x));
        EXPECT_EQ(peaks, all);
      }
  }
}

TEST(Bm25Scoring, EqualScoresRankByIdAcrossThePruningThreshold) {
  // 200 chunks with the very same posting in one list: all tie; the best 10
  // are the 10 lowest ids, even once the 10th score prunes the other list.
  Postings all;
  for (int64_t id = 1; id <= 200; ++id) all.push_back({id * 2, 1, 0, 10, 0});
  const Bm25PostingList same = with_peaks(all), rare = with_peaks({{5, 1, 0, 10, 0}});
  EXPECT_EQ(same.peaks.size(), 1u);
  const std::vector<Bm25List> lists = {{&same, 1, 0.5}, {&rare, 1, 3}};
  const Bm25Scorer scorer{{1.2, 0.75, 2.0}, 10, 1};
  const std::vector<Bm25Ranked> got = bm25_top_k(lists, scorer, 10);
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ(got[0].id, 5);         // the rare word's chunk
  EXPECT_EQ(got[0].parts[0], -1);  // not in the first list
  EXPECT_GT(got[0].parts[1], 0);
  for (size_t i = 1; i < got.size(); ++i) {
    EXPECT_EQ(got[i].id, static_cast<int64_t>(2 * i));
    EXPECT_EQ(got[i].score, got[1].score);
  }
}

TEST(Bm25Scoring, NoListsOrNoRoomGiveNoHits) {
  const Bm25PostingList empty, one = with_peaks({{1, 1, 0, 3, 0}});
  const Bm25Scorer scorer{{1.2, 0.75, 2.0}, 3, 0};
  EXPECT_TRUE(bm25_top_k({}, scorer, 10).empty());
  EXPECT_TRUE(bm25_top_k({{&empty, 1, 1}}, scorer, 10).empty());
  EXPECT_TRUE(bm25_top_k({{&one, 1, 1}}, scorer, 0).empty());
  EXPECT_EQ(bm25_top_k({{&one, 1, 1}, {&empty, 1, 2}}, scorer, 10).size(), 1u);
}

std::shared_ptr<const Bm25PostingList> list_of(size_t n) {
  return std::make_shared<const Bm25PostingList>(
      Bm25PostingList{Postings(n, Bm25Posting{1, 1, 0, 1, 0}), {}});
}

TEST(Bm25PostingsCacheTest, KeepsListsByScopeWordAndVersionWithinItsBudget) {
  const size_t bytes = sizeof(Bm25Posting);
  Bm25PostingsCache cache(100 * bytes);
  const auto wing = list_of(40);
  cache.put("ann", "1.5", "wing", wing);
  EXPECT_EQ(cache.find("ann", "1.5", "wing"), wing);
  EXPECT_EQ(cache.find("ann", "1.6", "wing"), nullptr);  // the scope changed since
  EXPECT_EQ(cache.find("bob", "1.5", "wing"), nullptr);
  EXPECT_EQ(cache.find("ann", "1.5", "lift"), nullptr);
  cache.put("ann", "1.5", "lift", list_of(40));
  EXPECT_EQ(cache.bytes(), 80 * bytes);
  // Over budget: the least recently used goes ("lift": "wing" was found last
  // before... it is used again now).
  EXPECT_NE(cache.find("ann", "1.5", "wing"), nullptr);
  cache.put("ann", "1.5", "heat", list_of(40));
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_EQ(cache.bytes(), 80 * bytes);
  EXPECT_EQ(cache.find("ann", "1.5", "lift"), nullptr);
  EXPECT_NE(cache.find("ann", "1.5", "wing"), nullptr);
  // A newer version replaces the entry; a list over the budget is not kept.
  cache.put("ann", "1.6", "wing", list_of(10));
  EXPECT_EQ(cache.find("ann", "1.5", "wing"), nullptr);
  EXPECT_EQ(cache.find("ann", "1.6", "wing")->postings.size(), 10u);
  EXPECT_EQ(cache.bytes(), 50 * bytes);
  cache.put("ann", "1.6", "huge", list_of(101));
  EXPECT_EQ(cache.find("ann", "1.6", "huge"), nullptr);
  EXPECT_EQ(cache.bytes(), 50 * bytes);
  // A list found stays valid for its holder after it is evicted.
  const auto held = cache.find("ann", "1.5", "heat");
  cache.put("ann", "1.6", "big", list_of(100));
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(held->postings.size(), 40u);
}

TEST(Bm25PostingsCacheTest, SessionsShareItFromThreads) {
  Bm25PostingsCache cache(1000 * sizeof(Bm25Posting));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string word = "w" + std::to_string((i * 7 + t) % 50);
        if (auto found = cache.find("s", "1", word))
          EXPECT_EQ(found->postings.size(), 30u);
        else
          cache.put("s", "1", word, list_of(30));
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_LE(cache.bytes(), 1000 * sizeof(Bm25Posting));
  EXPECT_EQ(cache.bytes(), cache.entries() * 30 * sizeof(Bm25Posting));
}

class Bm25CacheTest : public TwinflowTest {};

std::vector<std::pair<int64_t, double>> ranking(const Bm25Result& r) {
  std::vector<std::pair<int64_t, double>> out;
  for (const Bm25Hit& h : r.hits) out.emplace_back(h.id, h.score);
  return out;
}

// A searcher that keeps its postings between searches sees every kind of
// write at once: new chunks, a new document version, a re-chunking, a
// removal; and answers exactly as a search without a cache.
TEST_F(Bm25CacheTest, AKeptCacheSeesEveryWriteAndAnswersAsAFreshSearch) {
  Corpus corpus(*store);
  corpus.put("Ann", "https://a/1", "Wings", {"wing flutter at speed", "lift of a wing"});
  corpus.put("Ann", "https://a/2", "", {"heat transfer in a wing"});
  Bm25PostingsCache cache;
  const std::string query = "wing flutter heat";
  auto check = [&](const char* after) {
    const Bm25Result kept = store->features().bm25_search(query, {"Ann", "", ""}, 10, {}, &cache);
    const Bm25Result fresh = store->features().bm25_search(query, {"Ann", "", ""}, 10);
    EXPECT_EQ(ranking(kept), ranking(fresh)) << after;
    return kept;
  };
  // The version a search stamps Ann's lists with (migration 0027).
  auto version = [&] {
    pqxx::connection c(conninfo);
    return pqxx::nontransaction(c)
        .exec1(
            "SELECT string_agg(id || '.' || generation, ',' ORDER BY id) FROM bm25_scopes "
            "WHERE author = 'Ann'")[0]
        .as<std::string>();
  };
  const std::string scope = std::string("Ann") + '\x1f' + '\x1f';
  EXPECT_EQ(check("the first search").hits.size(), 3u);
  EXPECT_EQ(cache.entries(), 3u);
  const auto wing = cache.find(scope, version(), "wing");
  ASSERT_NE(wing, nullptr);
  check("a second search");  // nothing written: the same lists, not read again
  EXPECT_EQ(cache.find(scope, version(), "wing"), wing);

  std::string before = version();
  corpus.put("Ann", "https://a/3", "", {"flutter of panels"});
  EXPECT_NE(version(), before);
  EXPECT_EQ(check("a new document").hits.size(), 4u);
  before = version();
  corpus.put("Ann", "https://a/1", "Wings", {"wing flutter at high speed"});  // a new version
  EXPECT_NE(version(), before);
  EXPECT_EQ(check("a new version").hits.size(), 3u);
  before = version();
  corpus.put("Ann", "https://a/2", "", {"heat", "transfer in a wing"}, "k2");  // re-chunked
  EXPECT_NE(version(), before);
  EXPECT_EQ(check("a re-chunking").hits.size(), 4u);
  // Compaction drops dead postings a search already skipped: same version.
  before = version();
  EXPECT_GT(store->features().compact_bm25_blocks(0), 0);
  EXPECT_EQ(version(), before);
  check("a compaction");
  // Another author's write leaves Ann's version, and her results, alone.
  corpus.put("Bob", "https://b/1", "", {"wing wing"});
  EXPECT_EQ(version(), before);
  check("another scope's write");
  EXPECT_NE(cache.find(scope, version(), "wing"), nullptr);
}

}  // namespace
}  // namespace twinflow
