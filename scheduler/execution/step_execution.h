// StepExecution: the executor's state of one step's current attempt, shared
// by the Executor (executor.cc) and the part of it that shares steps with
// other schedulers (StepSharing, step_sharing.h). Plain data: the algorithms
// over it live in those two.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "scheduler/execution/step_protocol.h"
#include "store/records.h"

namespace twinflow {

struct StepExecution {
  using Clock = std::chrono::steady_clock;
  // Where the current attempt runs. Offered: waiting in step_offers for a
  // claimer; remote: another scheduler claimed it.
  enum class Place { kNone, kHere, kOffered, kRemote };
  std::string executor;  // "local" or "slurm"
  Place place = Place::kNone;
  bool claimed_offer = false;  // kHere: the attempt is an offer this executor claimed
  bool announced = false;      // kRemote: step_started was reported
  int attempt = 0;
  int interruptions = 0;  // attempts that ended by no fault of the step
  int64_t step_run_id = 0;
  std::string cache_key;
  std::vector<NamedVersion> inputs;
  AttemptPaths paths;
  Clock::time_point started;
  std::vector<MetricPoint> pending_metrics;
};

}  // namespace twinflow
