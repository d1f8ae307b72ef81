// OpenLineageSink (scheduler/execution/openlineage_sink.h) on runs of the real executor:
// a START and a COMPLETE per succeeded attempt with its artifact versions as
// input and output datasets, a FAIL for a failed one, the fields the
// OpenLineage RunEvent schema requires, and delivery by HTTP POST to a real
// server on 127.0.0.1; a run through `twinflow run` writes the file.
#include <gtest/gtest.h>

#include <mutex>
#include <regex>
#include <sstream>

#include "http/http_server.h"
#include "scheduler/execution/openlineage_sink.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "tests/support/twinflow_fixture.h"
#include "tests/web_test_support.h"

namespace twinflow {
namespace {

using Json = nlohmann::json;

class OpenLineageTest : public TwinflowTest {
 protected:
  std::string run_with_sink(const char* name, const char* yaml, OpenLineageTarget target) {
    auto prepared = prepare_fresh_run(load(write_dag(name, yaml)));
    ExecutorOptions options = default_options();
    const int64_t run_id = record_run_start(*store, prepared, options.host, ::getpid());
    OpenLineageSink sink(*store, progress, target);
    Executor executor(prepared.dag, run_id, *store, *blobs, sink, options);
    return executor.execute(prepared.seed);
  }

  static std::vector<Json> read_events(const std::filesystem::path& file) {
    std::vector<Json> events;
    std::istringstream in(read_file(file));
    for (std::string line; std::getline(in, line);) events.push_back(Json::parse(line));
    return events;
  }

  // The fields the RunEvent schema requires, with their formats.
  static void expect_valid_run_event(const Json& e) {
    EXPECT_TRUE(std::set<std::string>({"START", "COMPLETE", "FAIL"}).count(e["eventType"]));
    EXPECT_TRUE(std::regex_match(e["eventTime"].get<std::string>(),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
    EXPECT_TRUE(std::regex_match(
        e["run"]["runId"].get<std::string>(),
        std::regex("[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
    EXPECT_EQ(e["job"]["namespace"], "twinflow");
    EXPECT_FALSE(e["job"]["name"].get<std::string>().empty());
    EXPECT_TRUE(e["producer"].get<std::string>().starts_with("https://"));
    EXPECT_TRUE(e["schemaURL"].get<std::string>().starts_with("https://openlineage.io/spec/"));
    for (const char* side : {"inputs", "outputs"})
      for (const Json& d : e[side]) {
        EXPECT_EQ(d["namespace"], "twinflow");
        EXPECT_FALSE(d["name"].get<std::string>().empty());
      }
  }
};

TEST_F(OpenLineageTest, EveryAttemptStartsAndCompletesOrFailsWithItsDatasets) {
  const auto file = home / "lineage.jsonl";
  ASSERT_EQ(run_with_sink("web_ok", kOkDag, {"", file.string()}), "succeeded");
  ASSERT_EQ(run_with_sink("web_failing", kFailingDag, {"", file.string()}), "failed");
  const auto events = read_events(file);
  std::vector<std::string> seen;
  for (const Json& e : events) {
    expect_valid_run_event(e);
    seen.push_back(e["eventType"].get<std::string>() + " " + e["job"]["name"].get<std::string>());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"START web_ok.make", "COMPLETE web_ok.make",
                                            "START web_ok.use", "COMPLETE web_ok.use",
                                            "START web_failing.first", "COMPLETE web_failing.first",
                                            "START web_failing.boom", "FAIL web_failing.boom"}));
  const Json& use = events[3];
  ASSERT_EQ(use["inputs"].size(), 1u);
  EXPECT_EQ(use["inputs"][0]["name"], "web_ok.make.bundle");
  EXPECT_EQ(use["inputs"][0]["facets"]["version"]["datasetVersion"], "1");
  ASSERT_EQ(use["outputs"].size(), 1u);
  EXPECT_EQ(use["outputs"][0]["name"], "web_ok.use.summary");
  EXPECT_EQ(events[2]["run"]["runId"], use["run"]["runId"]);  // START and COMPLETE: one run
  EXPECT_NE(events[0]["run"]["runId"], use["run"]["runId"]);
  EXPECT_EQ(use["run"]["facets"]["parent"]["job"]["name"], "web_ok");
  EXPECT_NE(events[7]["run"]["facets"]["errorMessage"]["message"].get<std::string>().find("3"),
            std::string::npos);
}

TEST_F(OpenLineageTest, EventsArePostedToTheConfiguredUrl) {
  std::mutex mutex;
  std::vector<Json> received;
  HttpServer collector([&](const HttpRequest& r) {
    std::lock_guard lock(mutex);
    if (r.method == "POST" && r.path == "/api/v1/lineage" &&
        r.header("content-type") == "application/json")
      received.push_back(Json::parse(r.body));
    return HttpResponse::text(201, "");
  });
  collector.start();
  ASSERT_EQ(run_with_sink("web_ok", kOkDag, {collector.base_url() + "/api/v1/lineage", ""}),
            "succeeded");
  std::lock_guard lock(mutex);
  ASSERT_EQ(received.size(), 4u);
  for (const Json& e : received) expect_valid_run_event(e);
  EXPECT_EQ(received[3]["eventType"], "COMPLETE");
}

TEST_F(OpenLineageTest, TwinflowRunWritesTheFileFromTheEnvironment) {
  const auto dag = write_dag("web_ok", kOkDag);
  const auto file = home / "from-env.jsonl";
  auto env = twinflow_env();
  env.push_back("TWINFLOW_OPENLINEAGE_FILE=" + file.string());
  std::string command = "env -i";
  for (const auto& e : env) command += " '" + e + "'";
  command += std::string(" ") + TWINFLOW_BINARY + " run " + dag + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  const auto events = read_events(file);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1]["eventType"], "COMPLETE");
  EXPECT_EQ(events[1]["outputs"][0]["name"], "web_ok.make.bundle");
}

TEST_F(OpenLineageTest, TheSchedulerDaemonWritesTheFileFromTheEnvironment) {
  const auto dag = write_dag("web_ok", kOkDag);
  auto queued = twinflow({"trigger", dag});
  ASSERT_EQ(queued.exit_code, 0) << queued.err;
  const auto file = home / "daemon.jsonl";
  std::filesystem::create_directories(home / "no-dags");  // a missing DAGs directory fails `--once`
  auto env = twinflow_env();
  env.push_back("TWINFLOW_OPENLINEAGE_FILE=" + file.string());
  std::string command = "env -i";
  for (const auto& e : env) command += " '" + e + "'";
  command += std::string(" ") + TWINFLOW_BINARY + " scheduler --once --dags-dir '" +
             (home / "no-dags").string() + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  const auto events = read_events(file);
  ASSERT_EQ(events.size(), 4u);
  for (const Json& e : events) expect_valid_run_event(e);
  EXPECT_EQ(events[1]["eventType"], "COMPLETE");
  EXPECT_EQ(events[1]["outputs"][0]["name"], "web_ok.make.bundle");
}

}  // namespace
}  // namespace twinflow
