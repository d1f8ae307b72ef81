// The dashboard in a real browser: Debian's headless Chromium, driven by
// playwright-core (tests/browser/dashboard.mjs), against the real `twinflow
// web` with a token, over what the real executor recorded: a succeeded run, a
// failed run, two training runs with metric series and a retried step, a run
// still running (the live view), two crawls (one page changed between them, one
// whose text carries <script> and onerror= payloads), models with stage
// changes and evaluations. Every page is visited; the script checks that its
// elements are there and sized (timeline bars, chart paths with points, the
// pipelines grid, the lineage graph folding a big layer), that no page shows
// NaN, undefined or [object Object] or logs a console error, that actions are
// offered only where they apply, that every control has an accessible name,
// that keyset paging walks both ways (runs, documents, an artifact's
// versions), that pages fit 800 px, and keeps a 1400x1000 screenshot of each page (and 800 px ones
// of several) in the build tree's screenshots/ directory.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "http/http_server.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "store/feature_store.h"
#include "store/model_registry.h"
#include "store/run_ledger.h"
#include "tests/web_test_support.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

const fs::path kSource = TWINFLOW_SOURCE_DIR;
const fs::path kBrowserDir = kSource / "tests" / "browser";

class WebBrowserTest : public TwinflowTest {};

// Runs a command and returns its exit code and combined output.
std::pair<int, std::string> run_command(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// Two training runs: loss, learning rate and epoch per step, a figure per
// epoch, and a step that fails once and succeeds on its retry.
std::string train_dag(const fs::path& marker) {
  return "name: web_train\nparams:\n  lr: '0.01'\n  epochs: '3'\nsteps:\n"
         "  - id: flaky\n    cache: false\n    retries: {count: 1, backoff: 10ms}\n    outputs: "
         "[data]\n"
         "    env: {LR: '${params.lr}'}\n    command: |\n"
         "      echo data > \"$TWINFLOW_OUTPUT_DIR/data\"\n"
         "      if [ ! -f '" +
         marker.string() + "'-$LR ]; then touch '" + marker.string() +
         "'-$LR; echo 'first try fails'; exit 1; fi\n"
         "  - id: train\n    cache: false\n    inputs: {data: flaky.data}\n    outputs: [model]\n"
         "    env: {LR: '${params.lr}', EPOCHS: '${params.epochs}'}\n"
         "    command: |\n"
         "      mkdir -p \"$TWINFLOW_OUTPUT_DIR/model\"; echo weights $LR > "
         "\"$TWINFLOW_OUTPUT_DIR/model/w\"\n"
         "      awk -v lr=\"$LR\" -v ep=\"$EPOCHS\" 'BEGIN { for (i = 1; i <= 60; i++) { e = "
         "int((i - 1) / 20) + 1;"
         " printf \"{\\\"metrics\\\": {\\\"loss\\\": %f, \\\"learning_rate\\\": %f, \\\"epoch\\\": "
         "%d}, \\\"step\\\": %d}\\n\","
         " 3 / (1 + i * lr * 10), lr * (1 - i / 80), e, i;"
         " if (i % 20 == 0) printf \"{\\\"metrics\\\": {\\\"test_perplexity\\\": %f}, "
         "\\\"step\\\": %d}\\n\", 40 / e, e } }'\n"
         "      echo '{\"metrics\": {\"final_loss\": 0.5}}'\n";
}

// A run that waits for a file: running while the browser watches it.
std::string live_dag(const fs::path& flag) {
  return "name: web_live\nsteps:\n  - id: wait\n    command: |\n      echo 'waiting for the flag'\n"
         "      while [ ! -f '" +
         flag.string() +
         "' ]; do sleep 0.2; done\n      echo 'flag seen'\n"
         "  - id: after\n    needs: [wait]\n    command: echo after\n";
}

TEST_F(WebBrowserTest, EveryPageDrawsItsRecordsLiveAndReadably) {
  ASSERT_TRUE(fs::exists(kBrowserDir / "node_modules" / "playwright-core"))
      << "run scripts/setup.sh: it installs chromium, nodejs and npm and runs `npm ci` in "
      << kBrowserDir;
  ASSERT_TRUE(fs::exists("/usr/bin/chromium")) << "run scripts/setup.sh (apt package chromium)";

  const auto ok = execute(prepare_fresh_run(load(write_dag("web_ok", kOkDag))));
  ASSERT_EQ(ok.status, "succeeded");
  const auto failed = execute(prepare_fresh_run(load(write_dag("web_failing", kFailingDag))));
  ASSERT_EQ(failed.status, "failed");
  const std::string train_file = write_dag("web_train", train_dag(home / "flaky-marker"));
  const auto train1 = execute(prepare_fresh_run(load(train_file)));
  ASSERT_EQ(train1.status, "succeeded");
  const auto train2 = execute(prepare_fresh_run(load(train_file, {{"lr", "0.02"}})));
  ASSERT_EQ(train2.status, "succeeded");
  write_dag("web_nightly",
            "name: web_nightly\nschedule: {cron: '0 3 * * *'}\nsteps:\n"
            "  - id: a\n    command: 'true'\n");

  // The crawled pages: a hostile one, and one whose text changes between crawls.
  std::atomic<int> phase{1};
  HttpServer site([&phase](const HttpRequest& r) {
    if (r.path == "/hostile.html")
      return HttpResponse::text(200, xss_page()).header("Content-Type", "text/html; charset=utf-8");
    if (r.path == "/changing.html") {
      std::string body =
          "<!doctype html><html><head><title>Retrieval notes</title></head><body>"
          "<article><h1>Retrieval notes</h1><p>Chunking splits documents into "
          "passages of a few hundred words so that retrieval finds them.</p>"
          "<p>Embeddings map each passage to a vector for the index.</p>";
      if (phase == 2)
        body +=
            "<p>A second crawl added this paragraph about hybrid search with BM25 and "
            "vectors combined by reciprocal rank fusion.</p>";
      body +=
          "<p>The last paragraph stays the same in every version of this page.</p>"
          "</article></body></html>";
      return HttpResponse::text(200, body).header("Content-Type", "text/html; charset=utf-8");
    }
    return HttpResponse::text(404, "no");
  });
  site.start();
  const std::string crawl_file =
      write_dag("web_crawl",
                "name: web_crawl\nsteps:\n  - id: crawl\n    type: crawl\n    params:\n"
                "      author: tester\n      requests_per_second: 0\n      links: ['" +
                    site.base_url() + "/hostile.html', '" + site.base_url() +
                    "/changing.html']\n"
                    "    outputs: [{name: documents, artifact: web_crawl_documents}]\n");
  ASSERT_EQ(execute(prepare_fresh_run(load(crawl_file))).status, "succeeded");
  phase = 2;
  const auto crawl2 = execute(prepare_fresh_run(load(crawl_file)));
  ASSERT_EQ(crawl2.status, "succeeded");
  int64_t xss_document = 0, changed_document = 0;
  for (const auto& d : store->features().latest_documents("tester")) {
    if (d.title.find("<script>") != std::string::npos) xss_document = d.id;
    if (d.url.ends_with("/changing.html")) changed_document = d.id;
  }
  ASSERT_GT(xss_document, 0);
  ASSERT_GT(changed_document, 0);
  // The crawl's manifest version, and 30 more documents of its crawl attempt
  // (one platform): a layer of the lineage graph that folds into a group.
  ArtifactVersionRecord manifest;
  for (const auto& v : store->runs().artifact_versions("web_crawl_documents"))
    if (v.version > manifest.version) manifest = v;
  ASSERT_TRUE(manifest.producer_step_run_id);
  {
    pqxx::connection c(conninfo);
    pqxx::work tx(c);
    tx.exec_params(
        "INSERT INTO documents (author, platform, kind, url, version, is_latest, title, content, "
        "content_sha256, step_run_id) SELECT 'tester', 'github', 'repository', "
        "'https://example.invalid/repo/blob/HEAD/file' || g, 1, true, 'file ' || g, 'text', "
        "md5(g::text), $1 FROM generate_series(1, 30) g",
        *manifest.producer_step_run_id);
    tx.commit();
  }

  // Models: "twin" v1 then v2 in production (rollback possible), each with an
  // evaluation; "solo" with its one version in production (no rollback).
  auto model_artifact = [&](int64_t run_id) {
    for (const auto& a : store->runs().step_runs(run_id))
      if (a.step_id == "train" && a.status == "succeeded")
        for (const auto& e : store->runs().edges_of_step_run(a.id))
          if (e.direction == "output") return e.version.id;
    return int64_t{0};
  };
  const int64_t model1 = model_artifact(train1.run_id), model2 = model_artifact(train2.run_id);
  ASSERT_GT(model1, 0);
  ASSERT_GT(model2, 0);
  store->models().register_model_version("twin", model1, std::nullopt, {{"perplexity", 21.5}});
  store->models().register_model_version("twin", model2, std::nullopt, {{"perplexity", 17.25}});
  auto evaluation = [](int version, double candidate, double baseline, bool passed) {
    return nlohmann::json{{"model", "twin"},
                          {"candidate_version", version},
                          {"candidate", {{"perplexity", candidate}, {"judge_accuracy", 0.7}}},
                          {"baseline", {{"perplexity", baseline}, {"judge_accuracy", 0.6}}},
                          {"baseline_kind", "production"},
                          {"gate",
                           {{"metric", "perplexity"},
                            {"direction", "lower"},
                            {"margin", 0.5},
                            {"passed", passed},
                            {"reason", passed ? "lower perplexity than production" : "no better"}}},
                          {"test_samples", 12}};
  };
  store->models().set_model_stage(
      "twin", 1, "production",
      {"first deploy", "deploy step", std::nullopt, evaluation(1, 21.5, 40, true)});
  store->models().set_model_stage(
      "twin", 2, "production",
      {"better", "deploy step", std::nullopt, evaluation(2, 17.25, 21.5, true)});
  store->models().register_model_version("solo", model1, std::nullopt, {{"perplexity", 30.0}});
  store->models().set_model_stage("solo", 1, "production", {"only one", "cli", std::nullopt, {}});

  // A run still running when the browser opens it.
  const fs::path flag = home / "live-flag";
  const pid_t live =
      spawn_twinflow({"run", write_dag("web_live", live_dag(flag))}, (home / "live.log").string());
  int64_t live_run = 0;
  for (int i = 0; i < 400 && live_run == 0; ++i) {
    for (const auto& r : store->runs().list_runs({}))
      if (r.pipeline == "web_live" && r.status == "running" && attempts_of(r.id, "wait") > 0)
        live_run = r.id;
    if (live_run == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GT(live_run, 0) << read_file(home / "live.log");

  const std::string token = "browser-test-token";
  WebProcess web(twinflow_env(), home / "web.log", token, {"--dags-dir", (home / "dags").string()});
  ASSERT_FALSE(web.url().empty()) << read_file(home / "web.log");
  const fs::path out = fs::path(TWINFLOW_BINARY).parent_path() / "screenshots";
  fs::create_directories(out);
  const nlohmann::json seed = {{"url", web.url()},
                               {"token", token},
                               {"out", out.string()},
                               {"ok", ok.run_id},
                               {"failed", failed.run_id},
                               {"train", {train1.run_id, train2.run_id}},
                               {"live", live_run},
                               {"flag", flag.string()},
                               {"xss_document", xss_document},
                               {"changed_document", changed_document},
                               {"manifest_version_id", manifest.id}};
  const fs::path seed_file = home / "browser-seed.json";
  std::ofstream(seed_file) << seed.dump();
  auto [code, output] =
      run_command("cd '" + kBrowserDir.string() + "' && timeout 300 node dashboard.mjs '" +
                  seed_file.string() + "'");
  std::ofstream(flag).put('\n');  // the live run ends even when the script failed early
  int status = 0;
  ::waitpid(live, &status, 0);
  EXPECT_EQ(code, 0) << output;
  for (const char* check : {"OK runs-list",        "OK dag-graph",
                            "OK timeline-bars",    "OK timeline-retry",
                            "OK charts",           "OK epoch-marks",
                            "OK params-table",     "OK no-actions-on-succeeded",
                            "OK failed-log",       "OK rerun",
                            "OK live-304",         "OK live-update",
                            "OK live-stopped",     "OK pipelines-grid",
                            "OK compare",          "OK model-evaluation",
                            "OK rollback-offered", "OK no-rollback-single",
                            "OK lineage-folded",   "OK lineage-expand",
                            "OK document-diff",    "OK keyboard-nav",
                            "OK paging",           "OK paging-runs",
                            "OK paging-versions",  "OK labels",
                            "OK width-800",        "OK xss-shown-as-text",
                            "OK xss-not-executed", "OK xss-list-not-executed",
                            "OK clean-text",       "OK no-console-errors",
                            "OK no-page-errors"})
    EXPECT_NE(output.find(check), std::string::npos) << check << "\n" << output;
  for (const char* shot :
       {"runs", "run", "run-live", "pipelines", "compare", "models", "model", "lineage",
        "documents", "document", "artifacts", "schedules", "runs-800", "run-800", "pipelines-800",
        "model-800", "compare-800", "document-800", "lineage-800"})
    EXPECT_TRUE(fs::exists(out / (std::string(shot) + ".png"))) << shot;

  // The rerun button queued a run for the daemon, linked to the failed run.
  bool queued = false;
  for (const auto& run : store->runs().list_runs({}))
    queued |=
        run.status == "queued" && run.trigger == "rerun" && run.parent_run_id == failed.run_id;
  EXPECT_TRUE(queued) << output;
}

}  // namespace
}  // namespace twinflow
