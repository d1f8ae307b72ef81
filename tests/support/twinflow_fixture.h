// TwinflowTest: a fixture giving each test a private $TWINFLOW_HOME, a fresh
// migrated database on the test cluster, and ways to run DAGs in-process
// (through the real Executor) or through the real `twinflow` binary.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "scheduler/execution/executor.h"
#include "scheduler/execution/runner.h"
#include "store/blob_store.h"
#include "store/store.h"

namespace twinflow {

// Records every progress event, for assertions.
class RecordingProgress : public ProgressSink {
 public:
  void step_started(const Step& step, int attempt, const std::string&) override {
    events.push_back("started " + step.id + " " + std::to_string(attempt));
  }
  void step_ended(const Step& step, const StepEnd& end) override {
    events.push_back(end.status + " " + step.id + " " + std::to_string(end.attempt));
    ends.push_back(end);
  }
  void steps_skipped(const std::vector<const Step*>& steps, const std::string& status) override {
    for (const Step* s : steps) events.push_back(status + " " + s->id);
  }
  std::vector<std::string> events;
  std::vector<StepEnd> ends;
};

struct CommandResult {
  int exit_code = -1;
  int signal = 0;
  std::string out;
  std::string err;
};

class TwinflowTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Writes `yaml` to home/dags/<name>.yaml and returns the path.
  std::string write_dag(const std::string& name, const std::string& yaml);
  // Loads a DAG file and fails the test with the diagnostics if it is invalid.
  Dag load(const std::string& path, const std::map<std::string, std::string>& params = {});

  struct Outcome {
    int64_t run_id = 0;
    std::string status;
  };
  // Runs a prepared run in this process with the real Executor.
  Outcome execute(const PreparedRun& run, ExecutorOptions options = {});
  ExecutorOptions default_options();

  // Runs the twinflow binary with this test's home and database.
  CommandResult twinflow(const std::vector<std::string>& args);
  // Starts it in the background; returns the pid. Output goes to `log`.
  pid_t spawn_twinflow(const std::vector<std::string>& args, const std::string& log);
  std::vector<std::string> twinflow_env() const;

  // How many attempts of (run, step) were recorded.
  int attempts_of(int64_t run_id, const std::string& step);
  std::string step_state(int64_t run_id, const std::string& step);
  // The last value of a run's metric `key`; NaN (equal to nothing) when absent.
  double metric(int64_t run_id, const std::string& key);

  std::filesystem::path home;
  std::string conninfo;
  std::unique_ptr<Store> store;
  std::unique_ptr<BlobStore> blobs;
  RecordingProgress progress;
};

// Reads a whole file.
std::string read_file(const std::filesystem::path& path);

}  // namespace twinflow
