// See step_helper.h.
#include "scheduler/execution/step_helper.h"

#include <algorithm>
#include <chrono>

#include "scheduler/execution/attempt.h"
#include "scheduler/execution/runner.h"
#include "scheduler/execution/step_protocol.h"
#include "scheduler/launchers/step_launcher.h"
#include "store/run_ledger.h"
#include "store/run_queue.h"
#include "util/error.h"

namespace twinflow {

namespace {

using Clock = std::chrono::steady_clock;

// Why the helper stopped an attempt before it ended by itself.
enum class StopReason { kNone, kOwner, kDrain };

const Step& step_of(const Dag& dag, const StepOffer& claim) {
  auto it = std::find_if(dag.steps.begin(), dag.steps.end(),
                         [&](const Step& s) { return s.id == claim.step_id; });
  if (it == dag.steps.end())
    throw Error("run " + std::to_string(claim.run_id) + " has no step '" + claim.step_id + "'");
  return *it;
}

}  // namespace

StepHelper::StepHelper(Store& store, BlobStore& blobs, ExecutorOptions options,
                       std::function<void(const std::string&)> log)
    : store_(store), blobs_(blobs), options_(std::move(options)), log_(std::move(log)) {}

bool StepHelper::run_one() {
  std::optional<StepOffer> claim = store_.queue().claim_step_offer(options_.claimer);
  if (!claim) return false;
  log_("running step " + claim->step_id + " (attempt " + std::to_string(claim->attempt) +
       ") of run " + std::to_string(claim->run_id) + ", offered by its scheduler");
  run_claimed(*claim);
  return true;
}

void StepHelper::run_claimed(const StepOffer& claim) {
  std::optional<RunRecord> run = store_.runs().find_run(claim.run_id);
  if (!run) return;
  // What cannot even start (the snapshot no longer loads) is the attempt's
  // failure, recorded so the owner need not wait for a stale heartbeat.
  auto fail_unstarted = [&](const std::string& why) {
    auto id = store_.queue().start_claimed_attempt(claim, options_.claimer, options_.host, 0, "");
    if (id)
      store_.runs().end_attempt_unsuccessfully(
          claim.run_id, claim.step_id, *id,
          {attempt_status::kFailed, std::nullopt, std::nullopt, why}, step_status::kFailed);
  };
  Dag dag;
  const Step* found = nullptr;
  try {
    dag = dag_of_run(store_, *run);
    found = &step_of(dag, claim);
  } catch (const Error& e) {
    fail_unstarted(e.what());
    return;
  }
  const Step& step = *found;
  AttemptPaths paths = attempt_paths(options_.home, claim.run_id, step.id, claim.attempt);
  AttemptContext context{claim.run_id,          dag.name,     &step, claim.attempt, claim.inputs,
                         options_.database_url, options_.home};
  try {
    write_context(context, paths);
  } catch (const std::exception& e) {
    fail_unstarted(with_full_disk_note(e.what(), paths));
    return;
  }

  std::vector<MetricPoint> pending_metrics;
  LauncherSet launchers(
      [&](uint64_t, std::string_view line) {
        if (auto points = parse_metric_line(line))
          pending_metrics.insert(pending_metrics.end(), points->begin(), points->end());
      },
      -1, options_.slurm_poll_interval, (options_.home / "logs" / "slurm.log").string());
  AttemptLaunch launch =
      make_attempt_launch(step, context, paths, options_, inherited_environment(), 0);
  LaunchedAttempt launched;
  try {
    launched = launchers.start(claim.executor, launch);
  } catch (const Error& e) {
    fail_unstarted(e.what());
    return;
  }
  std::optional<int64_t> step_run_id = store_.queue().start_claimed_attempt(
      claim, options_.claimer, options_.host, launched.pid, paths.log.string(), launched.pid_start);
  if (!step_run_id) {
    // Revoked or cancelled before it could be recorded: it must not run.
    launchers.terminate_all();
    while (launchers.running() > 0) launchers.wait(options_.heartbeat_interval);
    return;
  }

  StopReason stop = StopReason::kNone;
  std::optional<LaunchEnd> end;
  Clock::time_point next_heartbeat = Clock::now() + options_.heartbeat_interval;
  while (!end) {
    auto until_heartbeat = std::chrono::duration_cast<Millis>(next_heartbeat - Clock::now());
    for (LaunchEnd& e :
         launchers.wait(std::clamp(until_heartbeat, Millis(0), options_.heartbeat_interval)))
      end = std::move(e);
    if (!pending_metrics.empty()) {
      store_.runs().record_metrics(*step_run_id, pending_metrics);
      pending_metrics.clear();
    }
    if (end) break;
    if (stop == StopReason::kNone && options_.cancel_requested()) {
      stop = StopReason::kDrain;
      launchers.terminate_all();
    }
    if (Clock::now() < next_heartbeat) continue;
    next_heartbeat = Clock::now() + options_.heartbeat_interval;
    if (stop == StopReason::kNone && store_.queue().heartbeat_claim(claim, options_.claimer)) {
      stop = StopReason::kOwner;
      launchers.terminate_all();
    }
  }

  if (end->outcome == LaunchEnd::Outcome::kExited && end->exit_code == 0) {
    try {
      StoreRecorder recorder(store_);
      finish_succeeded_attempt(recorder, blobs_, {claim.run_id, &step, claim.attempt, *step_run_id},
                               paths, claim.inputs);
      return;
    } catch (const std::exception& e) {
      end->outcome = LaunchEnd::Outcome::kFailed;
      end->detail = e.what();
    }
  }
  auto [status, reason] = describe_failure(*end, step);
  if (status == attempt_status::kFailed) reason = with_full_disk_note(reason, paths);
  if (stop == StopReason::kDrain && end->outcome == LaunchEnd::Outcome::kTerminated) {
    // Not the step's fault: its owner retries it, without using up a retry.
    status = attempt_status::kInterrupted;
    reason = "scheduler " + options_.claimer + ", which ran the step, is stopping";
  }
  std::optional<int> exit_code, signal;
  if (end->outcome == LaunchEnd::Outcome::kExited) exit_code = end->exit_code;
  if (end->signal) signal = end->signal;
  StoreRecorder recorder(store_);
  finish_unsuccessful_attempt(recorder, {claim.run_id, &step, claim.attempt, *step_run_id},
                              claim.interruptions, {status, exit_code, signal, reason},
                              stop == StopReason::kOwner);
}

}  // namespace twinflow
