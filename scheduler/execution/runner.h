// Starting runs: a fresh run of a DAG, or a rerun of an earlier run.
//
// These functions turn a request into the records a run starts from, then
// hand it to the Executor. `twinflow run` and `twinflow rerun` are thin
// wrappers over them, and so are the tests.
#pragma once

#include <optional>
#include <string>

#include "scheduler/definition/dag.h"
#include "scheduler/execution/run_seed.h"
#include "store/store.h"

namespace twinflow {

// A run about to start: the DAG it runs and where it starts from.
struct PreparedRun {
  Dag dag;
  std::string trigger = "manual";
  std::optional<int64_t> parent_run_id;
  RunSeed seed;
  std::vector<std::string> reused_step_ids;      // rerun: kept from the parent...
  std::vector<int64_t> reused_result_step_runs;  // ...with the attempts that stand for them
};

PreparedRun prepare_fresh_run(Dag dag, const std::string& trigger = "manual");

// Re-execute from failure (from_step empty) or from a step. Uses the DAG
// snapshot the parent ran with and its params. Throws Error when the run does
// not exist, is still running, or from_step is not one of its steps.
PreparedRun prepare_rerun(Store& store, int64_t parent_run_id, const std::string& from_step = "");

// The DAG a recorded run runs: its snapshot, loaded with its params. Throws
// Error when the snapshot no longer loads.
Dag dag_of_run(Store& store, const RunRecord& run);

// The record of a run of `dag` (steps, params, snapshot), for enqueueing.
NewRun new_run_of(const Dag& dag, const std::string& trigger);

// Records the run (and, for a rerun, the reused steps) and returns its id.
int64_t record_run_start(Store& store, const PreparedRun& run, const std::string& host, int pid);

}  // namespace twinflow
