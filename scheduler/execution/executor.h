// Executor: runs the steps of one run to the end and records every change.
//
// The loop (like ninja's Builder): start every ready step it may (within
// --jobs and the pools), wait for one to end or for a timer, record the end,
// repeat. Each attempt is a subprocess in its own process group speaking the
// step protocol (step_protocol.h). Retries wait out their backoff without
// holding a job slot. A failed step's descendants become upstream_failed while
// independent branches go on. Cancellation (a signal on the wake fd, or
// `twinflow cancel` seen at a heartbeat) terminates the running steps and
// records the run cancelled.
//
// With ExecutorOptions::share_steps, the steps of a run spread over several
// schedulers: ready steps beyond this scheduler's job slots are offered in
// the database (store: offer_steps), claimed by whichever scheduler has a
// slot first (StepHelper, step_helper.h, or this executor itself), and the
// attempts others run are followed through the database: their ends, and
// their claimers' heartbeats (a stale claim is revoked and retried as an
// interruption). StepSharing (step_sharing.h) does that part; what differs between a
// local process and a cluster job is in attempt_start.h.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/definition/dag.h"
#include "scheduler/execution/progress.h"
#include "scheduler/execution/run_seed.h"
#include "scheduler/launchers/step_launcher.h"
#include "store/blob_store.h"
#include "store/records.h"
#include "store/store.h"
#include "util/build_info.h"

namespace twinflow {

class OfferBoard;
class RunRecorder;
class StoreRecorder;

struct ExecutorOptions {
  int jobs = 2;                // steps running at once
  bool use_cache = true;       // --no-cache turns it off
  std::filesystem::path home;  // $TWINFLOW_HOME: logs and attempt dirs
  std::string self_exe;        // the twinflow binary, for typed steps
  std::string database_url;    // handed to steps
  std::string build_id = twinflow_build_id();
  std::string host;
  Millis heartbeat_interval{2000};
  Millis kill_grace{5000};
  int wake_fd = -1;  // readable when `cancel_requested` may have turned true
  // Where steps run when neither they nor their DAG say (`executor:`).
  std::string default_executor = executor_from_environment();
  Millis slurm_poll_interval{1000};  // the slowest squeue poll while jobs run
  std::function<bool()> cancel_requested = [] { return false; };

  // Step sharing (the daemon; step_offers). With it on, the ready local
  // steps this executor has no job slot for are offered to every scheduler;
  // it claims them back as its slots free up, with FOR UPDATE SKIP LOCKED,
  // and watches those another scheduler claimed.
  bool share_steps = false;
  std::string claimer;                 // this scheduler: "host:pid"
  Millis offer_poll_interval{50};      // how often claimed offers are looked at
  int claim_stale_after_seconds = 60;  // a claim whose heartbeat is older is revoked
};

class Executor {
 public:
  // Records through `recorder`. `offers` carries step sharing
  // (options.share_steps) and may be null without it.
  Executor(const Dag& dag, int64_t run_id, RunRecorder& recorder, OfferBoard* offers,
           BlobStore& blobs, ProgressSink& progress, ExecutorOptions options);
  // Records into `store` (a StoreRecorder over it), which must outlive it.
  Executor(const Dag& dag, int64_t run_id, Store& store, BlobStore& blobs, ProgressSink& progress,
           ExecutorOptions options);
  ~Executor();

  // Runs to the end; returns the run's final status (run_status::k*), which is
  // also recorded.
  std::string execute(const RunSeed& seed = {});

 private:
  struct Impl;
  std::unique_ptr<StoreRecorder> owned_recorder_;  // with the Store constructor
  std::unique_ptr<Impl> impl_;
};

// The path of the running twinflow binary (/proc/self/exe).
std::string self_executable();
std::string host_name();

}  // namespace twinflow
