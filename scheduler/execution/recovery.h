// Recovery: finding runs whose twinflow process died (kill -9, a crash, a lost
// machine) and recording them as interrupted, so they can be rerun; and
// fencing: making sure an attempt's processes are dead before another
// attempt of the step starts.
//
// A run's owner is identified by (host, pid, pid_start) (process_tree.h,
// migrations/0010_owner_identity.sql). On the owner's host it is dead when
// that process is gone (a reused pid has another start time), and recorded
// interrupted at once; a live owner is never interrupted, however stale its
// heartbeat (the database may have been down), unless it is stopped
// (frozen: SIGSTOP) and stale. On another host a run is dead when its
// heartbeat is older than `stale_after`, counted from the database server's
// last start at the earliest (Store::reap_dead_owners).
//
// Steps that were running under a dead run are orphans. Their step
// supervisors (supervisor.h) have killed their trees already when the owner
// died; those on this host are checked and killed here anyway (a frozen
// owner's supervisors live on), so a rerun never races a leftover of the run
// it replaces. Slurm attempts are recorded with no pid and are left alone:
// their jobs go on, and the run that resumes this one re-attaches to them by
// job id (slurm_launcher.h) instead of submitting them again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "store/run_ledger.h"
#include "store/store.h"

namespace twinflow {

// Returns how many running attempts were found orphaned (and recorded
// interrupted). Also revokes the step claims of dead schedulers on `host`.
int recover_interrupted_runs(Store& store, const std::string& host,
                             std::chrono::seconds stale_after = std::chrono::seconds(60));

// True when `pid` is a live process whose program is twinflow.
bool is_live_twinflow_process(int pid);

// How a run's owner (pid, pid_start; pid_start 0: not recorded) on this
// host looks from here.
RunLedger::OwnerLiveness owner_liveness(int pid, int64_t pid_start);

// Fencing: when `attempt` ran on `host` (this one), makes sure its process
// and everything it started are dead, killing them if needed; on another
// host there is nothing to check from here (its supervisor dies with its
// scheduler). False when something of it would not die within `limit`.
bool fence_attempt(const RunLedger::AttemptProcess& attempt, const std::string& host,
                   std::chrono::milliseconds limit = std::chrono::seconds(10));

// Reaps dead owners every `interval` on a thread of its own (with its own
// connection), for `twinflow scheduler` and `twinflow web`: a run whose
// owner died on this host is recorded interrupted within about `interval`,
// whatever the process that hosts the reaper is busy with. Errors (the
// database away) are logged once per outage and retried at the next tick.
class OwnerReaper {
 public:
  OwnerReaper(std::string conninfo, std::string host, std::chrono::seconds stale_after,
              std::function<void(const std::string&)> log,
              std::chrono::milliseconds interval = std::chrono::seconds(1));
  ~OwnerReaper();  // stops and joins the thread
  OwnerReaper(const OwnerReaper&) = delete;
  OwnerReaper& operator=(const OwnerReaper&) = delete;

 private:
  void loop();

  const std::string conninfo_, host_;
  const std::chrono::seconds stale_after_;
  const std::function<void(const std::string&)> log_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace twinflow
