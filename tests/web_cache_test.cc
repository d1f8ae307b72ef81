// The dashboard's response cache (web/response_cache.h): bounded, least
// recently used first out, entries with a time to live; and, over real HTTP
// against the real `twinflow web` and PostgreSQL, never stale: a change
// committed to a run, a step, a new run or a pause shows in the very next
// answer of the runs list, the run document and the pipelines grid, each of
// which was asked (and so kept) just before the change.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <regex>
#include <thread>

#include "store/dashboard_queries.h"
#include "store/run_queue.h"
#include "tests/support/committed_sql.h"
#include "tests/web_test_support.h"
#include "web/response_cache.h"

namespace twinflow {
namespace {

using Json = nlohmann::json;

TEST(ResponseCache, KeepsBodiesWithTheirValidators) {
  ResponseCache cache(4, 1 << 20);
  EXPECT_FALSE(cache.find("a"));
  cache.store("a", "v1", "body one");
  auto hit = cache.find("a");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->validator, "v1");
  EXPECT_EQ(*hit->body, "body one");
  cache.store("a", "v2", "body two");  // a new version replaces the old
  EXPECT_EQ(cache.find("a")->validator, "v2");
  EXPECT_EQ(*cache.find("a")->body, "body two");
  EXPECT_EQ(cache.entries(), 1u);
}

TEST(ResponseCache, IsBoundedInEntriesAndBytes) {
  ResponseCache cache(3, 400);
  for (const char* key : {"a", "b", "c"}) cache.store(key, "v", std::string(50, 'x'));
  ASSERT_TRUE(cache.find("a"));  // used: "b" is now the least recently used
  cache.store("d", "v", std::string(50, 'x'));
  EXPECT_EQ(cache.entries(), 3u);
  EXPECT_FALSE(cache.find("b"));
  EXPECT_TRUE(cache.find("a"));
  EXPECT_TRUE(cache.find("c"));
  EXPECT_TRUE(cache.find("d"));
  // Bytes: two bodies of 90 fit under 400, a third pushes the oldest out.
  cache.store("e", "v", std::string(90, 'y'));
  cache.store("f", "v", std::string(90, 'y'));
  cache.store("g", "v", std::string(90, 'y'));
  EXPECT_LE(cache.bytes(), 400u);
  EXPECT_TRUE(cache.find("g"));
  // A body larger than a quarter of the bound is not kept at all.
  cache.store("big", "v", std::string(200, 'z'));
  EXPECT_FALSE(cache.find("big"));
  EXPECT_LE(cache.bytes(), 400u);
}

TEST(ResponseCache, AnEntryWithATimeToLiveExpires) {
  ResponseCache cache(4, 1 << 20);
  cache.store("live", "v", "body", std::chrono::milliseconds(20));
  cache.store("settled", "v", "body");
  EXPECT_TRUE(cache.find("live"));
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_FALSE(cache.find("live"));
  EXPECT_TRUE(cache.find("settled"));
  EXPECT_EQ(cache.entries(), 1u);
}

class WebCacheTest : public TwinflowTest {
 protected:
  void SetUp() override {
    TwinflowTest::SetUp();
    NewRun run;
    run.pipeline = "cached";
    run.dag_file = "dags/cached.yaml";
    run.dag_content = "name: cached\nsteps:\n  - id: a\n    command: 'true'\n";
    run.dag_hash = "cached-snapshot";
    run.step_ids = {"extract", "load"};
    newest_ = DashboardQueries(*store).seed_synthetic_runs(run, 30);
    web_ = std::make_unique<WebProcess>(twinflow_env(), home / "web.log", "");
    ASSERT_FALSE(web_->url().empty()) << read_file(home / "web.log");
  }
  WebReply get(const std::string& path, const std::vector<std::string>& headers = {}) {
    return web_request("GET", web_->url() + path, headers);
  }
  Json get_json(const std::string& path) {
    WebReply r = get(path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return Json::parse(r.body, nullptr, false);
  }
  void sql(const std::string& statement) { exec_committed(conninfo, statement); }
  // Asks `path` twice (the second answer comes from the kept body) and
  // checks that both are the same.
  Json asked_twice(const std::string& path) {
    const Json first = get_json(path);
    const Json second = get_json(path);
    EXPECT_EQ(first, second) << path;
    return second;
  }
  int64_t newest_ = 0;
  std::unique_ptr<WebProcess> web_;
};

const Json* run_in(const Json& list, int64_t id) {
  for (const Json& r : list)
    if (r["id"] == id) return &r;
  return nullptr;
}

TEST_F(WebCacheTest, TheRunsListShowsACommittedChangeAtOnce) {
  const std::string page = "/api/v1/runs?limit=10";
  const int64_t target = newest_ - 3;
  Json before = asked_twice(page);
  ASSERT_TRUE(run_in(before["runs"], target));
  EXPECT_EQ((*run_in(before["runs"], target))["error"], "");

  // A change to a row on the page: same ids, new row version.
  sql("UPDATE runs SET status = 'failed', error = 'changed under the cache' WHERE id = " +
      std::to_string(target));
  Json after = get_json(page);
  ASSERT_TRUE(run_in(after["runs"], target));
  EXPECT_EQ((*run_in(after["runs"], target))["status"], "failed");
  EXPECT_EQ((*run_in(after["runs"], target))["error"], "changed under the cache");

  // A new run: it heads the page, which now ends one run further up.
  asked_twice(page);
  sql("INSERT INTO runs (pipeline_id, dag_hash, dag_file, trigger, status) SELECT pipeline_id, "
      "dag_hash, dag_file, 'api', 'queued' FROM runs WHERE id = " +
      std::to_string(newest_));
  Json grown = get_json(page);
  ASSERT_EQ(grown["runs"].size(), 10u);
  EXPECT_GT(grown["runs"][0]["id"].get<int64_t>(), newest_);
  EXPECT_EQ(grown["runs"][0]["status"], "queued");
  EXPECT_EQ(grown["runs"][0]["trigger"], "api");

  // A filtered list that had nothing gets the run that now matches.
  EXPECT_TRUE(asked_twice("/api/v1/runs?status=cancelled")["runs"].empty());
  sql("UPDATE runs SET status = 'cancelled' WHERE id = " + std::to_string(target - 1));
  Json cancelled = get_json("/api/v1/runs?status=cancelled");
  ASSERT_EQ(cancelled["runs"].size(), 1u);
  EXPECT_EQ(cancelled["runs"][0]["id"], target - 1);
}

TEST_F(WebCacheTest, TheRunDocumentShowsACommittedChangeAtOnce) {
  const std::string path = "/api/v1/runs/" + std::to_string(newest_ - 1);
  const Json before = asked_twice(path);
  ASSERT_EQ(before["steps"].size(), 2u) << before.dump();
  for (const Json& step : before["steps"]) EXPECT_NE(step["status"], "failed");
  WebReply kept = get(path);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(kept.headers, m, std::regex("ETag: (\"[0-9a-f]+\")")))
      << kept.headers;
  const std::string etag = m[1];
  EXPECT_EQ(get(path, {"If-None-Match: " + etag}).status, 304);

  // A step's state changes (the run's own row does not).
  sql("UPDATE run_steps SET status = 'failed', attempts = 2 WHERE run_id = " +
      std::to_string(newest_ - 1) + " AND step_id = 'load'");
  const Json after = get_json(path);
  bool seen = false;
  for (const Json& step : after["steps"])
    if (step["step_id"] == "load") seen = step["status"] == "failed" && step["attempts"] == 2;
  EXPECT_TRUE(seen) << after.dump();
  // The page polling with the old tag gets the new document, not a 304.
  WebReply polled = get(path, {"If-None-Match: " + etag});
  EXPECT_EQ(polled.status, 200);
  EXPECT_NE(polled.body.find("\"attempts\":2"), std::string::npos) << polled.body;

  // The run's own row, then a poll with the tag of the current state: 304.
  sql("UPDATE runs SET error = 'run changed' WHERE id = " + std::to_string(newest_ - 1));
  WebReply current = get(path);
  EXPECT_EQ(current.status, 200);
  EXPECT_NE(current.body.find("run changed"), std::string::npos);
  ASSERT_TRUE(std::regex_search(current.headers, m, std::regex("ETag: (\"[0-9a-f]+\")")));
  EXPECT_NE(m[1], etag);
  EXPECT_EQ(get(path, {"If-None-Match: " + m[1].str()}).status, 304);
}

TEST_F(WebCacheTest, ThePipelinesGridShowsACommittedChangeAtOnce) {
  const std::string grid = "/api/v1/pipelines?recent=14";
  Json before = asked_twice(grid);
  ASSERT_EQ(before["pipelines"].size(), 1u);
  const Json& p = before["pipelines"][0];
  EXPECT_EQ(p["runs"], 30);
  EXPECT_EQ(p["paused"], false);
  ASSERT_EQ(p["recent_runs"].size(), 14u);
  EXPECT_EQ(p["recent_runs"][0]["id"], newest_);

  // A step of a recent run changes.
  sql("UPDATE run_steps SET status = 'running' WHERE run_id = " + std::to_string(newest_ - 2) +
      " AND step_id = 'extract'");
  Json step = get_json(grid);
  EXPECT_EQ(step["pipelines"][0]["recent_runs"][2]["steps"]["extract"][0], "running");

  // Paused, then not: the pause row comes and goes.
  asked_twice(grid);
  store->queue().set_paused("cached", true);
  EXPECT_EQ(get_json(grid)["pipelines"][0]["paused"], true);
  EXPECT_EQ(get_json("/api/v1/pipelines")["pipelines"][0]["paused"], true);
  store->queue().set_paused("cached", false);
  EXPECT_EQ(get_json(grid)["pipelines"][0]["paused"], false);

  // A new run and a new pipeline.
  asked_twice(grid);
  sql("INSERT INTO runs (pipeline_id, dag_hash, dag_file, trigger, status) SELECT pipeline_id, "
      "dag_hash, dag_file, 'api', 'queued' FROM runs WHERE id = " +
      std::to_string(newest_));
  sql("INSERT INTO pipelines (name, dag_file, dag_hash) VALUES ('second', 'dags/second.yaml', "
      "'cached-snapshot')");
  Json after = get_json(grid);
  ASSERT_EQ(after["pipelines"].size(), 2u);
  EXPECT_EQ(after["pipelines"][0]["runs"], 31);
  EXPECT_EQ(after["pipelines"][0]["last_status"], "queued");
  EXPECT_GT(after["pipelines"][0]["recent_runs"][0]["id"].get<int64_t>(), newest_);
  EXPECT_EQ(after["pipelines"][1]["name"], "second");
  EXPECT_EQ(after["pipelines"][1]["runs"], 0);
  EXPECT_TRUE(after["pipelines"][1]["recent_runs"].empty());
}

}  // namespace
}  // namespace twinflow
