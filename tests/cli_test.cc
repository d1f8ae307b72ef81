// The twinflow binary end to end: validation, run, show, logs, artifacts,
// lineage, kill -9 followed by rerun, concurrent runs, and cancellation.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "store/run_ledger.h"
#include "tests/support/twinflow_fixture.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace twinflow {
namespace {

class CliTest : public TwinflowTest {
 protected:
  // Polls until `predicate` holds or 20 s pass.
  bool eventually(const std::function<bool()>& predicate) {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (predicate()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  bool step_is_running(const std::string& step) {
    auto runs = store->runs().list_runs({});
    return !runs.empty() && step_state(runs[0].id, step) == "running";
  }
  int wait_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

TEST_F(CliTest, InvalidDagExitsTwoWithEveryErrorAndWritesNothing) {
  std::string path = write_dag("bad", R"(name: bad
steps:
  - id: a
    comand: echo hi
  - id: b
    needs: [c]
    command: echo b
)");
  auto result = twinflow({"run", path});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(
      result.err.find(path + ":4:5: unknown key 'comand' in step 'a' (did you mean 'command'?)"),
      std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find(path + ":6:13: step 'b' needs unknown step 'c'"), std::string::npos)
      << result.err;
  EXPECT_TRUE(store->runs().list_runs({}).empty());
  auto validate = twinflow({"validate", path});
  EXPECT_EQ(validate.exit_code, 2);
  EXPECT_EQ(validate.err, result.err);
}

TEST_F(CliTest, HelloExampleRunsAndEverythingCanBeShown) {
  auto run = twinflow({"run", TWINFLOW_SOURCE_DIR "/dags/examples/hello.yaml"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto runs = store->runs().list_runs({});
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "succeeded");
  EXPECT_NE(run.out.find("run " + std::to_string(runs[0].id) + " succeeded"), std::string::npos);

  auto listed = twinflow({"runs", "--json"});
  ASSERT_EQ(listed.exit_code, 0);
  auto doc = nlohmann::json::parse(listed.out);
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["status"], "succeeded");

  auto shown = twinflow({"show", std::to_string(runs[0].id), "--json"});
  ASSERT_EQ(shown.exit_code, 0);
  auto details = nlohmann::json::parse(shown.out);
  EXPECT_GE(details["steps"].size(), 4u);
  for (const auto& step : details["steps"]) EXPECT_EQ(step["status"], "succeeded");

  std::string first_step = details["steps"][0]["step_id"];
  auto logs = twinflow({"logs", std::to_string(runs[0].id), first_step});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;

  auto artifacts = twinflow({"artifacts", "--json"});
  ASSERT_EQ(artifacts.exit_code, 0);
  auto artifact_list = nlohmann::json::parse(artifacts.out);
  ASSERT_FALSE(artifact_list.empty());
  // The last step's output has upstream lineage through the fan-in.
  std::string last_artifact;
  for (const auto& a : artifact_list) last_artifact = a["name"];
  auto lineage = twinflow({"lineage", last_artifact + "@1", "--json"});
  ASSERT_EQ(lineage.exit_code, 0) << lineage.err;
  auto graph = nlohmann::json::parse(lineage.out);
  EXPECT_EQ(graph["version"]["artifact"], last_artifact);

  auto missing = twinflow({"show", "999999"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("run 999999 does not exist"), std::string::npos);
}

TEST_F(CliTest, KillNineMidRunThenRerunFailedCompletesWithNoStepTwice) {
  fs::path pidfile = home / "slow.pid";
  std::string path = write_dag("crashy", R"(name: crashy
steps:
  - id: fast
    command: echo fast > $TWINFLOW_OUTPUT_DIR/out
    outputs: [out]
  - id: slow
    needs: [fast]
    command: echo $$ > )" + pidfile.string() +
                                             R"(; sleep 3; echo slow > $TWINFLOW_OUTPUT_DIR/out
    outputs: [out]
  - id: last
    inputs: {a: fast.out, b: slow.out}
    command: cat $TWINFLOW_INPUT_A $TWINFLOW_INPUT_B > $TWINFLOW_OUTPUT_DIR/out
    outputs: [out]
)");
  pid_t pid = spawn_twinflow({"run", path}, (home / "run.log").string());
  ASSERT_TRUE(eventually([&] { return step_is_running("slow") && fs::exists(pidfile); }));
  ::kill(pid, SIGKILL);
  wait_exit(pid);
  int64_t first = store->runs().list_runs({})[0].id;

  auto rerun = twinflow({"rerun", std::to_string(first), "--failed"});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  EXPECT_EQ(store->runs().find_run(first)->status, "interrupted");
  EXPECT_EQ(step_state(first, "slow"), "interrupted");
  EXPECT_EQ(store->runs().find_step_run(first, "slow", 1)->status, "interrupted");
  // The orphaned step of the killed run was stopped, not left to race the rerun.
  int orphan = std::stoi(read_file(pidfile));
  EXPECT_TRUE(eventually([&] {
    std::string stat = read_file("/proc/" + std::to_string(orphan) + "/stat");
    return stat.empty() || stat.find(") Z") != std::string::npos;
  }));
  int64_t second = store->runs().list_runs({})[0].id;
  EXPECT_EQ(store->runs().find_run(second)->parent_run_id, first);
  EXPECT_EQ(store->runs().find_run(second)->status, "succeeded");
  EXPECT_EQ(step_state(second, "fast"), "reused");
  // Across both runs, each step succeeded exactly once.
  for (const char* step : {"fast", "slow", "last"}) {
    int succeeded = 0;
    for (int64_t run : {first, second})
      for (const auto& a : store->runs().step_runs(run))
        succeeded += a.step_id == step && a.status == "succeeded";
    EXPECT_EQ(succeeded, 1) << step;
  }
  EXPECT_EQ(read_file(store->runs().step_outputs(second)["last"][0].version.uri), "fast\nslow\n");
}

TEST_F(CliTest, TwoRunsOfTheSameDagAtOnceBothSucceed) {
  std::string path = write_dag("twice", R"(name: twice
steps:
  - id: a
    command: sleep 0.3; echo $TWINFLOW_RUN_ID > $TWINFLOW_OUTPUT_DIR/out
    outputs: [out]
  - id: b
    inputs: {in: a.out}
    command: cat $TWINFLOW_INPUT_IN > $TWINFLOW_OUTPUT_DIR/out
    outputs: [out]
)");
  pid_t one = spawn_twinflow({"run", path}, (home / "one.log").string());
  pid_t two = spawn_twinflow({"run", path}, (home / "two.log").string());
  EXPECT_EQ(wait_exit(one), 0) << read_file(home / "one.log");
  EXPECT_EQ(wait_exit(two), 0) << read_file(home / "two.log");
  auto runs = store->runs().list_runs({});
  ASSERT_EQ(runs.size(), 2u);
  for (const auto& run : runs) EXPECT_EQ(run.status, "succeeded");
  // Each run wrote its own id: two distinct versions, numbered 1 and 2.
  auto versions = store->runs().artifact_versions("twice.a.out");
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].version + versions[1].version, 3);
}

TEST_F(CliTest, SigtermCancelsTheRunAndItsSteps) {
  std::string path =
      write_dag("long", "name: long\nsteps:\n  - id: sleeper\n    command: sleep 30\n");
  pid_t pid = spawn_twinflow({"run", path}, (home / "run.log").string());
  ASSERT_TRUE(eventually([&] { return step_is_running("sleeper"); }));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid), 130) << read_file(home / "run.log");
  auto run = store->runs().list_runs({})[0];
  EXPECT_EQ(run.status, "cancelled");
  EXPECT_EQ(store->runs().find_step_run(run.id, "sleeper", 1)->status, "cancelled");
}

TEST_F(CliTest, CancelCommandStopsARunningRun) {
  std::string path =
      write_dag("long", "name: long\nsteps:\n  - id: sleeper\n    command: sleep 30\n");
  pid_t pid = spawn_twinflow({"run", path}, (home / "run.log").string());
  ASSERT_TRUE(eventually([&] { return step_is_running("sleeper"); }));
  int64_t run_id = store->runs().list_runs({})[0].id;
  auto cancel = twinflow({"cancel", std::to_string(run_id)});
  EXPECT_EQ(cancel.exit_code, 0) << cancel.err;
  EXPECT_EQ(wait_exit(pid), 130);
  EXPECT_EQ(store->runs().find_run(run_id)->status, "cancelled");
  auto again = twinflow({"cancel", std::to_string(run_id)});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("is already cancelled"), std::string::npos);
}

TEST_F(CliTest, ParamOverridesReachTheSteps) {
  std::string path = write_dag("greet", R"(name: greet
params: {who: world, times: 1}
steps:
  - id: greet
    command: echo hello ${params.who} ${params.times} > $TWINFLOW_OUTPUT_DIR/out
    outputs: [out]
)");
  auto result = twinflow({"run", path, "-p", "who=twin", "-p", "times=3"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto run = store->runs().list_runs({})[0];
  EXPECT_EQ(run.params["times"], 3);
  EXPECT_EQ(read_file(store->runs().step_outputs(run.id)["greet"][0].version.uri),
            "hello twin 3\n");
  auto unknown = twinflow({"run", path, "-p", "whom=x"});
  EXPECT_EQ(unknown.exit_code, 2);
}

}  // namespace
}  // namespace twinflow
