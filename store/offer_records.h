// Records of shared steps: the ready steps a run's scheduler offers to every
// scheduler (migrations/0009_step_offers.sql, store/store_offers.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/records.h"

namespace twinflow {

// One attempt of a step, ready to run anywhere: everything a scheduler needs
// besides the DAG (which it loads from the run's snapshot).
struct StepOffer {
  int64_t run_id = 0;
  std::string step_id;
  int attempt = 0;
  int interruptions = 0;  // earlier attempts that ended by no fault of the step
  std::string executor;   // "local"
  std::string cache_key;  // empty: the step is not cached
  std::vector<NamedVersion> inputs;
};

// An offer of the owner's run that another scheduler claimed, as the owner
// sees it when it looks.
struct ClaimedOffer {
  std::string step_id;
  int attempt = 0;
  std::string claimed_by;
  std::optional<int64_t> step_run_id;  // set once the claimer recorded the attempt
  std::string log_path;
  std::string attempt_status;  // of step_runs; empty before the attempt is recorded
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::string error;
  bool stale = false;  // the claimer's heartbeat is older than the owner's limit
};

}  // namespace twinflow
