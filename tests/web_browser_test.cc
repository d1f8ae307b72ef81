// The dashboard in a real browser: Debian's headless Chromium, driven by
// playwright-core (tests/browser/dashboard.mjs), against the real `twinflow
// web` with a token, over runs the real executor recorded: a succeeded run, a
// failed run, and a crawl of a page whose text carries <script> and onerror=
// payloads. The runs page lists the runs, the DAG graph is drawn, the failed
// run's rerun button queues a run (checked in the database), and the payloads
// show as text without executing. Screenshots are kept under the build
// directory's test-output/web_browser/.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/web_test_support.h"
#include "web/http_server.h"

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

TEST_F(WebBrowserTest, RunsPageDagGraphRerunAndEscapedCrawledText) {
  ASSERT_TRUE(fs::exists(kBrowserDir / "node_modules" / "playwright-core"))
      << "run scripts/setup.sh: it installs chromium, nodejs and npm and runs `npm ci` in "
      << kBrowserDir;
  ASSERT_TRUE(fs::exists("/usr/bin/chromium")) << "run scripts/setup.sh (apt package chromium)";

  const auto ok = execute(prepare_fresh_run(load(write_dag("web_ok", kOkDag))));
  ASSERT_EQ(ok.status, "succeeded");
  const auto failed = execute(prepare_fresh_run(load(write_dag("web_failing", kFailingDag))));
  ASSERT_EQ(failed.status, "failed");

  // The hostile page, crawled by the real crawl step.
  HttpServer site([](const HttpRequest& r) {
    if (r.path != "/hostile.html") return HttpResponse::text(404, "no");
    return HttpResponse::text(200, xss_page()).header("Content-Type", "text/html; charset=utf-8");
  });
  site.start();
  const auto crawl = execute(prepare_fresh_run(
      load(write_dag("web_crawl",
                     "name: web_crawl\nsteps:\n  - id: crawl\n    type: crawl\n    params:\n"
                     "      author: tester\n      links: ['" +
                         site.base_url() +
                         "/hostile.html']\n"
                         "    outputs: [{name: documents, artifact: web_crawl_documents}]\n"))));
  ASSERT_EQ(crawl.status, "succeeded");
  auto documents = store->latest_documents("tester");
  ASSERT_EQ(documents.size(), 1u);
  ASSERT_NE(documents[0].title.find("<script>"), std::string::npos) << documents[0].title;

  const std::string token = "browser-test-token";
  WebProcess web(twinflow_env(), home / "web.log", token);
  ASSERT_FALSE(web.url().empty()) << read_file(home / "web.log");
  const fs::path out = fs::current_path() / "test-output" / "web_browser";
  fs::create_directories(out);
  const std::string command =
      "cd '" + kBrowserDir.string() + "' && timeout 120 node dashboard.mjs " + web.url() + " " +
      token + " " + std::to_string(failed.run_id) + " " + std::to_string(ok.run_id) + " " +
      std::to_string(documents[0].id) + " '" + out.string() + "'";
  auto [code, output] = run_command(command);
  EXPECT_EQ(code, 0) << output;
  for (const char* check : {"OK runs-list", "OK dag-graph", "OK timeline", "OK failed-log",
                            "OK rerun", "OK xss-shown-as-text", "OK xss-not-executed",
                            "OK xss-list-not-executed", "OK no-page-errors"})
    EXPECT_NE(output.find(check), std::string::npos) << check << "\n" << output;
  EXPECT_TRUE(fs::exists(out / "run.png"));

  // The rerun button queued a run for the daemon, linked to the failed run.
  bool queued = false;
  for (const auto& run : store->list_runs({}))
    queued |=
        run.status == "queued" && run.trigger == "rerun" && run.parent_run_id == failed.run_id;
  EXPECT_TRUE(queued) << output;
}

}  // namespace
}  // namespace twinflow
