// The executor against a real PostgreSQL and real subprocesses: outputs and
// lineage, failure and rerun, retries, timeouts, signals, big output, caching,
// streamed metrics and cancellation.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "scheduler/execution/runner.h"
#include "store/run_ledger.h"
#include "tests/support/twinflow_fixture.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

class ExecutorTest : public TwinflowTest {};

const char* kFanDag = R"(name: fan
params:
  word: hello
steps:
  - id: prepare
    command: echo ${params.word} > $TWINFLOW_OUTPUT_DIR/text
    outputs: [text]
  - id: upper
    inputs: {text: prepare.text}
    command: tr a-z A-Z < $TWINFLOW_INPUT_TEXT > $TWINFLOW_OUTPUT_DIR/text
    outputs: [text]
  - id: count
    inputs: {text: prepare.text}
    command: wc -c < $TWINFLOW_INPUT_TEXT | tr -d ' ' > $TWINFLOW_OUTPUT_DIR/n
    outputs: [n]
  - id: report
    inputs: {upper: upper.text, n: count.n}
    command: cat $TWINFLOW_INPUT_UPPER $TWINFLOW_INPUT_N > $TWINFLOW_OUTPUT_DIR/report
    outputs: [report]
)";

TEST_F(ExecutorTest, FanOutAndFanInRecordOutputsAndLineage) {
  auto outcome = execute(prepare_fresh_run(load(write_dag("fan", kFanDag))));
  ASSERT_EQ(outcome.status, "succeeded");
  for (const char* step : {"prepare", "upper", "count", "report"})
    EXPECT_EQ(step_state(outcome.run_id, step), "succeeded") << step;
  auto outputs = store->runs().step_outputs(outcome.run_id);
  ASSERT_EQ(outputs["report"].size(), 1u);
  const auto& report = outputs["report"][0].version;
  EXPECT_EQ(report.artifact, "fan.report.report");
  EXPECT_EQ(read_file(report.uri), "HELLO\n6\n");
  EXPECT_EQ(report.version, 1);
  // The report step consumed upper's and count's outputs.
  auto edges = store->runs().edges_of_step_run(*report.producer_step_run_id);
  std::vector<std::string> inputs;
  for (const auto& e : edges)
    if (e.direction == "input") inputs.push_back(e.name + "=" + e.version.artifact);
  EXPECT_EQ(inputs, std::vector<std::string>({"n=fan.count.n", "upper=fan.upper.text"}));
}

TEST_F(ExecutorTest, IdenticalContentIsStoredOnceAndIsNotANewVersion) {
  auto dag = load(write_dag("fan", kFanDag));
  auto options = default_options();
  options.use_cache = false;
  auto first = execute(prepare_fresh_run(dag), options);
  auto second = execute(prepare_fresh_run(dag), options);
  ASSERT_EQ(second.status, "succeeded");
  auto a = store->runs().step_outputs(first.run_id)["prepare"][0].version;
  auto b = store->runs().step_outputs(second.run_id)["prepare"][0].version;
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(store->runs().artifact_versions("fan.prepare.text").size(), 1u);
  auto changed =
      execute(prepare_fresh_run(load(write_dag("fan", kFanDag), {{"word", "bye"}})), options);
  EXPECT_EQ(store->runs().step_outputs(changed.run_id)["prepare"][0].version.version, 2);
}

TEST_F(ExecutorTest, FailedBranchStopsDescendantsAndRerunFailedFinishesIt) {
  fs::path marker = home / "fixed";
  std::string yaml = R"(name: branchy
steps:
  - id: a
    command: echo a > $TWINFLOW_OUTPUT_DIR/out
    outputs: [out]
  - id: b
    inputs: {in: a.out}
    command: test -f )" +
                     marker.string() + R"( && cp $TWINFLOW_INPUT_IN $TWINFLOW_OUTPUT_DIR/out
    outputs: [out]
  - id: c
    inputs: {in: b.out}
    command: cat $TWINFLOW_INPUT_IN > $TWINFLOW_OUTPUT_DIR/out
    outputs: [out]
  - id: x
    command: echo independent
)";
  auto dag = load(write_dag("branchy", yaml));
  auto first = execute(prepare_fresh_run(dag));
  EXPECT_EQ(first.status, "failed");
  EXPECT_EQ(step_state(first.run_id, "a"), "succeeded");
  EXPECT_EQ(step_state(first.run_id, "b"), "failed");
  EXPECT_EQ(step_state(first.run_id, "c"), "upstream_failed");
  EXPECT_EQ(step_state(first.run_id, "x"), "succeeded");
  EXPECT_EQ(store->runs().find_step_run(first.run_id, "b", 1)->exit_code, 1);

  std::ofstream(marker) << "";
  auto rerun = prepare_rerun(*store, first.run_id);
  EXPECT_EQ(rerun.reused_step_ids, std::vector<std::string>({"a", "x"}));
  auto second = execute(rerun);
  ASSERT_EQ(second.status, "succeeded");
  EXPECT_EQ(store->runs().find_run(second.run_id)->parent_run_id, first.run_id);
  EXPECT_EQ(step_state(second.run_id, "a"), "reused");
  EXPECT_EQ(attempts_of(second.run_id, "a"), 0);
  EXPECT_EQ(attempts_of(second.run_id, "x"), 0);
  EXPECT_EQ(attempts_of(second.run_id, "b"), 1);
  auto outputs = store->runs().step_outputs(second.run_id);
  EXPECT_EQ(read_file(outputs["c"][0].version.uri), "a\n");
  // b consumed the very version a produced in the first run.
  EXPECT_EQ(outputs["a"][0].version.id,
            store->runs().step_outputs(first.run_id)["a"][0].version.id);
}

TEST_F(ExecutorTest, RerunFromStepReexecutesItAndItsDescendantsOnly) {
  auto dag = load(write_dag("fan", kFanDag));
  auto first = execute(prepare_fresh_run(dag));
  ASSERT_EQ(first.status, "succeeded");
  auto options = default_options();
  options.use_cache = false;
  auto second = execute(prepare_rerun(*store, first.run_id, "upper"), options);
  ASSERT_EQ(second.status, "succeeded");
  EXPECT_EQ(attempts_of(second.run_id, "prepare"), 0);
  EXPECT_EQ(attempts_of(second.run_id, "count"), 0);
  EXPECT_EQ(attempts_of(second.run_id, "upper"), 1);
  EXPECT_EQ(attempts_of(second.run_id, "report"), 1);
}

TEST_F(ExecutorTest, RetriesUntilSuccessWithEveryAttemptRecorded) {
  fs::path counter = home / "count";
  auto dag = load(write_dag("flaky", R"(name: flaky
steps:
  - id: flaky
    retries: {count: 3, backoff: 50ms, max_backoff: 100ms}
    command: echo x >> )" + counter.string() +
                                         R"(; test $(wc -l < )" + counter.string() + R"() -ge 3
)"));
  auto outcome = execute(prepare_fresh_run(dag));
  ASSERT_EQ(outcome.status, "succeeded");
  auto attempts = store->runs().step_runs(outcome.run_id);
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].status, "failed");
  EXPECT_EQ(attempts[1].status, "failed");
  EXPECT_EQ(attempts[2].status, "succeeded");
  EXPECT_EQ(attempts[2].attempt, 3);
}

TEST_F(ExecutorTest, RetriesRunOutAndTheStepFails) {
  auto dag = load(write_dag("doomed", R"(name: doomed
steps:
  - id: doomed
    retries: {count: 2, backoff: 10ms}
    command: echo trying; exit 7
)"));
  auto outcome = execute(prepare_fresh_run(dag));
  EXPECT_EQ(outcome.status, "failed");
  EXPECT_EQ(attempts_of(outcome.run_id, "doomed"), 3);
  auto last = store->runs().find_step_run(outcome.run_id, "doomed", 0);
  EXPECT_EQ(last->exit_code, 7);
  EXPECT_EQ(last->error, "exited with code 7");
  EXPECT_EQ(progress.ends.back().log_tail, "trying");
}

TEST_F(ExecutorTest, TimeoutKillsTheWholeProcessGroup) {
  fs::path pidfile = home / "grandchild.pid";
  auto dag = load(write_dag("slow", R"(name: slow
steps:
  - id: slow
    timeout: 300ms
    command: sleep 30 & echo $! > )" + pidfile.string() +
                                        R"(; wait
)"));
  auto started = std::chrono::steady_clock::now();
  auto outcome = execute(prepare_fresh_run(dag));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(outcome.status, "failed");
  auto attempt = store->runs().find_step_run(outcome.run_id, "slow", 1);
  EXPECT_EQ(attempt->status, "timed_out");
  EXPECT_EQ(attempt->error, "timed out after 300ms");
  int grandchild = std::stoi(read_file(pidfile));
  // Dead, or a zombie waiting for init: either way not running `sleep`.
  std::string stat = read_file("/proc/" + std::to_string(grandchild) + "/stat");
  EXPECT_TRUE(stat.empty() || stat.find(") Z") != std::string::npos) << stat;
}

TEST_F(ExecutorTest, CrashBySignalIsRecordedAsTheSignal) {
  auto dag =
      load(write_dag("crash", "name: crash\nsteps:\n  - id: crash\n    command: kill -SEGV $$\n"));
  auto outcome = execute(prepare_fresh_run(dag));
  EXPECT_EQ(outcome.status, "failed");
  auto attempt = store->runs().find_step_run(outcome.run_id, "crash", 1);
  EXPECT_EQ(attempt->signal, 11);
  EXPECT_FALSE(attempt->exit_code.has_value());
  EXPECT_EQ(attempt->error, "killed by SIGSEGV");
}

TEST_F(ExecutorTest, FiftyMegabytesOfOutputGoToTheLog) {
  auto dag = load(write_dag(
      "loud",
      "name: loud\nsteps:\n  - id: loud\n    command: head -c 50000000 /dev/zero | tr '\\0' x\n"));
  auto outcome = execute(prepare_fresh_run(dag));
  ASSERT_EQ(outcome.status, "succeeded");
  auto attempt = store->runs().find_step_run(outcome.run_id, "loud", 1);
  EXPECT_EQ(fs::file_size(attempt->log_path), 50000000u);
}

TEST_F(ExecutorTest, CacheHitsReuseOutputsAndMissesWhenAnythingChanges) {
  fs::path helper = home / "dags" / "helper.sh";
  fs::create_directories(helper.parent_path());
  std::ofstream(helper) << "echo v1\n";
  std::string yaml = R"(name: cached
params: {n: 1}
steps:
  - id: make
    command: sh helper.sh > $TWINFLOW_OUTPUT_DIR/out; echo ${params.n} >> $TWINFLOW_OUTPUT_DIR/out
    cache: {files: [helper.sh]}
    outputs: [out]
  - id: use
    inputs: {in: make.out}
    command: cat $TWINFLOW_INPUT_IN > $TWINFLOW_OUTPUT_DIR/out
    outputs: [out]
)";
  // The command runs in the attempt directory, so it names the helper by its
  // absolute path; cache.files is relative to the DAG file.
  yaml.replace(yaml.find("sh helper.sh"), 12, "sh " + helper.string());
  std::string path = write_dag("cached", yaml);
  auto first = execute(prepare_fresh_run(load(path)));
  ASSERT_EQ(first.status, "succeeded");
  auto second = execute(prepare_fresh_run(load(path)));
  EXPECT_EQ(step_state(second.run_id, "make"), "cached");
  EXPECT_EQ(step_state(second.run_id, "use"), "cached");
  auto hit = store->runs().find_step_run(second.run_id, "make", 1);
  EXPECT_EQ(hit->cached_from, store->runs().find_step_run(first.run_id, "make", 1)->id);

  auto param_changed = execute(prepare_fresh_run(load(path, {{"n", "2"}})));
  EXPECT_EQ(step_state(param_changed.run_id, "make"), "succeeded");

  std::ofstream(helper) << "echo v2\n";
  auto file_changed = execute(prepare_fresh_run(load(path)));
  EXPECT_EQ(step_state(file_changed.run_id, "make"), "succeeded");
  EXPECT_EQ(read_file(store->runs().step_outputs(file_changed.run_id)["use"][0].version.uri),
            "v2\n1\n");

  auto options = default_options();
  options.use_cache = false;
  auto no_cache = execute(prepare_fresh_run(load(path)), options);
  EXPECT_EQ(step_state(no_cache.run_id, "make"), "succeeded");
}

TEST_F(ExecutorTest, CacheHitWhoseBlobVanishedIsNotServed) {
  auto dag = load(write_dag("fan", kFanDag));
  auto first = execute(prepare_fresh_run(dag));
  fs::remove(store->runs().step_outputs(first.run_id)["prepare"][0].version.uri);
  auto second = execute(prepare_fresh_run(dag));
  EXPECT_EQ(step_state(second.run_id, "prepare"), "succeeded");
  EXPECT_EQ(second.status, "succeeded");
}

TEST_F(ExecutorTest, StreamedMetricsAreRecordedWithTheirSteps) {
  auto dag = load(write_dag("train", R"(name: train
steps:
  - id: train
    command: |
      for i in 1 2 3; do echo "{\"metrics\": {\"loss\": 0.$((4 - i))}, \"step\": $i}"; done
      echo 'not a metric {'
      echo '{"outputs": {}, "metrics": {"final": 1}}' > $TWINFLOW_RESULT
)"));
  auto outcome = execute(prepare_fresh_run(dag));
  ASSERT_EQ(outcome.status, "succeeded");
  auto metrics = store->runs().metrics_of_run(outcome.run_id);
  ASSERT_EQ(metrics.size(), 4u);
  EXPECT_EQ(metrics[0].key, "loss");
  EXPECT_DOUBLE_EQ(metrics[0].value, 0.3);
  EXPECT_EQ(metrics[2].step, 3);
  EXPECT_EQ(metrics[3].key, "final");
}

TEST_F(ExecutorTest, MissingDeclaredOutputFailsTheStep) {
  auto dag = load(write_dag(
      "liar", "name: liar\nsteps:\n  - id: liar\n    command: 'true'\n    outputs: [model]\n"));
  auto outcome = execute(prepare_fresh_run(dag));
  EXPECT_EQ(outcome.status, "failed");
  auto attempt = store->runs().find_step_run(outcome.run_id, "liar", 1);
  EXPECT_NE(attempt->error.find("declared output 'model' was not produced"), std::string::npos)
      << attempt->error;
}

TEST_F(ExecutorTest, MissingProgramIsAFailedAttemptNotACrash) {
  auto dag = load(
      write_dag("nope", "name: nope\nsteps:\n  - id: nope\n    command: [no-such-program-xyz]\n"));
  auto outcome = execute(prepare_fresh_run(dag));
  EXPECT_EQ(outcome.status, "failed");
  EXPECT_NE(
      store->runs().find_step_run(outcome.run_id, "nope", 1)->error.find("no-such-program-xyz"),
      std::string::npos);
}

TEST_F(ExecutorTest, CancellationTerminatesRunningStepsAndSkipsTheRest) {
  auto dag = load(write_dag("long", R"(name: long
steps:
  - id: sleeper
    command: sleep 30
  - id: after
    needs: [sleeper]
    command: 'true'
)"));
  auto options = default_options();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  options.cancel_requested = [deadline] { return std::chrono::steady_clock::now() > deadline; };
  auto outcome = execute(prepare_fresh_run(dag), options);
  EXPECT_EQ(outcome.status, "cancelled");
  EXPECT_EQ(step_state(outcome.run_id, "sleeper"), "cancelled");
  EXPECT_EQ(step_state(outcome.run_id, "after"), "cancelled");
  EXPECT_EQ(store->runs().find_step_run(outcome.run_id, "sleeper", 1)->status, "cancelled");
}

TEST_F(ExecutorTest, CancelRequestedInTheDatabaseIsSeenAtAHeartbeat) {
  auto dag =
      load(write_dag("long", "name: long\nsteps:\n  - id: sleeper\n    command: sleep 30\n"));
  auto options = default_options();
  Store other(conninfo);
  int64_t expected_run = 0;
  options.cancel_requested = [&] {
    // Ask through a second connection, as `twinflow cancel` would.
    if (expected_run == 0) {
      auto runs = other.runs().list_runs({});
      if (!runs.empty() && runs[0].status == "running") {
        expected_run = runs[0].id;
        other.runs().request_cancel(expected_run);
      }
    }
    return false;
  };
  auto outcome = execute(prepare_fresh_run(dag), options);
  EXPECT_EQ(outcome.run_id, expected_run);
  EXPECT_EQ(outcome.status, "cancelled");
}

TEST_F(ExecutorTest, TypedStepWithoutItsInputFailsClearly) {
  auto dag = load(write_dag("typed", "name: typed\nsteps:\n  - id: train\n    type: finetune\n"));
  auto outcome = execute(prepare_fresh_run(dag));
  EXPECT_EQ(outcome.status, "failed");
  auto attempt = store->runs().find_step_run(outcome.run_id, "train", 1);
  EXPECT_NE(read_file(attempt->log_path).find("needs an input named 'dataset'"), std::string::npos)
      << read_file(attempt->log_path);
}

TEST_F(ExecutorTest, ParallelStepsRespectJobsAndPools) {
  fs::path trace = home / "trace";
  std::string step_cmd =
      "echo start >> " + trace.string() + "; sleep 0.2; echo end >> " + trace.string();
  auto dag = load(write_dag("pooled",
                            "name: pooled\npools: {one: 1}\nsteps:\n"
                            "  - {id: a, pool: one, command: '" +
                                step_cmd +
                                "'}\n"
                                "  - {id: b, pool: one, command: '" +
                                step_cmd +
                                "'}\n"
                                "  - {id: c, pool: one, command: '" +
                                step_cmd + "'}\n"));
  auto outcome = execute(prepare_fresh_run(dag));
  ASSERT_EQ(outcome.status, "succeeded");
  // With one slot the steps never overlap: starts and ends alternate.
  EXPECT_EQ(read_file(trace), "start\nend\nstart\nend\nstart\nend\n");
}

}  // namespace
}  // namespace twinflow
