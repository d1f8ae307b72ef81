// Recovery: finding runs whose twinflow process died (kill -9, a crash, a lost
// machine) and recording them as interrupted, so they can be rerun.
//
// A run on this host is dead when its recorded pid is no longer a twinflow
// process; a run anywhere is dead when its heartbeat is older than
// `stale_after`. Steps that were running under a dead run are orphans: when
// they run on this host their process groups are killed, so a rerun never
// races a leftover of the run it replaces. Slurm attempts are recorded with
// no pid and are left alone: their jobs go on, and the run that resumes this
// one re-attaches to them by job id (slurm_launcher.h) instead of submitting
// them again.
#pragma once

#include <chrono>
#include <string>

#include "store/store.h"

namespace twinflow {

// Returns how many running attempts were found orphaned (and recorded interrupted).
int recover_interrupted_runs(Store& store, const std::string& host,
                             std::chrono::seconds stale_after = std::chrono::seconds(60));

// True when `pid` is a live process whose program is twinflow.
bool is_live_twinflow_process(int pid);

}  // namespace twinflow
