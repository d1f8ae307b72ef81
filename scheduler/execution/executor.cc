#include "scheduler/execution/executor.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "process/process_tree.h"
#include "scheduler/execution/attempt.h"
#include "scheduler/execution/attempt_start.h"
#include "scheduler/execution/recovery.h"
#include "scheduler/execution/run_recorder.h"
#include "scheduler/execution/step_execution.h"
#include "scheduler/execution/step_protocol.h"
#include "scheduler/execution/step_sharing.h"
#include "scheduler/launchers/step_launcher.h"
#include "scheduler/planning/cache_key.h"
#include "scheduler/planning/plan.h"
#include "util/duration.h"
#include "util/error.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace twinflow {

std::string self_executable() {
  std::error_code ec;
  auto path = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("twinflow") : path.string();
}

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

struct Executor::Impl final : SharingHost {
  Impl(const Dag& dag, int64_t run_id, RunRecorder& recorder, OfferBoard* offers, BlobStore& blobs,
       ProgressSink& progress, ExecutorOptions options)
      : dag(dag),
        run_id(run_id),
        recorder(recorder),
        board(offers),
        blobs(blobs),
        progress(progress),
        options(std::move(options)),
        executions(dag.steps.size()),
        launchers([this](uint64_t tag, std::string_view line) { on_stdout_line(tag, line); },
                  this->options.wake_fd, this->options.slurm_poll_interval,
                  (this->options.home / "logs" / "slurm.log").string()),
        base_env(inherited_environment()) {}

  // SharingHost.
  bool prepare_attempt(int step) override;
  // Records the attempt started and failed for `why` before any process ran.
  void fail_unlaunched(int step, const std::string& why);
  void launch_attempt(int step) override;
  void remote_attempt_succeeded(int step, const std::string& log_path) override;
  void attempt_failed(int step, const std::string& status, const std::string& reason,
                      std::optional<int> exit_code, std::optional<int> signal,
                      bool record) override {
    on_attempt_failed(step, status, reason, exit_code, signal, record);
  }

  std::string execute(const RunSeed& seed);

  // Starting.
  void start_ready_steps();
  void resolve_executors();
  void start_attempt(int step);
  bool adopt_slurm_job(int step);
  std::optional<std::vector<NamedVersion>> resolve_inputs(const Step& step, std::string& error);
  bool try_cache(int step);

  // Ending.
  void on_stdout_line(uint64_t tag, std::string_view line);
  void on_launch_end(const LaunchEnd& end);
  void on_attempt_succeeded(int step);
  // `record` false: the scheduler that ran the attempt recorded its end.
  void on_attempt_failed(int step, const std::string& status, const std::string& reason,
                         std::optional<int> exit_code, std::optional<int> signal,
                         bool record = true);
  void fail_step_for_good(int step);
  void flush_metrics();

  // Time and cancellation.
  Millis time_until_next_event() const;
  void requeue_due_retries();
  void heartbeat_if_due();
  void begin_cancel(const std::string& why);

  const Dag& dag;
  int64_t run_id;
  RunRecorder& recorder;
  OfferBoard* board;                     // step sharing only
  std::unique_ptr<StepSharing> sharing;  // with options.share_steps
  BlobStore& blobs;
  ProgressSink& progress;
  ExecutorOptions options;
  std::unique_ptr<Plan> plan;
  std::vector<StepExecution> executions;  // by step index
  std::map<std::string, std::vector<NamedVersion>> outputs_by_step;
  std::multimap<Clock::time_point, int> retries_due;
  LauncherSet launchers;
  std::optional<int64_t> resumes_run_id;
  std::vector<std::string> base_env;
  Clock::time_point next_heartbeat;
  bool cancelling = false;
  bool any_failed = false;
  bool taken_over = false;  // another process recorded the run ended (interrupted)
};

Executor::Executor(const Dag& dag, int64_t run_id, RunRecorder& recorder, OfferBoard* offers,
                   BlobStore& blobs, ProgressSink& progress, ExecutorOptions options) {
  if (options.share_steps && !offers)
    throw Error("the executor of run " + std::to_string(run_id) + " shares steps without offers");
  impl_ =
      std::make_unique<Impl>(dag, run_id, recorder, offers, blobs, progress, std::move(options));
}

Executor::Executor(const Dag& dag, int64_t run_id, Store& store, BlobStore& blobs,
                   ProgressSink& progress, ExecutorOptions options)
    : owned_recorder_(std::make_unique<StoreRecorder>(store)),
      impl_(std::make_unique<Impl>(dag, run_id, *owned_recorder_, owned_recorder_.get(), blobs,
                                   progress, std::move(options))) {}

Executor::~Executor() = default;

std::string Executor::execute(const RunSeed& seed) {
  return impl_->execute(seed);
}

std::string Executor::Impl::execute(const RunSeed& seed) {
  auto run_start = Clock::now();
  // Who executes the run, precisely enough for a reaper to tell it dead.
  recorder.record_run_owner(run_id, options.host, ::getpid(), process_start_time(::getpid()));
  // Fencing: no step starts while a process of the run this one resumes
  // still runs here (recovery.h).
  if (seed.resumes_run_id)
    for (const auto& attempt : recorder.attempt_processes_of_run(*seed.resumes_run_id))
      fence_attempt(attempt, options.host);
  plan = std::make_unique<Plan>(dag, seed.wanted);
  if (options.share_steps)
    sharing = std::make_unique<StepSharing>(
        dag, run_id, *plan, executions, *board, recorder, progress, *this,
        StepSharing::Settings{options.claimer, options.host, options.offer_poll_interval,
                              options.claim_stale_after_seconds});
  outputs_by_step = seed.reused_outputs;
  resumes_run_id = seed.resumes_run_id;
  try {
    resolve_executors();
  } catch (const Error& e) {
    recorder.finish_run(run_id, run_status::kFailed, e.what());
    throw;
  }
  size_t to_run = 0;
  for (size_t i = 0; i < dag.steps.size(); ++i) to_run += seed.wanted.empty() || seed.wanted[i];
  progress.run_started(run_id, dag, to_run);
  next_heartbeat = Clock::now() + options.heartbeat_interval;

  while (!plan->finished()) {
    if (!cancelling && options.cancel_requested()) begin_cancel("cancelled by a signal");
    if (!cancelling) start_ready_steps();
    if (plan->finished()) break;
    for (const auto& end : launchers.wait(time_until_next_event())) on_launch_end(end);
    flush_metrics();
    if (sharing) sharing->watch_if_due();
    requeue_due_retries();
    heartbeat_if_due();
  }
  std::string status = taken_over   ? run_status::kInterrupted
                       : cancelling ? run_status::kCancelled
                       : any_failed ? run_status::kFailed
                                    : run_status::kSucceeded;
  recorder.finish_run(run_id, status, cancelling ? "cancelled" : "");
  progress.run_finished(run_id, status, seconds_since(run_start));
  return status;
}

// Each step's executor: its own, else its DAG's, else the options' default.
void Executor::Impl::resolve_executors() {
  for (size_t i = 0; i < dag.steps.size(); ++i) {
    const Step& step = dag.steps[i];
    std::string& executor = executions[i].executor;
    executor = !step.executor.empty()  ? step.executor
               : !dag.executor.empty() ? dag.executor
                                       : options.default_executor;
    check_executor_name(executor, step.executor.empty() && dag.executor.empty()
                                      ? "TWINFLOW_EXECUTOR"
                                      : "the executor of step '" + step.id + "'");
  }
}

void Executor::Impl::start_ready_steps() {
  while (launchers.running() < static_cast<size_t>(std::max(1, options.jobs))) {
    // Offers made earlier come first: they have waited longest.
    if (sharing && sharing->claim_own_offer()) continue;
    auto step = plan->start_next();
    if (!step) break;
    start_attempt(*step);
  }
  if (sharing) sharing->offer_ready_steps();
}

std::optional<std::vector<NamedVersion>> Executor::Impl::resolve_inputs(const Step& step,
                                                                        std::string& error) {
  std::vector<NamedVersion> inputs;
  for (const auto& ref : step.inputs) {
    if (ref.is_artifact()) {
      auto version = recorder.resolve_artifact_input(run_id, ref.artifact, ref.artifact_version);
      if (!version) {
        error = "input '" + ref.name + "': artifact '" + ref.artifact + "' has no version" +
                (ref.artifact_version ? " " + std::to_string(*ref.artifact_version) : "") + " yet";
        return std::nullopt;
      }
      inputs.push_back({ref.name, std::move(*version)});
      continue;
    }
    const auto& produced = outputs_by_step[ref.step];
    auto it = std::find_if(produced.begin(), produced.end(),
                           [&](const NamedVersion& v) { return v.name == ref.output; });
    if (it == produced.end()) {
      error = "input '" + ref.name + "': step '" + ref.step + "' recorded no output '" +
              ref.output + "'";
      return std::nullopt;
    }
    inputs.push_back({ref.name, it->version});
  }
  return inputs;
}

bool Executor::Impl::try_cache(int step_index) {
  const Step& step = dag.steps[step_index];
  auto& exec = executions[step_index];
  auto hit = recorder.find_cache_hit(exec.cache_key);
  if (!hit) return false;
  recorder.record_cached_attempt(run_id, step.id, exec.attempt, exec.cache_key, hit->step_run_id,
                                 exec.inputs, hit->outputs);
  outputs_by_step[step.id] = hit->outputs;
  progress.step_ended(step,
                      {exec.attempt, 0.0, attempt_status::kCached, "", false, Millis(0), "", ""});
  plan->finish(step_index, true);
  return true;
}

void Executor::Impl::start_attempt(int step_index) {
  if (!prepare_attempt(step_index)) return;
  executions[step_index].place = StepExecution::Place::kHere;
  launch_attempt(step_index);
}

// The part of starting an attempt that needs no process: inputs and the
// cache. False when the attempt already ended (a cache hit, a missing input).
bool Executor::Impl::prepare_attempt(int step_index) {
  const Step& step = dag.steps[step_index];
  auto& exec = executions[step_index];
  exec.attempt += 1;
  exec.pending_metrics.clear();
  exec.claimed_offer = false;
  exec.announced = false;
  exec.place = StepExecution::Place::kNone;
  exec.paths = attempt_paths(options.home, run_id, step.id, exec.attempt);
  std::string error;
  auto inputs = resolve_inputs(step, error);
  if (!inputs) {
    fail_unlaunched(step_index, error);
    return false;
  }
  exec.inputs = std::move(*inputs);
  exec.cache_key.clear();
  if (step.cache.enabled && options.use_cache) {
    exec.cache_key =
        compute_cache_key(step, options.build_id, exec.inputs, fs::path(dag.file).parent_path());
    if (try_cache(step_index)) return false;
  }
  return true;
}

void Executor::Impl::fail_unlaunched(int step_index, const std::string& why) {
  auto& exec = executions[step_index];
  exec.started = Clock::now();
  exec.step_run_id = recorder.start_attempt(run_id, dag.steps[step_index].id, exec.attempt,
                                            options.host, 0, "", "");
  on_attempt_failed(step_index, attempt_status::kFailed, why, std::nullopt, std::nullopt);
}

void Executor::Impl::launch_attempt(int step_index) {
  const Step& step = dag.steps[step_index];
  auto& exec = executions[step_index];
  if (exec.executor == "slurm" && adopt_slurm_job(step_index)) return;
  AttemptContext context{
      run_id, dag.name, &step, exec.attempt, exec.inputs, options.database_url, options.home};
  try {
    write_context(context, exec.paths);
  } catch (const std::exception& e) {
    // A full disk, say: this attempt fails (and may be retried), not the run.
    fail_unlaunched(step_index, with_full_disk_note(e.what(), exec.paths));
    return;
  }
  AttemptLaunch launch = make_attempt_launch(step, context, exec.paths, options, base_env,
                                             static_cast<uint64_t>(step_index));
  exec.started = Clock::now();
  StartedAttempt started =
      start_and_record(launchers, recorder, exec.executor, launch,
                       {run_id, &step, exec.attempt, options.host, exec.cache_key});
  exec.step_run_id = started.step_run_id;
  if (!started.error.empty()) {
    on_attempt_failed(step_index, attempt_status::kFailed, started.error, std::nullopt,
                      std::nullopt);
    return;
  }
  progress.step_started(step, exec.attempt, launch.process.log_path);
}

bool Executor::Impl::adopt_slurm_job(int step_index) {
  if (!resumes_run_id) return false;
  const Step& step = dag.steps[step_index];
  auto& exec = executions[step_index];
  exec.started = Clock::now();
  auto job = adopt_interrupted_job(launchers, recorder, *resumes_run_id,
                                   {run_id, &step, exec.attempt, options.host, exec.cache_key},
                                   options.home, static_cast<uint64_t>(step_index));
  if (!job) return false;
  exec.step_run_id = job->step_run_id;
  exec.paths = job->paths;
  if (!job->error.empty())
    on_attempt_failed(step_index, attempt_status::kFailed, job->error, std::nullopt, std::nullopt);
  else
    progress.step_started(step, exec.attempt, exec.paths.log.string());
  return true;
}

void Executor::Impl::on_stdout_line(uint64_t tag, std::string_view line) {
  if (auto points = parse_metric_line(line)) {
    auto& pending = executions[tag].pending_metrics;
    pending.insert(pending.end(), points->begin(), points->end());
  }
}

void Executor::Impl::flush_metrics() {
  for (auto& exec : executions)
    if (!exec.pending_metrics.empty() && exec.step_run_id) {
      recorder.record_metrics(exec.step_run_id, exec.pending_metrics);
      exec.pending_metrics.clear();
    }
}

void Executor::Impl::on_launch_end(const LaunchEnd& result) {
  int step_index = static_cast<int>(result.tag);
  const Step& step = dag.steps[step_index];
  flush_metrics();
  auto& exec = executions[step_index];
  exec.place = StepExecution::Place::kNone;
  if (sharing) sharing->settle_if_claimed(step_index);
  if (result.outcome == LaunchEnd::Outcome::kExited && result.exit_code == 0) {
    try {
      on_attempt_succeeded(step_index);
    } catch (const std::exception& e) {
      on_attempt_failed(step_index, attempt_status::kFailed, e.what(), 0, std::nullopt);
    }
    return;
  }
  // A job that ended interrupted (preempted) under our eyes needs no adopter.
  if (result.outcome == LaunchEnd::Outcome::kInterrupted)
    recorder.close_slurm_attempt(executions[step_index].step_run_id);
  auto [status, reason] = describe_failure(result, step);
  if (status == attempt_status::kFailed) reason = with_full_disk_note(reason, exec.paths);
  std::optional<int> exit_code, sig;
  if (result.outcome == LaunchEnd::Outcome::kExited) exit_code = result.exit_code;
  if (result.signal) sig = result.signal;
  on_attempt_failed(step_index, status, reason, exit_code, sig);
}

void Executor::Impl::on_attempt_succeeded(int step_index) {
  const Step& step = dag.steps[step_index];
  auto& exec = executions[step_index];
  outputs_by_step[step.id] = finish_succeeded_attempt(
      recorder, blobs, {run_id, &step, exec.attempt, exec.step_run_id}, exec.paths, exec.inputs);
  progress.step_ended(step, {exec.attempt, seconds_since(exec.started), attempt_status::kSucceeded,
                             "", false, Millis(0), exec.paths.log.string(), ""});
  plan->finish(step_index, true);
}

void Executor::Impl::on_attempt_failed(int step_index, const std::string& status,
                                       const std::string& reason, std::optional<int> exit_code,
                                       std::optional<int> signal, bool record) {
  const Step& step = dag.steps[step_index];
  auto& exec = executions[step_index];
  exec.place = StepExecution::Place::kNone;
  RetryDecision next = finish_unsuccessful_attempt(
      recorder, {run_id, &step, exec.attempt, exec.step_run_id}, exec.interruptions,
      {status, exit_code, signal, reason}, cancelling, record);
  if (next.counts_as_interruption) ++exec.interruptions;
  progress.step_ended(
      step, {exec.attempt, seconds_since(exec.started), status, reason, next.will_retry, next.delay,
             exec.paths.log.string(), log_tail(exec.paths.log, 5)});
  if (next.will_retry) {
    plan->release_for_retry(step_index);
    retries_due.emplace(Clock::now() + next.delay, step_index);
    return;
  }
  if (next.step_state != step_status::kCancelled) any_failed = true;
  fail_step_for_good(step_index);
}

void Executor::Impl::fail_step_for_good(int step_index) {
  std::vector<const Step*> skipped;
  std::vector<std::string> ids;
  for (int d : plan->finish(step_index, false)) {
    skipped.push_back(&dag.steps[d]);
    ids.push_back(dag.steps[d].id);
  }
  const char* status = cancelling ? step_status::kCancelled : step_status::kUpstreamFailed;
  recorder.set_steps_status(run_id, ids, status);
  if (!skipped.empty()) progress.steps_skipped(skipped, status);
}

Millis Executor::Impl::time_until_next_event() const {
  auto now = Clock::now();
  auto next = next_heartbeat;
  if (!retries_due.empty()) next = std::min(next, retries_due.begin()->first);
  if (auto watch = sharing ? sharing->next_watch() : std::nullopt) next = std::min(next, *watch);
  auto wait = std::chrono::duration_cast<Millis>(next - now);
  return std::clamp(wait, Millis(0), options.heartbeat_interval);
}

void Executor::Impl::requeue_due_retries() {
  auto now = Clock::now();
  while (!retries_due.empty() && retries_due.begin()->first <= now) {
    plan->requeue(retries_due.begin()->second);
    retries_due.erase(retries_due.begin());
  }
}

void Executor::Impl::heartbeat_if_due() {
  if (Clock::now() < next_heartbeat) return;
  next_heartbeat = Clock::now() + options.heartbeat_interval;
  bool cancel = recorder.heartbeat(run_id);
  if (!cancel || cancelling) return;
  // Cancelled, or no longer running: another process recorded it
  // interrupted (this one looked dead to it); nothing it does counts now.
  auto record = recorder.find_run(run_id);
  taken_over = record && record->status != run_status::kRunning;
  begin_cancel(taken_over ? "recorded " + record->status + " by another twinflow process"
                          : "cancelled with `twinflow cancel`");
}

void Executor::Impl::begin_cancel(const std::string& why) {
  cancelling = true;
  (void)why;
  // Steps waiting out a retry backoff hold no process: they end here.
  for (auto& [due, step_index] : retries_due) {
    (void)due;
    plan->requeue(step_index);
  }
  retries_due.clear();
  if (sharing) sharing->begin_cancel();
  std::vector<const Step*> skipped;
  std::vector<std::string> ids;
  for (int s : plan->skip_unfinished()) {
    skipped.push_back(&dag.steps[s]);
    ids.push_back(dag.steps[s].id);
  }
  recorder.set_steps_status(run_id, ids, step_status::kCancelled);
  if (!skipped.empty()) progress.steps_skipped(skipped, step_status::kCancelled);
  launchers.terminate_all();
}

void Executor::Impl::remote_attempt_succeeded(int step_index, const std::string& log_path) {
  const Step& step = dag.steps[step_index];
  auto& exec = executions[step_index];
  outputs_by_step[step.id] = recorder.outputs_of_step_run(exec.step_run_id);
  progress.step_ended(step, {exec.attempt, seconds_since(exec.started), attempt_status::kSucceeded,
                             "", false, Millis(0), log_path, ""});
  plan->finish(step_index, true);
}

}  // namespace twinflow
