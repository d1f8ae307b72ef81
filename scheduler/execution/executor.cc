#include "scheduler/execution/executor.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "process/process_tree.h"
#include "scheduler/execution/attempt.h"
#include "scheduler/execution/recovery.h"
#include "scheduler/execution/run_recorder.h"
#include "scheduler/execution/step_protocol.h"
#include "scheduler/launchers/step_launcher.h"
#include "scheduler/planning/cache_key.h"
#include "scheduler/planning/plan.h"
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

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

// The state of one step's current attempt.
struct StepExecution {
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

struct Executor::Impl {
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

  std::string execute(const RunSeed& seed);

  // Starting.
  void start_ready_steps();
  void resolve_executors();
  void start_attempt(int step);
  bool prepare_attempt(int step);
  void launch_attempt(int step);
  void submit(int step, const AttemptContext& context);
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

  // Sharing steps with other schedulers (ExecutorOptions::share_steps).
  bool claim_own_offer();
  bool another_scheduler_may_help();
  void offer_ready_steps();
  bool has_shared_steps() const;
  bool any_step_at(std::initializer_list<StepExecution::Place> places) const;
  void watch_offers_if_due();
  void on_claimed_offer(int step, const ClaimedOffer& offer);
  void on_remote_end(int step, const ClaimedOffer& offer);
  void revoke_stale_claim(int step, const ClaimedOffer& offer);
  void withdraw_offers();
  int step_index(const std::string& step_id) const;

  // Time and cancellation.
  Millis time_until_next_event() const;
  void requeue_due_retries();
  void heartbeat_if_due();
  void begin_cancel(const std::string& why);

  const Dag& dag;
  int64_t run_id;
  RunRecorder& recorder;
  OfferBoard* board;  // step sharing only
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
  Clock::time_point next_offer_watch;
  Clock::time_point next_helper_check;  // another_scheduler_may_help's answer holds until then
  bool helper_alive = false;
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
    watch_offers_if_due();
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
    if (claim_own_offer()) continue;
    auto step = plan->start_next();
    if (!step) break;
    start_attempt(*step);
  }
  if (options.share_steps) offer_ready_steps();
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
    exec.started = Clock::now();
    exec.step_run_id =
        recorder.start_attempt(run_id, step.id, exec.attempt, options.host, 0, "", "");
    on_attempt_failed(step_index, attempt_status::kFailed, error, std::nullopt, std::nullopt);
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

void Executor::Impl::launch_attempt(int step_index) {
  const Step& step = dag.steps[step_index];
  auto& exec = executions[step_index];
  if (exec.executor == "slurm" && adopt_slurm_job(step_index)) return;
  AttemptContext context{
      run_id, dag.name, &step, exec.attempt, exec.inputs, options.database_url, options.home};
  write_context(context, exec.paths);
  submit(step_index, context);
}

void Executor::Impl::submit(int step_index, const AttemptContext& context) {
  const Step& step = dag.steps[step_index];
  auto& exec = executions[step_index];
  AttemptLaunch launch = make_attempt_launch(step, context, exec.paths, options, base_env,
                                             static_cast<uint64_t>(step_index));
  const ProcessSpec& spec = launch.process;
  const bool on_slurm = exec.executor == "slurm";
  exec.started = Clock::now();
  // A Slurm attempt is recorded before it is submitted, and its job id right
  // after: a scheduler that dies in between leaves a job without a record,
  // never a record of a job that was not submitted.
  if (on_slurm)
    exec.step_run_id = recorder.start_attempt(run_id, step.id, exec.attempt, options.host, 0,
                                              spec.log_path, exec.cache_key);
  LaunchedAttempt launched;
  try {
    launched = launchers.start(exec.executor, launch);
  } catch (const Error& e) {
    if (!on_slurm)
      exec.step_run_id = recorder.start_attempt(run_id, step.id, exec.attempt, options.host, 0,
                                                spec.log_path, exec.cache_key);
    on_attempt_failed(step_index, attempt_status::kFailed, e.what(), std::nullopt, std::nullopt);
    return;
  }
  if (on_slurm) {
    recorder.set_slurm_job_id(exec.step_run_id, launched.slurm_job_id);
  } else {
    exec.step_run_id =
        recorder.start_attempt(run_id, step.id, exec.attempt, options.host, launched.pid,
                               spec.log_path, exec.cache_key, launched.pid_start);
  }
  progress.step_started(step, exec.attempt, spec.log_path);
}

// In a run that resumes an interrupted one: takes over the Slurm job that the
// interrupted attempt of this step left, if any. Its files stay where that
// attempt made them; its result is recorded on this run's attempt only.
bool Executor::Impl::adopt_slurm_job(int step_index) {
  if (!resumes_run_id) return false;
  const Step& step = dag.steps[step_index];
  auto& exec = executions[step_index];
  auto interrupted = recorder.adoptable_slurm_attempt(*resumes_run_id, step.id);
  if (!interrupted) return false;
  AttemptPaths paths =
      attempt_paths(options.home, interrupted->run_id, step.id, interrupted->attempt);
  exec.started = Clock::now();
  exec.step_run_id = recorder.start_attempt(run_id, step.id, exec.attempt, options.host, 0,
                                            paths.log.string(), exec.cache_key);
  exec.paths = paths;
  if (!recorder.adopt_slurm_attempt(interrupted->step_run_id, exec.step_run_id)) {
    on_attempt_failed(
        step_index, attempt_status::kFailed,
        "Slurm job " + interrupted->slurm_job_id + " was re-attached by another run first",
        std::nullopt, std::nullopt);
    return true;
  }
  launchers.adopt({static_cast<uint64_t>(step_index), interrupted->slurm_job_id, paths.log.string(),
                   (paths.dir / "exit_status").string(), step.timeout});
  progress.step_started(step, exec.attempt, paths.log.string());
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
  if (exec.claimed_offer) {
    exec.claimed_offer = false;
    board->settle_offer(run_id, step.id, exec.attempt);
  }
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
  if (has_shared_steps()) next = std::min(next, next_offer_watch);
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
  if (options.share_steps) withdraw_offers();
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

// --- Sharing steps with other schedulers (ExecutorOptions::share_steps) ------

int Executor::Impl::step_index(const std::string& step_id) const {
  for (size_t i = 0; i < dag.steps.size(); ++i)
    if (dag.steps[i].id == step_id) return static_cast<int>(i);
  return -1;
}

bool Executor::Impl::any_step_at(std::initializer_list<StepExecution::Place> places) const {
  return std::any_of(executions.begin(), executions.end(), [&](const StepExecution& e) {
    return std::find(places.begin(), places.end(), e.place) != places.end();
  });
}

// Offered or claimed elsewhere: followed through the database.
bool Executor::Impl::has_shared_steps() const {
  return any_step_at({StepExecution::Place::kOffered, StepExecution::Place::kRemote});
}

// Takes back one of this run's offers nobody claimed yet, and runs it here.
bool Executor::Impl::claim_own_offer() {
  if (!options.share_steps || !any_step_at({StepExecution::Place::kOffered})) return false;
  std::optional<StepOffer> claim = board->claim_step_offer(options.claimer, run_id);
  if (!claim) return false;
  const int index = step_index(claim->step_id);
  if (index < 0 || executions[index].place != StepExecution::Place::kOffered ||
      executions[index].attempt != claim->attempt) {
    board->settle_offer(run_id, claim->step_id, claim->attempt);  // not waited for any more
    return true;
  }
  auto& exec = executions[index];
  exec.place = StepExecution::Place::kHere;
  exec.claimed_offer = true;
  launch_attempt(index);
  return true;
}

// Asked at most once a second: a scheduler alone keeps its ready steps in
// its plan rather than pay for offers that only it would claim back.
bool Executor::Impl::another_scheduler_may_help() {
  if (Clock::now() < next_helper_check) return helper_alive;
  next_helper_check = Clock::now() + std::chrono::seconds(1);
  helper_alive = board->other_schedulers_alive(options.claimer, options.claim_stale_after_seconds);
  return helper_alive;
}

// Every ready step this executor has no slot for is offered to all
// schedulers. Steps on a cluster are not: Slurm spreads them already.
void Executor::Impl::offer_ready_steps() {
  if (!plan->has_ready() || !another_scheduler_may_help()) return;
  std::vector<StepOffer> offers;
  std::vector<int> not_shared;
  while (auto step = plan->start_next()) {
    if (executions[*step].executor != "local") {
      not_shared.push_back(*step);
      continue;
    }
    if (!prepare_attempt(*step)) continue;  // a cache hit, or a missing input
    auto& exec = executions[*step];
    exec.place = StepExecution::Place::kOffered;
    offers.push_back({run_id, dag.steps[*step].id, exec.attempt, exec.interruptions, exec.executor,
                      exec.cache_key, exec.inputs});
  }
  for (int step : not_shared) {
    plan->release_for_retry(step);  // back to ready, for a slot here
    plan->requeue(step);
  }
  if (offers.empty()) return;
  board->offer_steps(offers);
  next_offer_watch = std::min(next_offer_watch, Clock::now() + options.offer_poll_interval);
}

void Executor::Impl::watch_offers_if_due() {
  if (!has_shared_steps() || Clock::now() < next_offer_watch) return;
  next_offer_watch = Clock::now() + options.offer_poll_interval;
  for (const ClaimedOffer& offer :
       board->claimed_offers(run_id, options.claim_stale_after_seconds)) {
    const int index = step_index(offer.step_id);
    if (index >= 0) on_claimed_offer(index, offer);
  }
}

void Executor::Impl::on_claimed_offer(int step_index, const ClaimedOffer& offer) {
  using Place = StepExecution::Place;
  auto& exec = executions[step_index];
  if (exec.attempt != offer.attempt ||
      (exec.place != Place::kOffered && exec.place != Place::kRemote)) {
    // This executor's own claim (settled when it ends), or a row of an
    // attempt already dealt with.
    if (!(exec.place == Place::kHere && exec.attempt == offer.attempt))
      board->settle_offer(run_id, offer.step_id, offer.attempt);
    return;
  }
  exec.place = Place::kRemote;
  if (offer.step_run_id && !exec.announced) {
    exec.announced = true;
    exec.step_run_id = *offer.step_run_id;
    exec.started = Clock::now();
    progress.step_started(dag.steps[step_index], exec.attempt, offer.log_path);
  }
  if (!offer.attempt_status.empty() && offer.attempt_status != attempt_status::kRunning) {
    on_remote_end(step_index, offer);
    return;
  }
  // A claim that never started, in a run being cancelled, will not start.
  const bool unstarted_in_cancel = cancelling && !offer.step_run_id;
  if (offer.stale || unstarted_in_cancel) revoke_stale_claim(step_index, offer);
}

// Another scheduler recorded the attempt's end; the retry is decided here.
void Executor::Impl::on_remote_end(int step_index, const ClaimedOffer& offer) {
  const Step& step = dag.steps[step_index];
  auto& exec = executions[step_index];
  exec.step_run_id = *offer.step_run_id;
  board->settle_offer(run_id, step.id, offer.attempt);
  if (offer.attempt_status != attempt_status::kSucceeded) {
    on_attempt_failed(step_index, offer.attempt_status, offer.error, offer.exit_code, offer.signal,
                      /*record=*/false);
    return;
  }
  exec.place = StepExecution::Place::kNone;
  outputs_by_step[step.id] = recorder.outputs_of_step_run(exec.step_run_id);
  progress.step_ended(step, {exec.attempt, seconds_since(exec.started), attempt_status::kSucceeded,
                             "", false, Millis(0), offer.log_path, ""});
  plan->finish(step_index, true);
}

// The claimer stopped heartbeating (it died, or froze): its attempt is
// recorded interrupted and the step retried, here or by another scheduler.
// Revoking first makes sure the claimer can record nothing from now on.
void Executor::Impl::revoke_stale_claim(int step_index, const ClaimedOffer& offer) {
  const Step& step = dag.steps[step_index];
  auto& exec = executions[step_index];
  RunQueue::RevokedClaim revoked =
      board->revoke_stale_claim(run_id, step.id, offer.attempt, options.claim_stale_after_seconds,
                                /*even_if_fresh=*/cancelling);
  if (!revoked.revoked) return;  // it ended meanwhile: the next look sees how
  // Fencing: the retry starts only once the claimer's processes are dead
  // (here: checked and killed; elsewhere: its supervisor died with it).
  if (revoked.step_run_id)
    if (auto process = recorder.attempt_process(*revoked.step_run_id))
      fence_attempt(*process, options.host);
  exec.step_run_id = revoked.step_run_id
                         ? *revoked.step_run_id
                         : recorder.start_attempt(run_id, step.id, exec.attempt, options.host, 0,
                                                  exec.paths.log.string(), exec.cache_key);
  board->settle_offer(run_id, step.id, offer.attempt);
  const std::string why = cancelling ? "cancelled before it started"
                                     : "scheduler " + offer.claimed_by +
                                           ", which claimed the step, stopped heartbeating";
  on_attempt_failed(step_index,
                    cancelling ? attempt_status::kCancelled : attempt_status::kInterrupted, why,
                    std::nullopt, std::nullopt);
}

// Cancelling: offers nobody claimed go back to waiting (to be skipped as
// cancelled); claimers of the others are asked to stop.
void Executor::Impl::withdraw_offers() {
  for (const auto& [step_id, attempt] : board->withdraw_offers(run_id)) {
    const int index = step_index(step_id);
    if (index < 0) continue;
    auto& exec = executions[index];
    if (exec.place != StepExecution::Place::kOffered || exec.attempt != attempt) continue;
    exec.place = StepExecution::Place::kNone;
    plan->release_for_retry(index);
  }
}

}  // namespace twinflow
