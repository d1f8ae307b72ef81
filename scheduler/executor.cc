#include "scheduler/executor.h"

#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>

#include "scheduler/cache_key.h"
#include "scheduler/plan.h"
#include "scheduler/step_launcher.h"
#include "scheduler/step_protocol.h"
#include "util/error.h"

extern char** environ;

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

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::string format_duration(Millis d) {
  auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

// The last `max_lines` lines of a log, read from its end.
std::string log_tail(const fs::path& path, int max_lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff start = std::max<std::streamoff>(0, size - 4096);
  in.seekg(start);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && text.back() == '\n') text.pop_back();
  size_t pos = text.size();
  for (int n = 0; n < max_lines && pos != std::string::npos && pos > 0; ++n)
    pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? text : text.substr(pos + 1);
}

// Interruptions (a preempted Slurm job, a failed node) are retried without
// consuming a retry, but not forever.
constexpr int kMaxInterruptions = 5;

// Why an attempt did not succeed, in words, and the attempt status to record.
std::pair<std::string, std::string> describe_failure(const LaunchEnd& r, const Step& step) {
  using O = LaunchEnd::Outcome;
  switch (r.outcome) {
    case O::kExited:
      return {attempt_status::kFailed, "exited with code " + std::to_string(r.exit_code)};
    case O::kSignaled:
      return {attempt_status::kFailed, "killed by " + signal_name(r.signal)};
    case O::kTimedOut:
      if (!r.detail.empty()) return {attempt_status::kTimedOut, r.detail};  // e.g. Slurm's limit
      return {attempt_status::kTimedOut,
              "timed out after " + format_duration(step.timeout.value_or(Millis(0)))};
    case O::kTerminated:
      return {attempt_status::kCancelled, "cancelled"};
    case O::kStartFailed:
    case O::kFailed:
      return {attempt_status::kFailed, r.detail};
    case O::kInterrupted:
      return {attempt_status::kInterrupted, r.detail};
  }
  return {attempt_status::kFailed, "unknown outcome"};
}

std::vector<std::string> inherited_environment() {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    // A step must not inherit another step's protocol variables.
    if (strncmp(*e, "TWINFLOW_", 9) == 0 && strncmp(*e, "TWINFLOW_HOME=", 14) != 0) continue;
    env.emplace_back(*e);
  }
  return env;
}

}  // namespace

// The state of one step's current attempt.
struct StepExecution {
  std::string executor;  // "local" or "slurm"
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
  Impl(const Dag& dag, int64_t run_id, Store& store, BlobStore& blobs, ProgressSink& progress,
       ExecutorOptions options)
      : dag(dag),
        run_id(run_id),
        store(store),
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
  void submit(int step, const AttemptContext& context);
  bool adopt_slurm_job(int step);
  std::optional<std::vector<NamedVersion>> resolve_inputs(const Step& step, std::string& error);
  bool try_cache(int step);

  // Ending.
  void on_stdout_line(uint64_t tag, std::string_view line);
  void on_launch_end(const LaunchEnd& end);
  void on_attempt_succeeded(int step);
  void on_attempt_failed(int step, const std::string& status, const std::string& reason,
                         std::optional<int> exit_code, std::optional<int> signal);
  void fail_step_for_good(int step);
  void flush_metrics();

  // Time and cancellation.
  Millis time_until_next_event() const;
  void requeue_due_retries();
  void heartbeat_if_due();
  void begin_cancel(const std::string& why);

  const Dag& dag;
  int64_t run_id;
  Store& store;
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
};

Executor::Executor(const Dag& dag, int64_t run_id, Store& store, BlobStore& blobs,
                   ProgressSink& progress, ExecutorOptions options)
    : impl_(std::make_unique<Impl>(dag, run_id, store, blobs, progress, std::move(options))) {}

Executor::~Executor() = default;

std::string Executor::execute(const RunSeed& seed) {
  return impl_->execute(seed);
}

std::string Executor::Impl::execute(const RunSeed& seed) {
  auto run_start = Clock::now();
  plan = std::make_unique<Plan>(dag, seed.wanted);
  outputs_by_step = seed.reused_outputs;
  resumes_run_id = seed.resumes_run_id;
  try {
    resolve_executors();
  } catch (const Error& e) {
    store.finish_run(run_id, run_status::kFailed, e.what());
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
    requeue_due_retries();
    heartbeat_if_due();
  }
  std::string status = cancelling   ? run_status::kCancelled
                       : any_failed ? run_status::kFailed
                                    : run_status::kSucceeded;
  store.finish_run(run_id, status, cancelling ? "cancelled" : "");
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
    auto step = plan->start_next();
    if (!step) return;
    start_attempt(*step);
  }
}

std::optional<std::vector<NamedVersion>> Executor::Impl::resolve_inputs(const Step& step,
                                                                        std::string& error) {
  std::vector<NamedVersion> inputs;
  for (const auto& ref : step.inputs) {
    if (ref.is_artifact()) {
      auto version = store.resolve_artifact_input(run_id, ref.artifact, ref.artifact_version);
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
  auto hit = store.find_cache_hit(exec.cache_key);
  if (!hit) return false;
  store.record_cached_attempt(run_id, step.id, exec.attempt, exec.cache_key, hit->step_run_id,
                              exec.inputs, hit->outputs);
  outputs_by_step[step.id] = hit->outputs;
  progress.step_ended(step,
                      {exec.attempt, 0.0, attempt_status::kCached, "", false, Millis(0), "", ""});
  plan->finish(step_index, true);
  return true;
}

void Executor::Impl::start_attempt(int step_index) {
  const Step& step = dag.steps[step_index];
  auto& exec = executions[step_index];
  exec.attempt += 1;
  exec.pending_metrics.clear();
  std::string error;
  auto inputs = resolve_inputs(step, error);
  if (!inputs) {
    exec.started = Clock::now();
    exec.step_run_id = store.start_attempt(run_id, step.id, exec.attempt, options.host, 0, "", "");
    on_attempt_failed(step_index, attempt_status::kFailed, error, std::nullopt, std::nullopt);
    return;
  }
  exec.inputs = std::move(*inputs);
  exec.cache_key.clear();
  if (step.cache.enabled && options.use_cache) {
    exec.cache_key =
        compute_cache_key(step, options.build_id, exec.inputs, fs::path(dag.file).parent_path());
    if (try_cache(step_index)) return;
  }
  if (exec.executor == "slurm" && adopt_slurm_job(step_index)) return;
  exec.paths = attempt_paths(options.home, run_id, step.id, exec.attempt);
  AttemptContext context{
      run_id, dag.name, &step, exec.attempt, exec.inputs, options.database_url, options.home};
  write_context(context, exec.paths);
  submit(step_index, context);
}

void Executor::Impl::submit(int step_index, const AttemptContext& context) {
  const Step& step = dag.steps[step_index];
  auto& exec = executions[step_index];
  AttemptLaunch launch;
  ProcessSpec& spec = launch.process;
  spec.tag = static_cast<uint64_t>(step_index);
  spec.argv = step_argv(step, options.self_exe);
  spec.env = base_env;
  for (auto& var : protocol_environment(context, exec.paths)) spec.env.push_back(std::move(var));
  spec.cwd = exec.paths.dir.string();
  spec.log_path = exec.paths.log.string();
  spec.timeout = step.timeout;
  spec.kill_grace = options.kill_grace;
  launch.slurm = step.slurm;
  launch.job_name =
      "twinflow-" + std::to_string(run_id) + "-" + step.id + "-" + std::to_string(exec.attempt);
  launch.exit_file = (exec.paths.dir / "exit_status").string();
  const bool on_slurm = exec.executor == "slurm";
  exec.started = Clock::now();
  // A Slurm attempt is recorded before it is submitted, and its job id right
  // after: a scheduler that dies in between leaves a job without a record,
  // never a record of a job that was not submitted.
  if (on_slurm)
    exec.step_run_id = store.start_attempt(run_id, step.id, exec.attempt, options.host, 0,
                                           spec.log_path, exec.cache_key);
  LaunchedAttempt launched;
  try {
    launched = launchers.start(exec.executor, launch);
  } catch (const Error& e) {
    if (!on_slurm)
      exec.step_run_id = store.start_attempt(run_id, step.id, exec.attempt, options.host, 0,
                                             spec.log_path, exec.cache_key);
    on_attempt_failed(step_index, attempt_status::kFailed, e.what(), std::nullopt, std::nullopt);
    return;
  }
  if (on_slurm) {
    store.set_slurm_job_id(exec.step_run_id, launched.slurm_job_id);
  } else {
    exec.step_run_id = store.start_attempt(run_id, step.id, exec.attempt, options.host,
                                           launched.pid, spec.log_path, exec.cache_key);
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
  auto interrupted = store.adoptable_slurm_attempt(*resumes_run_id, step.id);
  if (!interrupted) return false;
  AttemptPaths paths =
      attempt_paths(options.home, interrupted->run_id, step.id, interrupted->attempt);
  exec.started = Clock::now();
  exec.step_run_id = store.start_attempt(run_id, step.id, exec.attempt, options.host, 0,
                                         paths.log.string(), exec.cache_key);
  exec.paths = paths;
  if (!store.adopt_slurm_attempt(interrupted->step_run_id, exec.step_run_id)) {
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
      store.record_metrics(exec.step_run_id, exec.pending_metrics);
      exec.pending_metrics.clear();
    }
}

void Executor::Impl::on_launch_end(const LaunchEnd& result) {
  int step_index = static_cast<int>(result.tag);
  const Step& step = dag.steps[step_index];
  flush_metrics();
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
    store.close_slurm_attempt(executions[step_index].step_run_id);
  auto [status, reason] = describe_failure(result, step);
  std::optional<int> exit_code, sig;
  if (result.outcome == LaunchEnd::Outcome::kExited) exit_code = result.exit_code;
  if (result.signal) sig = result.signal;
  on_attempt_failed(step_index, status, reason, exit_code, sig);
}

void Executor::Impl::on_attempt_succeeded(int step_index) {
  const Step& step = dag.steps[step_index];
  auto& exec = executions[step_index];
  AttemptResult result = collect_result(step, exec.paths);
  std::vector<OutputToRecord> outputs;
  for (const auto& produced : result.outputs) {
    fs::path source = produced.path;
    // Outputs outside the attempt's own directory are copied, never moved:
    // they may be the user's files.
    auto rel = fs::relative(source, exec.paths.output_dir);
    if (rel.empty() || rel.native().starts_with("..")) {
      fs::path copy = exec.paths.dir / (".import." + produced.decl->name);
      fs::copy(source, copy, fs::copy_options::recursive);
      source = copy;
    }
    BlobRef blob = blobs.put(source);
    outputs.push_back({produced.decl->name, produced.decl->artifact, produced.decl->type,
                       blob.content_hash, blob.path.string(), blob.size_bytes, produced.metadata});
  }
  store.record_metrics(exec.step_run_id, result.metrics);
  outputs_by_step[step.id] =
      store.end_attempt_succeeded(run_id, step.id, exec.step_run_id, exec.inputs, outputs);
  progress.step_ended(step, {exec.attempt, seconds_since(exec.started), attempt_status::kSucceeded,
                             "", false, Millis(0), exec.paths.log.string(), ""});
  plan->finish(step_index, true);
}

void Executor::Impl::on_attempt_failed(int step_index, const std::string& status,
                                       const std::string& reason, std::optional<int> exit_code,
                                       std::optional<int> signal) {
  const Step& step = dag.steps[step_index];
  auto& exec = executions[step_index];
  bool cancelled = status == attempt_status::kCancelled || cancelling;
  bool interrupted =
      status == attempt_status::kInterrupted && exec.interruptions < kMaxInterruptions;
  if (interrupted) ++exec.interruptions;
  int retry_number = exec.attempt - exec.interruptions;  // retries consumed, counting this one
  bool will_retry = !cancelled && (interrupted || retry_number <= step.retries.count);
  Millis delay = !will_retry || interrupted ? Millis(0) : step.retries.delay_before(retry_number);
  std::string step_state = will_retry  ? step_status::kRetrying
                           : cancelled ? step_status::kCancelled
                                       : step_status::kFailed;
  store.end_attempt_unsuccessfully(run_id, step.id, exec.step_run_id,
                                   {status, exit_code, signal, reason}, step_state);
  progress.step_ended(step, {exec.attempt, seconds_since(exec.started), status, reason, will_retry,
                             delay, exec.paths.log.string(), log_tail(exec.paths.log, 5)});
  if (will_retry) {
    plan->release_for_retry(step_index);
    retries_due.emplace(Clock::now() + delay, step_index);
    return;
  }
  if (!cancelled) any_failed = true;
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
  store.set_steps_status(run_id, ids, status);
  if (!skipped.empty()) progress.steps_skipped(skipped, status);
}

Millis Executor::Impl::time_until_next_event() const {
  auto now = Clock::now();
  auto next = next_heartbeat;
  if (!retries_due.empty()) next = std::min(next, retries_due.begin()->first);
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
  bool cancel = store.heartbeat(run_id);
  if (cancel && !cancelling) begin_cancel("cancelled with `twinflow cancel`");
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
  std::vector<const Step*> skipped;
  std::vector<std::string> ids;
  for (int s : plan->skip_unfinished()) {
    skipped.push_back(&dag.steps[s]);
    ids.push_back(dag.steps[s].id);
  }
  store.set_steps_status(run_id, ids, step_status::kCancelled);
  if (!skipped.empty()) progress.steps_skipped(skipped, step_status::kCancelled);
  launchers.terminate_all();
}

}  // namespace twinflow
