// What a Slurm job state (squeue's %T, scontrol's JobState) means to twinflow.
//
// A job is waiting (PENDING, and REQUEUED after a preemption with requeue:
// Slurm runs it again under the same id, so twinflow keeps waiting), running,
// or ended; an ended job ended in one of twinflow's outcomes. COMPLETED and
// FAILED are the step's own doing: the exit-status file the batch script
// wrote says the rest. PREEMPTED and NODE_FAIL are the cluster's doing: an
// interruption, retried without consuming one of the step's retries.
#pragma once

#include <string>
#include <string_view>

#include "scheduler/launchers/step_launcher.h"

namespace twinflow {

enum class SlurmPhase { kWaiting, kRunning, kEnded };

struct SlurmStateMeaning {
  SlurmPhase phase = SlurmPhase::kWaiting;
  // kEnded only. kExited means "look at the exit status": COMPLETED or FAILED.
  LaunchEnd::Outcome outcome = LaunchEnd::Outcome::kExited;
  std::string detail;  // for the outcomes that need words
};

// `state` as squeue prints it ("RUNNING", "CANCELLED", "CANCELLED+" and
// "CANCELLED by 0" all work). `cancelled_by_us` says twinflow asked for the
// cancellation, so CANCELLED is kTerminated rather than a failure.
SlurmStateMeaning interpret_slurm_state(std::string_view state, bool cancelled_by_us);

}  // namespace twinflow
