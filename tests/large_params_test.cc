// Params of any size reach a step (issue 17 item 10): Linux refuses an exec
// whose single environment variable passes 128 KiB, so large params travel in
// TWINFLOW_PARAMS_FILE and context.json only. Real subprocesses, a real crawl
// of 20,000 links against a real HTTP server on 127.0.0.1.
#include <gtest/gtest.h>

#include <atomic>

#include "http/http_server.h"
#include "scheduler/execution/step_protocol.h"
#include "store/feature_store.h"
#include "store/run_ledger.h"
#include "tests/support/twinflow_fixture.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

class LargeParamsTest : public TwinflowTest {};

TEST_F(LargeParamsTest, AShellStepReadsLargeParamsFromTheFileAndSmallOnesInline) {
  const std::string big(200 * 1024, 'x');  // past the 128 KiB a variable may hold
  const std::string dag = R"(name: big_params
steps:
  - id: big
    params: {blob: ")" + big +
                          R"("}
    command: 'printf "%s|" "${TWINFLOW_PARAMS-unset}" > $TWINFLOW_OUTPUT_DIR/out; wc -c < "$TWINFLOW_PARAMS_FILE" | tr -d " " >> $TWINFLOW_OUTPUT_DIR/out'
    outputs: [{name: out, artifact: big_out}]
  - id: small
    params: {word: hello}
    command: 'printf "%s|" "$TWINFLOW_PARAMS" > $TWINFLOW_OUTPUT_DIR/out; cat "$TWINFLOW_PARAMS_FILE" >> $TWINFLOW_OUTPUT_DIR/out'
    outputs: [{name: out, artifact: small_out}]
)";
  auto outcome = execute(prepare_fresh_run(load(write_dag("big_params", dag))));
  ASSERT_EQ(outcome.status, "succeeded")
      << read_file(home / "logs" / std::to_string(outcome.run_id) / "big.1.log");
  const std::string expected_size = std::to_string(nlohmann::json{{"blob", big}}.dump().size());
  EXPECT_EQ(read_file(store->runs().artifact_versions("big_out").back().uri),
            "unset|" + expected_size + "\n");
  EXPECT_EQ(read_file(store->runs().artifact_versions("small_out").back().uri),
            R"({"word":"hello"}|{"word":"hello"})");
}

TEST_F(LargeParamsTest, AStepEnvValueTooLargeToExecFailsTheAttemptWithItsReason) {
  const std::string dag = R"(name: big_env
steps:
  - id: step
    env: {HUGE: ")" + std::string(130 * 1024, 'y') +
                          R"("}
    command: 'true'
)";
  auto outcome = execute(prepare_fresh_run(load(write_dag("big_env", dag))));
  EXPECT_EQ(outcome.status, "failed");
  std::string errors;
  for (const auto& end : progress.ends) errors += end.reason + "\n";
  EXPECT_NE(errors.find("Argument list too long"), std::string::npos) << errors;
}

TEST_F(LargeParamsTest, ACrawlOf20000LinksGetsPastTheLaunch) {
  std::atomic<int> requests{0};
  HttpServer server([&](const HttpRequest& request) {
    ++requests;
    if (request.path.starts_with("/p/") && request.path.size() <= 4)  // /p/0 .. /p/9
      return HttpResponse::text(200, "<html><head><title>Page " + request.path.substr(3) +
                                         "</title></head><body><article><p>Text of page " +
                                         request.path.substr(3) + ".</p></article></body></html>")
          .header("Content-Type", "text/html");
    return HttpResponse::text(404, "");
  });
  server.start();
  std::string dag =
      "name: wide_crawl\nsteps:\n  - id: crawl\n    type: crawl\n    params:\n"
      "      author: tester\n      timeout: 5s\n      retries: 0\n      concurrency: 16\n"
      "      requests_per_second: 0\n      max_failure_ratio: 1.0\n      links:\n";
  for (int i = 0; i < 20000; ++i)
    dag += "        - " + server.base_url() + "/p/" + std::to_string(i) + "\n";
  dag += "    outputs: [{name: documents, artifact: wide_documents}]\n";
  auto outcome = execute(prepare_fresh_run(load(write_dag("wide_crawl", dag))));
  ASSERT_EQ(outcome.status, "succeeded")
      << read_file(home / "logs" / std::to_string(outcome.run_id) / "crawl.1.log");
  EXPECT_GE(requests.load(), 20000);
  EXPECT_EQ(store->features().latest_documents("tester").size(), 10u);
  auto manifest = nlohmann::json::parse(
      read_file(store->runs().artifact_versions("wide_documents").back().uri));
  EXPECT_EQ(manifest["failures"].size(), 19990u);
}

}  // namespace
}  // namespace twinflow
