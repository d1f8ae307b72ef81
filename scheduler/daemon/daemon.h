// SchedulerDaemon: what `twinflow scheduler` runs: it fires cron schedules,
// turns data events into runs, and executes queued runs, with no person in
// the loop.
//
// One pass (run_once) does three things, in order:
//   1. schedules: for every DAG file under the DAGs directory with a
//      `schedule`, the ticks due since its last scheduled run (catchup or
//      only the latest, schedule_policy.h) are enqueued, one run per tick;
//      the database's unique (pipeline, tick) keeps two schedulers from both
//      enqueueing a tick;
//   2. triggers: outbox events (a new artifact version, new documents; written
//      by the database in the transaction that commits the data) that a
//      DAG's `triggers` name and it has not consumed are coalesced
//      (trigger_policy.h): once they settle (debounce, max_wait) and no run of
//      the DAG is queued or running, one run is enqueued that consumes all of
//      them, exactly once per DAG, in the same transaction;
//   3. queue: queued runs (from 1, 2 or `twinflow trigger`) are claimed with
//      FOR UPDATE SKIP LOCKED, so several schedulers share them and none runs
//      twice, and executed here by the Executor: up to max_parallel_runs at
//      once, each on a thread of its own (run_workers.h), so a long run does
//      not hold back the others. A run's ready steps beyond its --jobs are
//      offered to every scheduler (executor.h); a run slot with no queued
//      run takes one offered step of another scheduler's run (StepHelper),
//      so several schedulers share the steps of one wide run too.
// Paused DAGs (`twinflow pause`) fire and consume nothing.
//
// A run of the daemon's whose scheduler died (kill -9, a lost machine) is
// recorded interrupted by the next pass on its host (or anywhere once its
// heartbeat is stale), and resumed: a rerun of it is queued that reuses the
// steps that succeeded and executes the others, so no step result is
// recorded twice.
//
// serve() repeats passes until asked to stop, sleeping between them until a
// NOTIFY on the events channel or the poll interval. A pass that throws (the
// database away longer than the store waits, anything unexpected) is logged
// and the next one follows after a backoff: nothing takes the daemon down.
// The clock is injected so tests can replay an outage in a moment.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/daemon/run_workers.h"
#include "scheduler/definition/dag_directory.h"
#include "scheduler/execution/executor.h"
#include "store/blob_store.h"
#include "store/store.h"

namespace twinflow {

struct DaemonOptions {
  std::filesystem::path dags_dir = "dags";
  ExecutorOptions executor;  // home, self_exe, database_url, host, jobs
  int pid = 0;               // recorded on claimed runs
  std::chrono::milliseconds poll_interval{2000};
  // A running run whose heartbeat (refreshed every couple of seconds by the
  // executor running it) is older than this is recorded interrupted, its
  // running attempts too, and resumed here: its scheduler is gone or frozen.
  std::chrono::seconds stale_after{60};
  std::function<std::chrono::system_clock::time_point()> clock = [] {
    return std::chrono::system_clock::now();
  };
  // Polled while a run executes: true cancels it (its steps are stopped and
  // recorded cancelled). The CLI turns it true a grace period after SIGTERM,
  // so a drain lets running steps finish first.
  std::function<bool()> cancel_running = [] { return false; };
  // Where the daemon says what it does (one line per event), e.g. std::cerr.
  // With max_parallel_runs > 1 it, cancel_running and a pass's `stop` are
  // called from the run threads too: they must be thread-safe.
  std::function<void(const std::string&)> log = [](const std::string&) {};
  // Runs executed at once. 1: in the thread that calls run_once or serve.
  int max_parallel_runs = 1;
  // How the run threads' own stores ride out a lost database.
  ReconnectPolicy reconnect;
  // Offer ready steps beyond --jobs to other schedulers, and help with theirs.
  bool share_steps = true;
};

// What one pass did.
struct PassSummary {
  int scheduled = 0;                // runs enqueued for schedule ticks
  int triggered = 0;                // runs enqueued for events
  int resumed = 0;                  // reruns enqueued for interrupted runs
  std::vector<int64_t> executed;    // runs claimed and executed, in order
  std::vector<std::string> errors;  // DAG files that did not load, and similar
  // The earliest fire time after this pass of any schedule not paused, or
  // time at which waiting trigger events settle (trigger_policy.h), so the
  // daemon wakes for it instead of a poll interval later.
  std::optional<std::chrono::system_clock::time_point> next_tick;
};

class SchedulerDaemon {
 public:
  SchedulerDaemon(Store& store, BlobStore& blobs, DaemonOptions options);
  ~SchedulerDaemon();

  // One pass. Claims and executes queued runs until none is left or `stop`
  // says so (a run already executing goes on; see cancel_running), and
  // returns when the runs it started have ended.
  PassSummary run_once(const std::function<bool()>& stop = [] { return false; });
  // Passes until `stop` returns true; `wait(ms)` blocks until an event
  // notification, the timeout, or a stop request.
  void serve(const std::function<bool()>& stop,
             const std::function<void(std::chrono::milliseconds)>& wait);

 private:
  // A pass; `wait_for_runs` false leaves the runs it started executing on
  // their threads (serve), true waits for them (run_once).
  PassSummary pass(const std::function<bool()>& stop, bool wait_for_runs);
  std::chrono::milliseconds time_to_wait(const PassSummary& pass) const;
  void fire_schedules(const std::vector<Dag>& dags, PassSummary& summary);
  void consume_triggers(const std::vector<Dag>& dags, PassSummary& summary);
  void execute_queue(const std::function<bool()>& stop, bool wait_for_runs, PassSummary& summary);
  // Claims and executes runs with `store` until none is left or `stop`.
  void drain_queue(Store& store, const std::function<bool()>& stop, std::vector<int64_t>* executed);
  void resume_interrupted(PassSummary& summary);
  void execute_claimed(Store& store, const RunRecord& run, ProgressSink& progress);
  // Claims one step another scheduler's run offered and runs it; false when
  // none was offered.
  bool help_with_one_step(Store& store);
  ExecutorOptions executor_options() const;
  std::vector<Dag> load_dags(PassSummary& summary) const;

  Store& store_;
  BlobStore& blobs_;
  DaemonOptions options_;
  std::unique_ptr<RunWorkers> workers_;  // when max_parallel_runs > 1
  std::mutex executed_mu_;               // guards the `executed` of drain_queue
  // The DAG files, read again only when changed (load_dags, on the pass's thread).
  std::unique_ptr<DagDirectory> dags_ = std::make_unique<DagDirectory>(options_.dags_dir);
};

}  // namespace twinflow
