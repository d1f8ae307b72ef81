// The dashboard's JSON API (web/dashboard.h) over real HTTP: the real
// `twinflow web` in front of a real PostgreSQL, with runs recorded by the real
// executor. Filters, keyset pagination, 404s, bad parameters, size limits,
// step logs, artifact downloads that cannot leave their directories, lineage,
// escaping of crawled text, /metrics, and actions refused without the token.
#include <gtest/gtest.h>

#include <atomic>
#include <pqxx/pqxx>
#include <regex>

#include <future>
#include <set>
#include "store/dashboard_queries.h"

#include "http/http_server.h"
#include "store/feature_store.h"
#include "store/model_registry.h"
#include "store/run_ledger.h"
#include "store/run_queue.h"
#include "tests/web_test_support.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

using Json = nlohmann::json;
const std::string kToken = "test-token-0123456789";

class WebApiTest : public TwinflowTest {
 protected:
  int64_t run_ok() { return execute(prepare_fresh_run(load(write_dag("web_ok", kOkDag)))).run_id; }
  int64_t run_failing() {
    auto outcome = execute(prepare_fresh_run(load(write_dag("web_failing", kFailingDag))));
    EXPECT_EQ(outcome.status, "failed");
    return outcome.run_id;
  }
  void start(const std::string& token = kToken) {
    web_ = std::make_unique<WebProcess>(
        twinflow_env(), home / "web.log", token,
        std::vector<std::string>{"--dags-dir", (home / "dags").string()});
    ASSERT_FALSE(web_->url().empty()) << read_file(home / "web.log");
  }
  WebReply get(const std::string& path) { return web_request("GET", web_->url() + path); }
  Json get_json(const std::string& path, long expect = 200) {
    WebReply r = get(path);
    EXPECT_EQ(r.status, expect) << path << ": " << r.body;
    return Json::parse(r.body, nullptr, false);
  }
  WebReply post(const std::string& path, const std::string& body = "{}",
                std::vector<std::string> headers = {"Authorization: Bearer " + kToken}) {
    headers.push_back("Content-Type: application/json");
    return web_request("POST", web_->url() + path, headers, body);
  }
  std::unique_ptr<WebProcess> web_;
};

TEST_F(WebApiTest, ListsRunsWithFiltersAndKeysetPagination) {
  std::vector<int64_t> ok;
  for (int i = 0; i < 3; ++i) ok.push_back(run_ok());
  const int64_t failed = run_failing();
  start();
  Json page = get_json("/api/v1/runs?limit=2");
  ASSERT_EQ(page["runs"].size(), 2u);
  EXPECT_EQ(page["runs"][0]["id"], failed);  // newest first
  EXPECT_EQ(page["runs"][1]["id"], ok[2]);
  ASSERT_EQ(page["next_before"], ok[2]);
  Json next = get_json("/api/v1/runs?limit=2&before=" + std::to_string(ok[2]));
  ASSERT_EQ(next["runs"].size(), 2u);
  EXPECT_EQ(next["runs"][0]["id"], ok[1]);
  EXPECT_EQ(next["runs"][1]["id"], ok[0]);
  Json last = get_json("/api/v1/runs?limit=2&before=" + std::to_string(ok[0]));
  EXPECT_TRUE(last["runs"].empty());
  EXPECT_TRUE(last["next_before"].is_null());

  Json only_failed = get_json("/api/v1/runs?status=failed");
  ASSERT_EQ(only_failed["runs"].size(), 1u);
  EXPECT_EQ(only_failed["runs"][0]["id"], failed);
  EXPECT_EQ(get_json("/api/v1/runs?pipeline=web_ok")["runs"].size(), 3u);
  EXPECT_EQ(get_json("/api/v1/runs?pipeline=web_ok&status=failed")["runs"].size(), 0u);
  EXPECT_EQ(get_json("/api/v1/runs?trigger=manual")["runs"].size(), 4u);
  EXPECT_EQ(get_json("/api/v1/runs?trigger=rerun")["runs"].size(), 0u);
  EXPECT_EQ(get_json("/api/v1/runs?pipeline=no%20such")["runs"].size(), 0u);
}

TEST_F(WebApiTest, BadParametersGet400AndUnknownThingsGet404) {
  run_ok();
  start();
  for (const char* path :
       {"/api/v1/runs?limit=0", "/api/v1/runs?limit=abc", "/api/v1/runs?limit=100000",
        "/api/v1/runs?status=bogus", "/api/v1/runs?trigger=cron", "/api/v1/runs?before=-5",
        "/api/v1/runs/abc", "/api/v1/runs/0", "/api/v1/runs/1/steps/make/log?attempt=x",
        "/api/v1/metrics", "/api/v1/search", "/api/v1/artifacts/web_ok.make.bundle/versions/v1"}) {
    WebReply r = get(path);
    EXPECT_EQ(r.status, 400) << path << ": " << r.body;
    EXPECT_TRUE(Json::parse(r.body, nullptr, false).contains("error")) << path;
  }
  const std::string long_name(300, 'x');
  EXPECT_EQ(get("/api/v1/runs?pipeline=" + long_name).status, 400);
  for (const char* path :
       {"/api/v1/runs/999999", "/api/v1/runs/999999/graph.svg", "/api/v1/runs/1/steps/nope/log",
        "/api/v1/artifacts/nope/versions", "/api/v1/artifacts/web_ok.make.bundle/versions/9",
        "/api/v1/models/nope", "/api/v1/documents/77", "/api/v1/lineage/999", "/api/v1/nothing",
        "/no-such-page.html"}) {
    EXPECT_EQ(get(path).status, 404) << path;
  }
  EXPECT_EQ(get("/api/v1/runs/1/rerun").status, 405);  // a POST route
}

TEST_F(WebApiTest, ARunHasItsStepsAttemptsArtifactsMetricsAndGraph) {
  const int64_t ok = run_ok();
  const int64_t failed = run_failing();
  start();
  Json run = get_json("/api/v1/runs/" + std::to_string(ok));
  EXPECT_EQ(run["run"]["status"], "succeeded");
  ASSERT_EQ(run["steps"].size(), 2u);
  Json use;
  for (const Json& s : run["steps"])
    if (s["step_id"] == "use") use = s;
  ASSERT_FALSE(use.is_null());
  EXPECT_EQ(use["needs"], Json::array({"make"}));
  ASSERT_EQ(use["inputs"].size(), 1u);
  EXPECT_EQ(use["inputs"][0]["version"]["artifact"], "web_ok.make.bundle");
  EXPECT_EQ(use["outputs"][0]["version"]["artifact"], "web_ok.use.summary");

  Json bad = get_json("/api/v1/runs/" + std::to_string(failed));
  EXPECT_EQ(bad["run"]["status"], "failed");
  bool saw_exit_code = false;
  for (const Json& a : bad["attempts"])
    if (a["step_id"] == "boom") saw_exit_code = a["exit_code"] == 3 && a["status"] == "failed";
  EXPECT_TRUE(saw_exit_code) << bad.dump(2);

  Json metrics = get_json("/api/v1/runs/" + std::to_string(ok) + "/metrics");
  ASSERT_EQ(metrics["series"].size(), 1u) << metrics.dump();
  EXPECT_EQ(metrics["series"][0]["key"], "loss");
  EXPECT_EQ(metrics["series"][0]["points"], Json::parse("[[1, 0.9], [2, 0.4]]"));
  Json compared =
      get_json("/api/v1/metrics?runs=" + std::to_string(ok) + "," + std::to_string(failed));
  EXPECT_EQ(compared["runs"].size(), 2u);

  WebReply svg = get("/api/v1/runs/" + std::to_string(failed) + "/graph.svg");
  ASSERT_EQ(svg.status, 200);
  EXPECT_NE(svg.headers.find("image/svg+xml"), std::string::npos);
  EXPECT_NE(svg.body.find("<svg"), std::string::npos);
  EXPECT_NE(svg.body.find(">boom<"), std::string::npos);
  EXPECT_NE(svg.body.find("#f4a3a3"), std::string::npos);  // failed is red
  EXPECT_NE(svg.body.find("#b7e4c7"), std::string::npos);  // succeeded is green
}

TEST_F(WebApiTest, StepLogsAreTailedAndFollowedByOffset) {
  const int64_t ok = run_ok();
  start();
  const std::string base = "/api/v1/runs/" + std::to_string(ok) + "/steps/make/log";
  Json whole = get_json(base);
  const std::string text = whole["text"];
  EXPECT_NE(text.find("making the bundle\nloss 0.5\n"), std::string::npos) << text;
  EXPECT_EQ(whole["size"], text.size());
  EXPECT_EQ(whole["complete"], true);
  Json tail = get_json(base + "?tail=9");
  EXPECT_EQ(tail["text"], "loss 0.5\n");
  EXPECT_EQ(tail["offset"], text.size() - 9);
  Json from = get_json(base + "?offset=7&attempt=1");
  EXPECT_EQ(from["text"], text.substr(7));
  EXPECT_EQ(from["next_offset"], text.size());
  Json past = get_json(base + "?offset=100000");
  EXPECT_EQ(past["text"], "");
  WebReply raw = get(base + "/raw");
  EXPECT_EQ(raw.body, text);
  EXPECT_NE(raw.headers.find("attachment"), std::string::npos);
}

TEST_F(WebApiTest, DownloadsCannotLeaveTheirDirectories) {
  const int64_t ok = run_ok();
  const fs::path secret = home / "secret.txt";
  std::ofstream(secret) << "TOP SECRET\n";
  auto version = store->runs().find_artifact_version("web_ok.make.bundle", 1);
  ASSERT_TRUE(version);
  ASSERT_TRUE(fs::is_directory(version->uri));
  start();
  const std::string files = "/api/v1/artifacts/web_ok.make.bundle/versions/1/files/";
  WebReply good = get(files + "sub/b.txt");
  EXPECT_EQ(good.status, 200);
  EXPECT_EQ(good.body, "beta\n");
  EXPECT_NE(good.headers.find("application/octet-stream"), std::string::npos);

  // A symlink planted in the blob directory, pointing at the secret.
  fs::permissions(version->uri, fs::perms::owner_all, fs::perm_options::add);
  fs::create_symlink(secret, fs::path(version->uri) / "link.txt");
  const std::string up = std::string("../../../../../../../../") + "secret.txt";
  for (const std::string& attack :
       {up, std::string("sub/../../secret.txt"), std::string("%2e%2e/%2e%2e/secret.txt"),
        std::string("sub/%2e%2e/%2e%2e/secret.txt"), std::string("%2fetc%2fpasswd"),
        std::string("/etc/passwd"), std::string("sub%2f..%2f..%2fsecret.txt"),
        std::string("link.txt"), std::string("..%5c..%5csecret.txt"), std::string(".")}) {
    WebReply r = get(files + attack);
    EXPECT_TRUE(r.status == 403 || r.status == 404 || r.status == 400)
        << attack << " -> " << r.status << " " << r.body;
    EXPECT_EQ(r.body.find("TOP SECRET"), std::string::npos) << attack;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << attack;
  }
  // The same through a step's name on the log route.
  for (const std::string attack : {"..%2f..%2fsecret.txt", "%2e%2e", "..", "/etc/passwd"}) {
    WebReply r = get("/api/v1/runs/" + std::to_string(ok) + "/steps/" + attack + "/log");
    EXPECT_NE(r.status, 200) << attack;
    EXPECT_EQ(r.body.find("TOP SECRET"), std::string::npos) << attack;
  }
  // A log file swapped for a symlink to the secret is refused.
  auto attempt = store->runs().find_step_run(ok, "make", 1);
  ASSERT_TRUE(attempt);
  fs::remove(attempt->log_path);
  fs::create_symlink(secret, attempt->log_path);
  WebReply log = get("/api/v1/runs/" + std::to_string(ok) + "/steps/make/log");
  EXPECT_EQ(log.status, 403) << log.body;
  EXPECT_EQ(log.body.find("TOP SECRET"), std::string::npos);
  EXPECT_EQ(get("/api/v1/runs/" + std::to_string(ok) + "/steps/make/log/raw").status, 403);
}

TEST_F(WebApiTest, MutationsNeedTheTokenTheHeaderAndTheSameOrigin) {
  const int64_t failed = run_failing();
  start();
  const std::string rerun = "/api/v1/runs/" + std::to_string(failed) + "/rerun";
  EXPECT_EQ(post(rerun, "{}", {}).status, 403);
  EXPECT_EQ(post(rerun, "{}", {"Authorization: Bearer wrong"}).status, 403);
  EXPECT_EQ(post(rerun, "{}", {"Authorization: " + kToken}).status, 403);
  EXPECT_EQ(
      post(rerun, "{}", {"Authorization: Bearer " + kToken, "Origin: http://evil.example"}).status,
      403);
  EXPECT_EQ(
      post(rerun, "{}", {"Authorization: Bearer " + kToken, "Sec-Fetch-Site: cross-site"}).status,
      403);
  // A form post (text/plain, what a cross-site form can send) is refused.
  EXPECT_EQ(web_request("POST", web_->url() + rerun,
                        {"Authorization: Bearer " + kToken, "Content-Type: text/plain"}, "{}")
                .status,
            415);
  EXPECT_EQ(store->runs().list_runs({}).size(), 1u);  // nothing was queued

  WebReply accepted = post(rerun);
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  const int64_t queued = Json::parse(accepted.body)["run_id"];
  auto run = store->runs().find_run(queued);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->status, "queued");
  EXPECT_EQ(run->trigger, "rerun");
  EXPECT_EQ(run->parent_run_id, failed);
}

TEST_F(WebApiTest, WithoutATokenTheDashboardIsReadOnly) {
  const int64_t failed = run_failing();
  start("");
  EXPECT_EQ(get_json("/api/v1/info")["read_only"], true);
  for (const std::string& path :
       {"/api/v1/runs/" + std::to_string(failed) + "/rerun",
        "/api/v1/runs/" + std::to_string(failed) + "/cancel",
        std::string("/api/v1/pipelines/web_failing/trigger"),
        std::string("/api/v1/models/m/promote"), std::string("/api/v1/models/m/rollback")}) {
    WebReply r = post(path, "{}", {"Authorization: Bearer "});
    EXPECT_EQ(r.status, 403) << path;
    EXPECT_NE(r.body.find("read-only"), std::string::npos);
  }
  EXPECT_EQ(store->runs().list_runs({}).size(), 1u);
}

TEST_F(WebApiTest, TriggersCancelsPromotesAndRollsBack) {
  const int64_t ok = run_ok();
  start();
  WebReply triggered = post("/api/v1/pipelines/web_ok/trigger", R"({"params": {}})");
  ASSERT_EQ(triggered.status, 202) << triggered.body;
  const int64_t queued = Json::parse(triggered.body)["run_id"];
  EXPECT_EQ(store->runs().find_run(queued)->status, "queued");
  EXPECT_EQ(store->runs().find_run(queued)->trigger, "api");
  EXPECT_EQ(post("/api/v1/pipelines/nope/trigger").status, 404);

  EXPECT_EQ(post("/api/v1/runs/" + std::to_string(queued) + "/cancel").status, 202);
  EXPECT_TRUE(store->runs().find_run(queued)->cancel_requested);
  EXPECT_EQ(post("/api/v1/runs/" + std::to_string(ok) + "/cancel").status, 409);  // finished
  EXPECT_EQ(post("/api/v1/runs/" + std::to_string(ok) + "/rerun").status, 409);   // all succeeded

  auto v1 = store->runs().find_artifact_version("web_ok.make.bundle", 1);
  auto v2 = store->runs().find_artifact_version("web_ok.use.summary", 1);
  store->models().register_model_version("twin", v1->id, std::nullopt, {{"perplexity", 3.0}});
  store->models().register_model_version("twin", v2->id, std::nullopt, {{"perplexity", 2.0}});
  EXPECT_EQ(post("/api/v1/models/twin/promote", R"({"version": 1})").status, 200);
  WebReply second = post("/api/v1/models/twin/promote", R"({"version": 2, "reason": "better"})");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(store->models().production_model("twin")->version, 2);
  EXPECT_EQ(post("/api/v1/models/twin/promote", R"({"version": "2"})").status, 400);
  EXPECT_EQ(post("/api/v1/models/twin/promote", R"({"version": 2, "stage": "gold"})").status, 400);
  EXPECT_EQ(post("/api/v1/models/twin/promote", R"({"version": 9})").status, 404);
  EXPECT_EQ(post("/api/v1/models/twin/promote", "not json").status, 400);
  WebReply back = post("/api/v1/models/twin/rollback", R"({"reason": "regressed"})");
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(store->models().production_model("twin")->version, 1);
  Json model = get_json("/api/v1/models/twin");
  ASSERT_FALSE(model["history"].empty());
  EXPECT_EQ(model["history"].back()["actor"], "dashboard");
  EXPECT_EQ(model["history"].back()["reason"], "regressed");
}

TEST_F(WebApiTest, LineageReachesSourceDocumentsAndModels) {
  const int64_t ok = run_ok();
  auto bundle = store->runs().find_artifact_version("web_ok.make.bundle", 1);
  auto summary = store->runs().find_artifact_version("web_ok.use.summary", 1);
  DocumentToStore doc;
  doc.author = "tester";
  doc.platform = "web";
  doc.kind = "article";
  doc.url = "http://127.0.0.1:1/source.html";
  doc.title = "The source";
  doc.content = "words";
  doc.step_run_id = *bundle->producer_step_run_id;
  store->features().upsert_document(doc);
  store->models().register_model_version("twin", summary->id, std::nullopt, {});
  start();
  Json graph = get_json("/api/v1/lineage/" + std::to_string(summary->id));
  std::set<std::string> kinds, labels;
  for (const Json& n : graph["nodes"]) {
    kinds.insert(n["kind"].get<std::string>());
    if (n["kind"] == "document") labels.insert(n["url"].get<std::string>());
    if (n["kind"] == "version") labels.insert(n["artifact"].get<std::string>());
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"document", "model", "step_run", "version"}));
  EXPECT_TRUE(labels.count("http://127.0.0.1:1/source.html"));
  EXPECT_TRUE(labels.count("web_ok.make.bundle"));
  // From the upstream end, the model is reached downstream.
  Json down = get_json("/api/v1/lineage/" + std::to_string(bundle->id));
  bool model_found = false;
  for (const Json& n : down["nodes"]) model_found |= n["kind"] == "model" && n["model"] == "twin";
  EXPECT_TRUE(model_found) << down.dump(2);
  WebReply svg = get("/api/v1/lineage/" + std::to_string(summary->id) + "/graph.svg");
  EXPECT_EQ(svg.status, 200);
  EXPECT_NE(svg.body.find("source.html"), std::string::npos);
  Json version = get_json("/api/v1/artifacts/web_ok.make.bundle/versions/1");
  EXPECT_EQ(version["files"].size(), 2u);
  EXPECT_EQ(version["version"]["sha256"], bundle->content_hash);
  (void)ok;
}

TEST_F(WebApiTest, CrawledMarkupIsEscapedInTheApi) {
  DocumentToStore doc;
  doc.author = "tester";
  doc.platform = "web";
  doc.kind = "article";
  doc.url = "http://127.0.0.1:1/x.html";
  doc.title = kXssTitle;
  doc.content = "text <img src=x onerror=\"window.__pwned=true\"> & more";
  const int64_t id = store->features().upsert_document(doc).id;
  start();
  WebReply r = get("/api/v1/documents/" + std::to_string(id));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("<script"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("<img"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\\u003cscript\\u003e"), std::string::npos) << r.body;
  EXPECT_NE(r.headers.find("application/json"), std::string::npos);
  EXPECT_NE(r.headers.find("Content-Security-Policy: default-src 'self'; script-src 'self'"),
            std::string::npos);
  EXPECT_NE(r.headers.find("X-Content-Type-Options: nosniff"), std::string::npos);
  Json parsed = Json::parse(r.body);  // the JSON still reads back as the text
  EXPECT_EQ(parsed["title"], kXssTitle);
  EXPECT_EQ(parsed["content"], doc.content);
  EXPECT_EQ(get("/api/v1/documents").body.find("<script"), std::string::npos);
}

TEST_F(WebApiTest, RequestSizeLimitsAreEnforced) {
  run_failing();
  start();
  WebReply big = post("/api/v1/pipelines/web_failing/trigger",
                      R"({"params": {"x": ")" + std::string(100 << 10, 'a') + "\"}}");
  EXPECT_EQ(big.status, 413);
  WebReply huge_header =
      web_request("GET", web_->url() + "/api/v1/runs", {"X-Filler: " + std::string(20 << 10, 'b')});
  EXPECT_EQ(huge_header.status, 431);
  EXPECT_EQ(store->runs().list_runs({}).size(), 1u);
  EXPECT_EQ(get("/api/v1/runs").status, 200);  // the server is still fine
}

TEST_F(WebApiTest, PrometheusMetricsCountRunsStepsQueueAndSchedulers) {
  run_ok();
  run_failing();
  store->queue().enqueue_run(new_run_of(load(write_dag("web_ok", kOkDag)), "api"), {});
  const int64_t scheduler = store->queue().register_scheduler("bench-host", 4242);
  start();
  WebReply r = get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.headers.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(r.body.find("twinflow_runs{status=\"succeeded\"} 1\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("twinflow_runs{status=\"failed\"} 1\n"), std::string::npos);
  EXPECT_NE(r.body.find("twinflow_queue_depth 1\n"), std::string::npos);
  // 4 executed attempts (make, use, first, boom), all quicker than 30 s.
  EXPECT_NE(r.body.find("twinflow_step_duration_seconds_bucket{le=\"30\"} 4\n"), std::string::npos);
  EXPECT_NE(r.body.find("twinflow_step_duration_seconds_count 4\n"), std::string::npos);
  EXPECT_NE(r.body.find("twinflow_scheduler_heartbeat_age_seconds{scheduler=\"" +
                        std::to_string(scheduler) + "\",host=\"bench-host\",pid=\"4242\"}"),
            std::string::npos);
  EXPECT_NE(r.body.find("twinflow_schedulers 1\n"), std::string::npos);
}

TEST_F(WebApiTest, ServesTheCompiledInPagesAndSchedules) {
  write_dag("nightly",
            "name: nightly\nschedule: {cron: '0 3 * * *'}\nsteps:\n"
            "  - id: a\n    command: 'true'\n");
  store->queue().set_paused("nightly", true);
  start();
  WebReply index = get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_NE(index.body.find("/assets/app.js"), std::string::npos);
  EXPECT_NE(index.headers.find("text/html"), std::string::npos);
  EXPECT_EQ(get("/assets/app.js").status, 200);
  EXPECT_NE(get("/assets/core.js").body.find("createTextNode"), std::string::npos);
  for (const char* asset : {"app", "core", "charts", "graph", "run", "pipelines", "records"}) {
    WebReply script = get("/assets/" + std::string(asset) + ".js");
    EXPECT_EQ(script.status, 200) << asset;
    EXPECT_NE(index.body.find("/assets/" + std::string(asset) + ".js"), std::string::npos) << asset;
    EXPECT_EQ(script.body.find("innerHTML"), std::string::npos)
        << asset;  // never parse data as HTML
  }
  Json schedules = get_json("/api/v1/schedules?count=2");
  ASSERT_EQ(schedules["schedules"].size(), 1u) << schedules.dump();
  EXPECT_EQ(schedules["schedules"][0]["pipeline"], "nightly");
  EXPECT_EQ(schedules["schedules"][0]["paused"], true);
  ASSERT_EQ(schedules["schedules"][0]["next"].size(), 2u);
  EXPECT_TRUE(schedules["schedules"][0]["next"][0].get<std::string>().ends_with("03:00:00Z"));
}

// Every time the API returns, anywhere in a document: RFC 3339 UTC with
// milliseconds, or null.
void expect_rfc3339_times(const Json& doc, const std::string& where) {
  static const std::regex kTime(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  if (doc.is_array()) {
    for (const auto& item : doc) expect_rfc3339_times(item, where);
  } else if (doc.is_object()) {
    for (const auto& [key, value] : doc.items()) {
      if (key.ends_with("_at") || key == "logical_time") {
        EXPECT_TRUE(value.is_null() ||
                    (value.is_string() && std::regex_match(value.get<std::string>(), kTime)))
            << where << ": " << key << " = " << value.dump();
      } else {
        expect_rfc3339_times(value, where);
      }
    }
  }
}

TEST(Rfc3339, ConvertsPostgresTimestampsToUtcWithMilliseconds) {
  EXPECT_EQ(rfc3339("2026-12-02 08:38:32.926822+00"), "2026-12-02T08:38:32.926Z");
  EXPECT_EQ(rfc3339("2026-12-02 08:38:32+00"), "2026-12-02T08:38:32.000Z");
  EXPECT_EQ(rfc3339("2026-12-02 08:38:32.5+05:30"), "2026-12-02T03:08:32.500Z");
  EXPECT_EQ(rfc3339("2026-12-31 23:30:00-01"), "2027-01-01T00:30:00.000Z");
  EXPECT_EQ(rfc3339("2024-03-01 00:10:00+01"), "2024-02-29T23:10:00.000Z");
  EXPECT_EQ(rfc3339("2026-12-02T08:38:32Z"), "2026-12-02T08:38:32.000Z");
  EXPECT_EQ(rfc3339("1969-12-31 23:59:59.999+00"), "1969-12-31T23:59:59.999Z");
  EXPECT_TRUE(rfc3339("").is_null());
  EXPECT_TRUE(rfc3339("infinity").is_null());
  EXPECT_TRUE(rfc3339("2026-13-02 08:38:32+00").is_null());
  EXPECT_TRUE(rfc3339("2026-12-02 08:38:32+00 trailing").is_null());
}

TEST_F(WebApiTest, EveryTimeIsRfc3339) {
  const int64_t ok = run_ok();
  const int64_t failed = run_failing();
  HttpServer site([](const HttpRequest&) {
    return HttpResponse::text(200, xss_page()).header("Content-Type", "text/html; charset=utf-8");
  });
  site.start();
  ASSERT_EQ(execute(prepare_fresh_run(load(write_dag(
                        "web_crawl",
                        "name: web_crawl\nsteps:\n  - id: crawl\n    type: crawl\n"
                        "    params:\n      author: tester\n      links: ['" +
                            site.base_url() +
                            "/page.html']\n    outputs: [{name: documents, artifact: docs}]\n"))))
                .status,
            "succeeded");
  const auto docs = store->features().latest_documents("tester");
  ASSERT_EQ(docs.size(), 1u);
  const auto bundle = store->runs().artifact_versions("web_ok.make.bundle");
  ASSERT_FALSE(bundle.empty());
  store->models().register_model_version("twin", bundle[0].id, std::nullopt, {{"perplexity", 3.5}});
  store->models().set_model_stage("twin", 1, "production", {"test", "cli", std::nullopt, {}});
  start();
  for (const std::string& path : std::vector<std::string>{
           "/api/v1/runs", "/api/v1/runs/" + std::to_string(ok),
           "/api/v1/runs/" + std::to_string(failed), "/api/v1/metrics?runs=" + std::to_string(ok),
           "/api/v1/pipelines?recent=5", std::string("/api/v1/artifacts"),
           std::string("/api/v1/artifacts/web_ok.make.bundle/versions"),
           std::string("/api/v1/artifacts/web_ok.make.bundle/versions/1"),
           std::string("/api/v1/models"), std::string("/api/v1/models/twin"),
           std::string("/api/v1/prompts"), std::string("/api/v1/documents"),
           "/api/v1/documents/" + std::to_string(docs[0].id)}) {
    WebReply r = get(path);
    ASSERT_EQ(r.status, 200) << path << ": " << r.body;
    EXPECT_EQ(r.body.find("+00\""), std::string::npos) << path << ": " << r.body.substr(0, 400);
    expect_rfc3339_times(Json::parse(r.body), path);
  }
  // A finished run has all of its times.
  Json run = get_json("/api/v1/runs/" + std::to_string(ok));
  for (const char* key : {"created_at", "started_at", "finished_at"})
    EXPECT_TRUE(run["run"][key].is_string()) << key << ": " << run.dump();
  for (const auto& a : run["attempts"]) EXPECT_TRUE(a["finished_at"].is_string()) << a.dump();
}

TEST_F(WebApiTest, ARunAnswers304WhileItIsUnchanged) {
  const int64_t ok = run_ok();
  start();
  const std::string url = web_->url() + "/api/v1/runs/" + std::to_string(ok);
  WebReply first = web_request("GET", url);
  ASSERT_EQ(first.status, 200);
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(first.headers, m, std::regex("ETag: (\"[0-9a-f]+\")", std::regex::icase)))
      << first.headers;
  const std::string etag = m[1];
  WebReply same = web_request("GET", url, {"If-None-Match: " + etag});
  EXPECT_EQ(same.status, 304);
  EXPECT_TRUE(same.body.empty());
  EXPECT_NE(same.headers.find(etag), std::string::npos) << same.headers;
  EXPECT_EQ(web_request("GET", url, {"If-None-Match: \"0000000000000000\""}).status, 200);
  {
    pqxx::connection c(conninfo);
    pqxx::work tx(c);
    tx.exec_params("UPDATE runs SET error = 'changed' WHERE id = $1", ok);
    tx.commit();
  }
  WebReply changed = web_request("GET", url, {"If-None-Match: " + etag});
  EXPECT_EQ(changed.status, 200);
  EXPECT_NE(changed.body.find("changed"), std::string::npos);
  EXPECT_EQ(changed.headers.find(etag), std::string::npos);
}

TEST_F(WebApiTest, PipelinesCarryTheirLastRunsAsAGrid) {
  const int64_t ok1 = run_ok();
  const int64_t ok2 = run_ok();
  const int64_t failed = run_failing();
  start();
  Json plain = get_json("/api/v1/pipelines");
  for (const auto& p : plain["pipelines"]) EXPECT_FALSE(p.contains("recent_runs")) << p.dump();
  Json grid = get_json("/api/v1/pipelines?recent=1");
  std::map<std::string, Json> by_name;
  for (const auto& p : grid["pipelines"]) by_name[p["name"]] = p;
  ASSERT_EQ(by_name["web_ok"]["recent_runs"].size(), 1u);  // the newest only
  EXPECT_EQ(by_name["web_ok"]["recent_runs"][0]["id"], ok2);
  EXPECT_EQ(by_name["web_ok"]["steps"], Json({"make", "use"}));
  EXPECT_EQ(by_name["web_ok"]["recent_runs"][0]["steps"]["use"],
            Json({"cached", 1}));  // the second run reused the first
  Json two = get_json("/api/v1/pipelines?recent=2");
  for (const auto& p : two["pipelines"])
    if (p["name"] == "web_ok") {
      ASSERT_EQ(p["recent_runs"].size(), 2u);
      EXPECT_EQ(p["recent_runs"][1]["id"], ok1);
    }
  const Json& f = by_name["web_failing"]["recent_runs"][0];
  EXPECT_EQ(f["id"], failed);
  EXPECT_EQ(f["status"], "failed");
  EXPECT_EQ(f["steps"]["boom"][0], "failed");
  EXPECT_EQ(get("/api/v1/pipelines?recent=51").status, 400);
}

TEST_F(WebApiTest, ADocumentListsItsVersions) {
  std::atomic<int> phase{1};
  HttpServer site([&phase](const HttpRequest&) {
    std::string body =
        "<!doctype html><html><head><title>Notes</title></head><body><article><h1>Notes</h1>"
        "<p>The first paragraph says enough words to be kept as the body of an article.</p>";
    if (phase == 2) body += "<p>A second crawl found this new paragraph about retrieval.</p>";
    return HttpResponse::text(200, body + "</article></body></html>")
        .header("Content-Type", "text/html; charset=utf-8");
  });
  site.start();
  const std::string dag = write_dag(
      "web_crawl",
      "name: web_crawl\nsteps:\n  - id: crawl\n    type: crawl\n    params:\n"
      "      author: tester\n      links: ['" +
          site.base_url() + "/notes.html']\n    outputs: [{name: documents, artifact: docs}]\n");
  ASSERT_EQ(execute(prepare_fresh_run(load(dag))).status, "succeeded");
  phase = 2;
  ASSERT_EQ(execute(prepare_fresh_run(load(dag))).status, "succeeded");
  const auto docs = store->features().latest_documents("tester");
  ASSERT_EQ(docs.size(), 1u);
  start();
  Json doc = get_json("/api/v1/documents/" + std::to_string(docs[0].id));
  ASSERT_EQ(doc["versions"].size(), 2u) << doc.dump();
  EXPECT_EQ(doc["versions"][0]["version"], 2);
  EXPECT_EQ(doc["versions"][0]["id"], docs[0].id);
  EXPECT_EQ(doc["versions"][0]["is_latest"], true);
  EXPECT_EQ(doc["versions"][1]["version"], 1);
  Json older = get_json("/api/v1/documents/" + doc["versions"][1]["id"].dump());
  EXPECT_EQ(older["versions"], doc["versions"]);  // the same list from any version
  EXPECT_EQ(older["content"].get<std::string>().find("new paragraph"), std::string::npos);
  EXPECT_NE(doc["content"].get<std::string>().find("new paragraph"), std::string::npos);
}

}  // namespace
}  // namespace twinflow

namespace twinflow {
namespace {

// Issue 17, item 5: a file name is data, never header syntax.
TEST_F(WebApiTest, DownloadNamesAreEncodedNotSentAsHeaders) {
  run_ok();
  auto version = store->runs().find_artifact_version("web_ok.make.bundle", 1);
  ASSERT_TRUE(version);
  fs::permissions(version->uri, fs::perms::owner_all, fs::perm_options::add);
  const std::string evil = "x\r\nSet-Cookie: pwned=1";
  std::ofstream(fs::path(version->uri) / evil) << "payload\n";
  std::ofstream(fs::path(version->uri) / "a\"b.txt") << "quoted\n";
  std::ofstream(fs::path(version->uri) / "r\xC3\xA9sum\xC3\xA9.txt") << "accent\n";
  start();
  const std::string files = "/api/v1/artifacts/web_ok.make.bundle/versions/1/files/";
  WebReply injected = get(files + "x%0D%0ASet-Cookie:%20pwned=1");
  ASSERT_EQ(injected.status, 200) << injected.headers;
  EXPECT_EQ(injected.body, "payload\n");
  EXPECT_EQ(injected.headers.find("\nSet-Cookie"), std::string::npos) << injected.headers;
  EXPECT_NE(injected.headers.find("Content-Disposition: attachment; filename=\"x__Set-Cookie: "
                                  "pwned=1\"; filename*=UTF-8''x%0D%0ASet-Cookie%3A%20pwned%3D1"),
            std::string::npos)
      << injected.headers;
  WebReply quoted = get(files + "a%22b.txt");
  ASSERT_EQ(quoted.status, 200);
  EXPECT_NE(quoted.headers.find("filename=\"a_b.txt\"; filename*=UTF-8''a%22b.txt"),
            std::string::npos)
      << quoted.headers;
  WebReply accent = get(files + "r%C3%A9sum%C3%A9.txt");
  ASSERT_EQ(accent.status, 200);
  EXPECT_NE(accent.headers.find("filename=\"r__sum__.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"),
            std::string::npos)
      << accent.headers;
}

// Issue 17, item 7: the media type is application/json, not a prefix of one.
TEST_F(WebApiTest, ActionsTakeOnlyTheJsonMediaType) {
  const int64_t failed = run_failing();
  start();
  const std::string rerun = web_->url() + "/api/v1/runs/" + std::to_string(failed) + "/rerun";
  for (const char* type : {"application/jsonx", "application/json-patch+json", "text/json", ""}) {
    WebReply r = web_request(
        "POST", rerun, {"Authorization: Bearer " + kToken, std::string("Content-Type: ") + type},
        "{}");
    EXPECT_EQ(r.status, 415) << type << ": " << r.body;
  }
  EXPECT_EQ(store->runs().list_runs({}).size(), 1u);
  WebReply ok = web_request(
      "POST", rerun,
      {"Authorization: Bearer " + kToken, "Content-Type: Application/JSON; charset=utf-8"}, "{}");
  EXPECT_EQ(ok.status, 202) << ok.body;
}

// Issue 17, item 9: a double click queues one rerun, also when both clicks
// arrive at once.
TEST_F(WebApiTest, TwoRerunsOfOneRunQueueOneRun) {
  const int64_t failed = run_failing();
  start();
  const std::string rerun = "/api/v1/runs/" + std::to_string(failed) + "/rerun";
  constexpr int kClicks = 4;
  std::vector<std::future<WebReply>> clicks;
  for (int i = 0; i < kClicks; ++i)
    clicks.push_back(std::async(std::launch::async, [&] { return post(rerun); }));
  std::set<int64_t> ids;
  int created = 0;
  for (auto& click : clicks) {
    WebReply r = click.get();
    ASSERT_TRUE(r.status == 202 || r.status == 200) << r.status << " " << r.body;
    created += r.status == 202;
    ids.insert(Json::parse(r.body)["run_id"].get<int64_t>());
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(store->runs().list_runs({}).size(), 2u);  // the failed run and one rerun
  WebReply again = post(rerun);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(Json::parse(again.body)["existing"], true);
}

TEST_F(WebApiTest, AnIdempotencyKeyReplaysTheFirstAnswer) {
  run_ok();
  start();
  const std::string trigger = "/api/v1/pipelines/web_ok/trigger";
  const std::vector<std::string> headers = {"Authorization: Bearer " + kToken,
                                            "Idempotency-Key: 3f6c1c1e-trigger-once"};
  std::vector<std::future<WebReply>> tries;
  for (int i = 0; i < 3; ++i)
    tries.push_back(std::async(std::launch::async, [&] { return post(trigger, "{}", headers); }));
  std::set<int64_t> ids;
  int in_progress = 0;
  for (auto& t : tries) {
    WebReply r = t.get();
    if (r.status == 409) {
      ++in_progress;  // arrived while the first was being answered
      continue;
    }
    ASSERT_EQ(r.status, 202) << r.body;
    ids.insert(Json::parse(r.body)["run_id"].get<int64_t>());
  }
  WebReply replay = post(trigger, "{}", headers);
  ASSERT_EQ(replay.status, 202) << replay.body;
  EXPECT_NE(replay.headers.find("Idempotent-Replayed: true"), std::string::npos);
  ids.insert(Json::parse(replay.body)["run_id"].get<int64_t>());
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(store->runs().list_runs({}).size(), 2u);  // the first run and one trigger
  // The same key for another request is refused; a new key acts again.
  EXPECT_EQ(post(trigger, R"({"params": {"x": 1}})", headers).status, 422);
  EXPECT_EQ(
      post(trigger, "{}", {"Authorization: Bearer " + kToken, "Idempotency-Key: \x01"}).status,
      400);
  EXPECT_EQ(
      post(trigger, "{}", {"Authorization: Bearer " + kToken, "Idempotency-Key: other"}).status,
      202);
  EXPECT_EQ(store->runs().list_runs({}).size(), 3u);
  (void)in_progress;
}

TEST_F(WebApiTest, ARollbackNamingItsVersionHappensOnce) {
  run_ok();
  auto v1 = store->runs().find_artifact_version("web_ok.make.bundle", 1);
  auto v2 = store->runs().find_artifact_version("web_ok.use.summary", 1);
  store->models().register_model_version("twin", v1->id, std::nullopt, {{"perplexity", 3.0}});
  store->models().register_model_version("twin", v2->id, std::nullopt, {{"perplexity", 2.0}});
  start();
  ASSERT_EQ(post("/api/v1/models/twin/promote", R"({"version": 1})").status, 200);
  ASSERT_EQ(post("/api/v1/models/twin/promote", R"({"version": 2})").status, 200);
  EXPECT_EQ(post("/api/v1/models/twin/rollback", R"({"from_version": 2})").status, 200);
  EXPECT_EQ(post("/api/v1/models/twin/rollback", R"({"from_version": 2})").status, 409);
  EXPECT_EQ(store->models().production_model("twin")->version, 1);
}

}  // namespace
}  // namespace twinflow
