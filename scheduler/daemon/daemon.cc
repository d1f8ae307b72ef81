// The scheduler daemon's passes. See daemon.h.
#include "scheduler/daemon/daemon.h"

#include <algorithm>

#include "scheduler/daemon/schedule_policy.h"
#include "scheduler/daemon/trigger_policy.h"
#include "scheduler/definition/dag_loader.h"
#include "scheduler/execution/openlineage_sink.h"
#include "scheduler/execution/recovery.h"
#include "scheduler/execution/runner.h"
#include "scheduler/execution/step_helper.h"
#include "store/run_ledger.h"
#include "store/run_queue.h"
#include "util/error.h"

namespace twinflow {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::system_clock;

int64_t to_seconds(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Clock::time_point from_seconds(int64_t s) {
  return Clock::time_point(std::chrono::seconds(s));
}

// Says when runs start and end; the daemon's log is its user interface.
class LogProgress : public ProgressSink {
 public:
  LogProgress(const std::function<void(const std::string&)>& log, int64_t run_id)
      : log_(log), run_id_(run_id) {}
  void step_ended(const Step& step, const StepEnd& end) override {
    if (end.status != "succeeded" && end.status != "cached")
      log_("run " + std::to_string(run_id_) + ": step " + step.id + " attempt " +
           std::to_string(end.attempt) + " " + end.status +
           (end.reason.empty() ? "" : ": " + end.reason));
  }
  void run_finished(int64_t run_id, const std::string& status, double seconds) override {
    log_("run " + std::to_string(run_id) + " " + status + " in " + std::to_string(seconds) + " s");
  }

 private:
  const std::function<void(const std::string&)>& log_;
  const int64_t run_id_;
};

}  // namespace

SchedulerDaemon::SchedulerDaemon(Store& store, BlobStore& blobs, DaemonOptions options)
    : store_(store), blobs_(blobs), options_(std::move(options)) {
  if (options_.max_parallel_runs > 1)
    workers_ = std::make_unique<RunWorkers>(store_.conninfo(), options_.reconnect,
                                            options_.max_parallel_runs);
}

SchedulerDaemon::~SchedulerDaemon() {
  workers_.reset();  // the run threads use the members below it: they end first
}

std::vector<Dag> SchedulerDaemon::load_dags(PassSummary& summary) const {
  // A file is loaded again only when it changed, and a broken one is reported
  // once per change; it never stops the others' schedules.
  return dags_->refresh_dags(summary.errors);
}

namespace {

// The pass wakes the daemon at `when` at the latest.
void note_wake(Clock::time_point when, PassSummary& summary) {
  if (!summary.next_tick || when < *summary.next_tick) summary.next_tick = when;
}

void note_next_tick(const Schedule& schedule, Clock::time_point now, PassSummary& summary) {
  try {
    note_wake(schedule.next_after(now), summary);
  } catch (const Error&) {
    // No tick before the end of representable time: nothing to wake for.
  }
}

}  // namespace

void SchedulerDaemon::fire_schedules(const std::vector<Dag>& dags, PassSummary& summary) {
  const Clock::time_point now = options_.clock();
  for (const Dag& dag : dags) {
    if (!dag.schedule || store_.queue().is_paused(dag.name)) continue;
    const ScheduleSpec& spec = *dag.schedule;
    note_next_tick(schedule_of(spec), now, summary);
    std::optional<Clock::time_point> last;
    if (auto seconds = store_.queue().last_logical_time(dag.name)) last = from_seconds(*seconds);
    int active = store_.queue().active_runs(dag.name);
    for (Clock::time_point tick : due_ticks(schedule_of(spec), last, now, spec.catchup)) {
      if (!can_start(active, spec.max_active_runs)) break;  // the rest waits for a later pass
      auto run_id =
          store_.queue().enqueue_run(new_run_of(dag, "schedule"), QueuePlacement{to_seconds(tick)});
      if (!run_id) continue;  // another scheduler fired this tick
      ++active;
      ++summary.scheduled;
      options_.log("scheduled run " + std::to_string(*run_id) + " of " + dag.name + " for tick " +
                   std::to_string(to_seconds(tick)));
    }
  }
}

void SchedulerDaemon::consume_triggers(const std::vector<Dag>& dags, PassSummary& summary) {
  // Coalescing: see trigger_policy.h. At most one run per DAG and pass; the
  // store re-checks under a lock that no run of the DAG is queued or running.
  for (const Dag& dag : dags) {
    if (dag.triggers.empty() || store_.queue().is_paused(dag.name)) continue;
    // A run queued or running: its events wait (trigger_policy.h), unread.
    if (store_.queue().active_runs(dag.name) > 0) continue;
    std::vector<EventFilter> firing;
    std::string why;
    for (const TriggerSpec& trigger : dag.triggers) {
      const EventFilter filter = event_filter_of(trigger);
      const TriggerDecision d =
          decide_trigger(trigger, store_.queue().pending_events(dag.name, filter), false);
      if (d.verdict == TriggerDecision::Verdict::kFire) {
        firing.push_back(filter);
        why += (why.empty() ? "" : ", ") + describe_trigger(trigger) + " (" + d.reason + ")";
      } else if (d.recheck_in) {
        note_wake(options_.clock() + *d.recheck_in, summary);
      }
    }
    if (firing.empty()) continue;
    std::optional<TriggeredRun> run =
        store_.queue().enqueue_triggered_run(dag.name, firing, new_run_of(dag, "event"));
    if (!run) continue;  // another scheduler is on it, or a run was queued meanwhile
    ++summary.triggered;
    options_.log("triggered run " + std::to_string(run->run_id) + " of " + dag.name + " by " +
                 std::to_string(run->events) + " event(s): " + why);
  }
}

void SchedulerDaemon::execute_queue(const std::function<bool()>& stop, bool wait_for_runs,
                                    PassSummary& summary) {
  if (!workers_) {
    drain_queue(store_, stop, &summary.executed);
    return;
  }
  std::vector<int64_t> executed;
  std::vector<int64_t>* record = wait_for_runs ? &executed : nullptr;
  // `stop` is copied: in serve() the threads outlive the pass.
  workers_->fill([this, stop, record](Store& store) { drain_queue(store, stop, record); });
  if (!wait_for_runs) return;
  workers_->wait_idle();
  summary.executed = std::move(executed);
}

void SchedulerDaemon::drain_queue(Store& store, const std::function<bool()>& stop,
                                  std::vector<int64_t>* executed) {
  while (!stop()) {
    std::optional<RunRecord> run =
        store.queue().claim_queued_run(options_.executor.host, options_.pid);
    if (!run) {
      // No run waits: help with a step another scheduler's run offered.
      if (options_.share_steps && help_with_one_step(store)) continue;
      return;
    }
    LogProgress log_progress(options_.log, run->id);
    std::unique_ptr<ProgressSink> lineage = openlineage_from_environment(store, log_progress);
    ProgressSink& progress = lineage ? *lineage : log_progress;
    options_.log("executing run " + std::to_string(run->id) + " of " + run->pipeline + " (" +
                 run->trigger + ")");
    try {
      execute_claimed(store, *run, progress);
    } catch (const std::exception& e) {
      // A run that cannot even start is that run's failure, not the daemon's.
      store.runs().finish_run(run->id, run_status::kFailed, e.what());
      options_.log("run " + std::to_string(run->id) + " failed to start: " + e.what());
    }
    if (executed) {
      std::lock_guard<std::mutex> lock(executed_mu_);
      executed->push_back(run->id);
    }
  }
}

ExecutorOptions SchedulerDaemon::executor_options() const {
  ExecutorOptions exec = options_.executor;
  exec.cancel_requested = options_.cancel_running;
  exec.share_steps = options_.share_steps;
  exec.claimer = options_.executor.host + ":" + std::to_string(options_.pid);
  exec.claim_stale_after_seconds = static_cast<int>(options_.stale_after.count());
  return exec;
}

bool SchedulerDaemon::help_with_one_step(Store& store) {
  try {
    StepHelper helper(store, blobs_, executor_options(), options_.log);
    return helper.run_one();
  } catch (const std::exception& e) {
    // The step's owner sees its claim go stale and retries it elsewhere.
    options_.log(std::string("could not run an offered step: ") + e.what());
    return false;
  }
}

void SchedulerDaemon::execute_claimed(Store& store, const RunRecord& run, ProgressSink& progress) {
  ExecutorOptions exec = executor_options();
  if (run.trigger == "rerun" && run.parent_run_id) {
    // A resumed run: the parent's succeeded steps stand, the rest execute.
    PreparedRun rerun = prepare_rerun(store, *run.parent_run_id);
    store.runs().set_steps_status(run.id, rerun.reused_step_ids, step_status::kReused,
                                  rerun.reused_result_step_runs);
    Executor executor(rerun.dag, run.id, store, blobs_, progress, exec);
    executor.execute(rerun.seed);
    return;
  }
  Dag dag = dag_of_run(store, run);
  Executor executor(dag, run.id, store, blobs_, progress, exec);
  executor.execute();
}

void SchedulerDaemon::resume_interrupted(PassSummary& summary) {
  for (const RunRecord& run : store_.queue().interrupted_runs_to_resume()) {
    try {
      NewRun rerun = new_run_of(dag_of_run(store_, run), "rerun");
      rerun.parent_run_id = run.id;
      auto id = store_.queue().enqueue_resume(rerun);
      if (!id) continue;  // another scheduler resumed it first
      ++summary.resumed;
      options_.log("run " + std::to_string(run.id) + " of " + run.pipeline +
                   " was interrupted; queued run " + std::to_string(*id) + " to finish it");
    } catch (const std::exception& e) {
      summary.errors.push_back("cannot resume run " + std::to_string(run.id) + ": " + e.what());
    }
  }
}

PassSummary SchedulerDaemon::run_once(const std::function<bool()>& stop) {
  return pass(stop, true);
}

PassSummary SchedulerDaemon::pass(const std::function<bool()>& stop, bool wait_for_runs) {
  PassSummary summary;
  recover_interrupted_runs(store_, options_.executor.host, options_.stale_after);
  resume_interrupted(summary);
  std::vector<Dag> dags = load_dags(summary);
  for (const std::string& error : summary.errors) options_.log(error);
  fire_schedules(dags, summary);
  consume_triggers(dags, summary);
  execute_queue(stop, wait_for_runs, summary);
  return summary;
}

// The poll interval, or less when a schedule fires sooner: a cron tick
// starts its run within milliseconds, not up to a poll interval late.
std::chrono::milliseconds SchedulerDaemon::time_to_wait(const PassSummary& pass) const {
  auto wait = options_.poll_interval;
  if (pass.next_tick) {
    auto until =
        std::chrono::duration_cast<std::chrono::milliseconds>(*pass.next_tick - options_.clock()) +
        std::chrono::milliseconds(1);
    wait = std::clamp(until, std::chrono::milliseconds(0), wait);
  }
  return wait;
}

void SchedulerDaemon::serve(const std::function<bool()>& stop,
                            const std::function<void(std::chrono::milliseconds)>& wait) {
  std::optional<int64_t> id;
  std::chrono::milliseconds backoff{0};
  // Dead owners are reaped every second, even while a pass executes runs.
  OwnerReaper reaper(store_.conninfo(), options_.executor.host, options_.stale_after, options_.log);
  while (!stop()) {
    std::chrono::milliseconds next_wait;
    try {
      if (!id) id = store_.queue().register_scheduler(options_.executor.host, options_.pid);
      store_.queue().scheduler_heartbeat(*id);
      next_wait = time_to_wait(pass(stop, false));
      backoff = std::chrono::milliseconds(0);
    } catch (const std::exception& e) {
      // Nothing a pass meets (the database away for longer than the store
      // waits, a bug) takes the daemon down: it says so and tries again later.
      backoff = std::clamp(backoff * 2, std::chrono::milliseconds(100), options_.poll_interval);
      options_.log(std::string("pass failed: ") + e.what() + "; next pass in " +
                   std::to_string(backoff.count()) + " ms");
      next_wait = backoff;
    }
    if (!stop()) wait(next_wait);
  }
  if (workers_) workers_->wait_idle();  // draining: the runs executing now finish
  try {
    if (id) store_.queue().scheduler_stopped(*id);
  } catch (const std::exception& e) {
    options_.log(std::string("could not record the stop: ") + e.what());
  }
}

}  // namespace twinflow
