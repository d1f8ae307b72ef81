// Starting an attempt's process and recording it, in the order its launcher
// needs: the one place the executor tells a local process from a cluster job.
//
//   local   the process starts, then the attempt is recorded with its pid (a
//           scheduler that dies in between takes the process with it);
//   slurm   the attempt is recorded, the job submitted, then its job id
//           recorded: a scheduler that dies in between leaves a job without a
//           record, never a record of a job that was not submitted. A run that
//           resumes an interrupted one re-attaches to the job that run's
//           attempt left (adopt_interrupted_job).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "scheduler/execution/run_recorder.h"
#include "scheduler/execution/step_protocol.h"
#include "scheduler/launchers/step_launcher.h"

namespace twinflow {

// Who the attempt is: its run, step, attempt number and where it runs.
struct AttemptIdentity {
  int64_t run_id = 0;
  const Step* step = nullptr;
  int attempt = 0;
  std::string host;
  std::string cache_key;
};

struct StartedAttempt {
  int64_t step_run_id = 0;  // always recorded, even when the start failed
  std::string error;        // empty: it runs
};

// Starts `launch` on `executor` through `launchers` and records the attempt.
StartedAttempt start_and_record(LauncherSet& launchers, RunRecorder& recorder,
                                const std::string& executor, const AttemptLaunch& launch,
                                const AttemptIdentity& who);

// A job re-attached by adopt_interrupted_job.
struct AdoptedJob {
  int64_t step_run_id = 0;  // this attempt's record
  AttemptPaths paths;       // the interrupted attempt's files, where the job writes
  std::string error;        // empty: adopted; else the attempt failed to adopt it
};

// In a run that resumes `resumed_run_id`: takes over the Slurm job the
// interrupted attempt of the same step left, if any (nullopt: none). Its
// files stay where that attempt made them; its result is recorded on this
// run's attempt only.
std::optional<AdoptedJob> adopt_interrupted_job(LauncherSet& launchers, RunRecorder& recorder,
                                                int64_t resumed_run_id, const AttemptIdentity& who,
                                                const std::filesystem::path& home, uint64_t tag);

}  // namespace twinflow
