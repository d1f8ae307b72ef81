// The executor's logic without a database: real subprocesses, an in-memory
// RunRecorder. What is recorded (attempts, their ends, skipped steps, the
// run's end, outputs handed downstream) is checked on the fake; the SQL side
// of the same contract is covered by executor_test.cc against PostgreSQL.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "scheduler/definition/dag_loader.h"
#include "scheduler/execution/executor.h"
#include "scheduler/execution/run_recorder.h"
#include "store/blob_store.h"
#include "tests/support/scratch_dir.h"
#include "util/error.h"

namespace twinflow {
namespace {

// Keeps what the executor records; fabricates ids and versions.
class FakeRecorder : public RunRecorder {
 public:
  struct Attempt {
    std::string step_id;
    int attempt = 0;
    std::string status = "running";
    std::string step_state;  // as set with its end
    std::string error;
  };

  std::vector<Attempt> attempts;                               // by step_run_id - 1
  std::map<std::string, std::string> skipped;                  // step id -> status
  std::map<std::string, std::vector<OutputToRecord>> outputs;  // step id -> outputs
  std::vector<MetricPoint> metrics;
  std::string run_status, run_error;
  int heartbeats = 0;

  int attempts_of(const std::string& step_id) const {
    int n = 0;
    for (const Attempt& a : attempts) n += a.step_id == step_id;
    return n;
  }
  std::string last_status(const std::string& step_id) const {
    std::string status;
    for (const Attempt& a : attempts)
      if (a.step_id == step_id) status = a.status;
    return status;
  }

  void record_run_owner(int64_t, const std::string&, int, int64_t) override {}
  bool heartbeat(int64_t) override {
    ++heartbeats;
    return false;
  }
  std::optional<RunRecord> find_run(int64_t) override { return std::nullopt; }
  void finish_run(int64_t, const std::string& status, const std::string& error) override {
    run_status = status;
    run_error = error;
  }
  void set_steps_status(int64_t, const std::vector<std::string>& step_ids,
                        const std::string& status) override {
    for (const std::string& id : step_ids) skipped[id] = status;
  }
  std::optional<ArtifactVersionRecord> resolve_artifact_input(int64_t, const std::string&,
                                                              std::optional<int>) override {
    return std::nullopt;
  }
  std::optional<RunLedger::CacheHit> find_cache_hit(const std::string&) override {
    return std::nullopt;
  }
  int64_t record_cached_attempt(int64_t, const std::string&, int, const std::string&, int64_t,
                                const std::vector<NamedVersion>&,
                                const std::vector<NamedVersion>&) override {
    ADD_FAILURE() << "no cache hit was offered";
    return 0;
  }
  int64_t start_attempt(int64_t, const std::string& step_id, int attempt, const std::string&, int,
                        const std::string&, const std::string&, int64_t) override {
    Attempt a;
    a.step_id = step_id;
    a.attempt = attempt;
    attempts.push_back(a);
    return static_cast<int64_t>(attempts.size());
  }
  void record_metrics(int64_t, const std::vector<MetricPoint>& points) override {
    metrics.insert(metrics.end(), points.begin(), points.end());
  }
  std::vector<NamedVersion> end_attempt_succeeded(
      int64_t, const std::string& step_id, int64_t step_run_id, const std::vector<NamedVersion>&,
      const std::vector<OutputToRecord>& produced) override {
    Attempt& a = attempts.at(step_run_id - 1);
    a.status = a.step_state = "succeeded";
    outputs[step_id] = produced;
    std::vector<NamedVersion> versions;
    for (const OutputToRecord& o : produced) {
      ArtifactVersionRecord v;
      v.id = ++next_version_;
      v.artifact = o.artifact;
      v.version = 1;
      v.content_hash = o.content_hash;
      v.uri = o.uri;
      v.producer_step_run_id = step_run_id;
      versions.push_back({o.name, v});
    }
    return versions;
  }
  void end_attempt_unsuccessfully(int64_t, const std::string&, int64_t step_run_id,
                                  const AttemptEnd& end, const std::string& step_state) override {
    Attempt& a = attempts.at(step_run_id - 1);
    a.status = end.status;
    a.step_state = step_state;
    a.error = end.error;
  }
  std::vector<NamedVersion> outputs_of_step_run(int64_t) override { return {}; }
  std::optional<RunLedger::AttemptProcess> attempt_process(int64_t) override {
    return std::nullopt;
  }
  std::vector<RunLedger::AttemptProcess> attempt_processes_of_run(int64_t) override { return {}; }
  void set_slurm_job_id(int64_t, const std::string&) override {}
  std::optional<RunLedger::SlurmAttempt> adoptable_slurm_attempt(int64_t,
                                                                 const std::string&) override {
    return std::nullopt;
  }
  bool adopt_slurm_attempt(int64_t, int64_t) override { return false; }
  void close_slurm_attempt(int64_t) override {}

 private:
  int64_t next_version_ = 0;
};

class ExecutorLogicTest : public ::testing::Test {
 protected:
  std::string run(const std::string& yaml, FakeRecorder& recorder, int jobs = 2) {
    LoadResult loaded = load_dag_string(yaml, "test.yaml");
    EXPECT_TRUE(loaded.ok()) << (loaded.diagnostics.empty() ? "" : loaded.diagnostics[0].message);
    if (!loaded.ok()) return "not loaded";
    BlobStore blobs(dir_.path() / "artifacts");
    ProgressSink quiet;
    ExecutorOptions options;
    options.jobs = jobs;
    options.home = dir_.path();
    options.host = "test-host";
    options.default_executor = "local";
    Executor executor(*loaded.dag, 1, recorder, nullptr, blobs, quiet, options);
    return executor.execute();
  }

  ScratchDir dir_{"twinflow-executor-logic"};
};

TEST_F(ExecutorLogicTest, AChainRunsInOrderAndHandsOutputsDownstream) {
  FakeRecorder recorder;
  const std::string status = run(R"yaml(name: chain
steps:
  - id: a
    command: echo one > $TWINFLOW_OUTPUT_DIR/text
    outputs: [text]
  - id: b
    inputs: {text: a.text}
    command: tr a-z A-Z < $TWINFLOW_INPUT_TEXT > $TWINFLOW_OUTPUT_DIR/text
    outputs: [text]
  - id: c
    inputs: {text: b.text}
    command: test "$(cat $TWINFLOW_INPUT_TEXT)" = ONE
)yaml",
                                 recorder);
  EXPECT_EQ(status, "succeeded");
  EXPECT_EQ(recorder.run_status, "succeeded");
  ASSERT_EQ(recorder.attempts.size(), 3u);
  EXPECT_EQ(recorder.attempts[0].step_id, "a");
  EXPECT_EQ(recorder.attempts[1].step_id, "b");
  EXPECT_EQ(recorder.attempts[2].step_id, "c");
  for (const auto& a : recorder.attempts) EXPECT_EQ(a.status, "succeeded") << a.step_id;
  ASSERT_EQ(recorder.outputs["b"].size(), 1u);
  std::ifstream upper(recorder.outputs["b"][0].uri);
  std::string text;
  std::getline(upper, text);
  EXPECT_EQ(text, "ONE");  // b's output, in the blob store, read by c
}

TEST_F(ExecutorLogicTest, AFailureIsRetriedThenSkipsDescendantsButNotOtherBranches) {
  FakeRecorder recorder;
  const std::string status = run(R"(name: branches
steps:
  - id: flaky
    command: exit 3
    retries: {count: 2, backoff: 10ms}
  - id: after_flaky
    needs: [flaky]
    command: "true"
  - id: independent
    command: "true"
)",
                                 recorder);
  EXPECT_EQ(status, "failed");
  EXPECT_EQ(recorder.run_status, "failed");
  EXPECT_EQ(recorder.attempts_of("flaky"), 3);  // the first attempt and two retries
  EXPECT_EQ(recorder.last_status("flaky"), "failed");
  std::vector<std::string> states;
  for (const auto& a : recorder.attempts)
    if (a.step_id == "flaky") states.push_back(a.step_state);
  EXPECT_EQ(states, std::vector<std::string>({"retrying", "retrying", "failed"}));
  EXPECT_EQ(recorder.attempts_of("after_flaky"), 0);
  EXPECT_EQ(recorder.skipped["after_flaky"], "upstream_failed");
  EXPECT_EQ(recorder.last_status("independent"), "succeeded");
}

TEST_F(ExecutorLogicTest, MetricLinesOnStdoutAreRecorded) {
  FakeRecorder recorder;
  const std::string status = run(R"(name: metrics
steps:
  - id: train
    command: "echo '{\"metrics\": {\"loss\": 0.5}, \"step\": 1}'"
)",
                                 recorder);
  EXPECT_EQ(status, "succeeded");
  ASSERT_FALSE(recorder.metrics.empty());
  EXPECT_EQ(recorder.metrics[0].key, "loss");
  EXPECT_DOUBLE_EQ(recorder.metrics[0].value, 0.5);
}

TEST_F(ExecutorLogicTest, SharingStepsWithoutAnOfferBoardIsRefused) {
  FakeRecorder recorder;
  LoadResult loaded =
      load_dag_string("name: x\nsteps:\n  - id: a\n    command: 'true'\n", "x.yaml");
  ASSERT_TRUE(loaded.ok());
  BlobStore blobs(dir_.path() / "artifacts");
  ProgressSink quiet;
  ExecutorOptions options;
  options.home = dir_.path();
  options.share_steps = true;
  EXPECT_THROW(Executor(*loaded.dag, 1, recorder, nullptr, blobs, quiet, options), Error);
}

}  // namespace
}  // namespace twinflow
