#include "scheduler/launchers/slurm_launcher.h"

#include <unistd.h>

#include <fstream>
#include <thread>

#include "process/subprocess.h"
#include "scheduler/launchers/slurm_batch_script.h"
#include "scheduler/launchers/slurm_state.h"
#include "util/error.h"
#include "util/files.h"

extern char** environ;

namespace fs = std::filesystem;

namespace twinflow {
namespace {

std::vector<std::string> own_environment() {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  return env;
}

// Appends a line to the launcher's log of what went wrong with the cluster.
void note(const std::string& log_path, const std::string& line) {
  if (!log_path.empty()) std::ofstream(log_path, std::ios::app) << line << "\n";
}

uint64_t file_size_or_zero(const std::string& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

// The bytes of `path` from `offset` on.
std::string read_from(const std::string& path, uint64_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(static_cast<std::streamoff>(offset));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.empty() ? text : line;
}

std::string describe_failure(const std::string& what, const CommandOutput& output) {
  std::string why = output.err.empty() ? output.out : output.err;
  while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
  return what + " failed (exit code " + std::to_string(output.exit_code) + ")" +
         (why.empty() ? "" : ": " + why);
}

}  // namespace

CommandOutput run_slurm_command(const std::vector<std::string>& argv,
                                const std::vector<std::string>& env,
                                const SlurmLauncherOptions& options) {
  CommandOutput output;
  SubprocessSet process([&](uint64_t, std::string_view line) {
    output.out.append(line);
    output.out.push_back('\n');
  });
  ProcessSpec spec;
  spec.argv = argv;
  spec.env = env;
  // SubprocessSet sends stderr (and a copy of stdout) to a log: a scratch
  // file beside the launcher's log, read back below and then removed.
  const std::string scratch =
      options.log_path.empty() ? "" : options.log_path + "." + std::to_string(::getpid()) + ".out";
  spec.log_path = scratch;
  spec.timeout = options.command_timeout;
  spec.kill_grace = Millis(1000);
  std::error_code ec;
  if (!scratch.empty()) {
    fs::create_directories(fs::path(scratch).parent_path(), ec);
    fs::remove(scratch, ec);
  }
  process.start(spec);
  std::vector<ProcessResult> results;
  while (results.empty()) results = process.wait(options.command_timeout);
  const ProcessResult& result = results.front();
  output.err = scratch.empty() ? "" : read_from(scratch, 0);
  if (!scratch.empty()) fs::remove(scratch, ec);
  if (result.outcome == ProcessResult::Outcome::kExited) {
    output.exit_code = result.exit_code;
  } else if (result.outcome == ProcessResult::Outcome::kSpawnFailed) {
    output.err = result.error + " (is Slurm's client installed and in PATH?)";
  } else if (result.outcome == ProcessResult::Outcome::kTimedOut) {
    output.err = "timed out after " + std::to_string(options.command_timeout.count()) + " ms";
  } else {
    output.err = "killed by signal " + std::to_string(result.signal);
  }
  return output;
}

SlurmLauncher::SlurmLauncher(StdoutLineHandler on_stdout_line, SlurmLauncherOptions options)
    : on_stdout_line_(std::move(on_stdout_line)),
      options_(std::move(options)),
      interval_(options_.first_poll) {}

SlurmLauncher::Job& SlurmLauncher::track(uint64_t tag, std::string id, std::string log_path,
                                         std::string exit_file, std::optional<Millis> timeout) {
  Job& job = jobs_[tag];
  job = Job{};
  job.tag = tag;
  job.id = std::move(id);
  job.log_path = std::move(log_path);
  job.exit_file = std::move(exit_file);
  job.timeout = timeout;
  speed_up();
  return job;
}

LaunchedAttempt SlurmLauncher::start(const AttemptLaunch& launch) {
  const ProcessSpec& process = launch.process;
  const std::string script_path = (fs::path(process.cwd) / "slurm-job.sh").string();
  write_file_atomically(script_path, slurm_batch_script(launch));
  std::vector<std::string> argv = {"sbatch"};
  for (std::string& arg : sbatch_arguments(launch, script_path)) argv.push_back(std::move(arg));
  CommandOutput output = run_slurm_command(argv, process.env, options_);
  if (output.exit_code != 0) throw Error(describe_failure("sbatch", output));
  std::optional<std::string> id = parse_sbatch_job_id(output.out);
  if (!id) throw Error("sbatch printed no job id: " + first_line(output.out));
  // The log is the attempt's own, new: every line in it is the job's.
  track(process.tag, *id, process.log_path, launch.exit_file, process.timeout);
  return {0, *id};
}

void SlurmLauncher::adopt(const AdoptedAttempt& attempt) {
  Job& job = track(attempt.tag, attempt.slurm_job_id, attempt.log_path, attempt.exit_file,
                   attempt.timeout);
  // Lines written before the restart were seen (or lost) by the scheduler
  // that died; only new ones are streamed.
  job.log_offset = file_size_or_zero(attempt.log_path);
}

Millis SlurmLauncher::time_to_next_poll() const {
  auto wait = std::chrono::duration_cast<Millis>(next_poll_ - Clock::now());
  return std::max(wait, Millis(0));
}

void SlurmLauncher::speed_up() {
  interval_ = options_.first_poll;
  next_poll_ = std::min(next_poll_, Clock::now() + interval_);
}

std::vector<LaunchEnd> SlurmLauncher::wait(Millis max_wait) {
  std::vector<LaunchEnd> ended;
  if (jobs_.empty()) return ended;
  Millis until_poll = time_to_next_poll();
  if (until_poll > max_wait) {
    std::this_thread::sleep_for(max_wait);
    return ended;
  }
  std::this_thread::sleep_for(until_poll);
  poll(ended);
  return ended;
}

bool SlurmLauncher::query(std::vector<SlurmJobStatus>& statuses) {
  std::vector<std::string> ids;
  for (const auto& [tag, job] : jobs_) ids.push_back(job.id);
  std::vector<std::string> argv = {"squeue"};
  for (std::string& arg : squeue_arguments(ids)) argv.push_back(std::move(arg));
  CommandOutput output = run_slurm_command(argv, own_environment(), options_);
  if (output.exit_code == 0) {
    statuses = parse_squeue(output.out);
    return true;
  }
  if (squeue_knows_none(output.err)) {
    statuses.clear();
    return true;
  }
  // The controller may be restarting: say so in the log and ask again later.
  note(options_.log_path, describe_failure("squeue", output) + "; polling again");
  return false;
}

void SlurmLauncher::poll(std::vector<LaunchEnd>& ended) {
  const Clock::time_point now = Clock::now();
  interval_ = std::min(interval_ * 3 / 2, options_.poll_interval);
  next_poll_ = now + interval_;
  std::vector<SlurmJobStatus> statuses;
  if (!query(statuses)) return;
  std::map<std::string, const SlurmJobStatus*> by_id;
  for (const SlurmJobStatus& status : statuses) by_id[status.job_id] = &status;
  std::vector<Job*> to_cancel;
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    Job& job = it->second;
    auto found = by_id.find(job.id);
    std::optional<LaunchEnd> end =
        observe(job, found == by_id.end() ? nullptr : found->second, now);
    stream_log(job);
    if (end) {
      // A last line without '\n' is a line too once the job has ended.
      if (on_stdout_line_ && !job.partial_line.empty()) on_stdout_line_(job.tag, job.partial_line);
      ended.push_back(std::move(*end));
      it = jobs_.erase(it);
      continue;
    }
    if (job.running_since && job.timeout && !job.cancel_requested &&
        now - *job.running_since >= *job.timeout) {
      job.timed_out = true;
      to_cancel.push_back(&job);
    }
    ++it;
  }
  cancel(to_cancel);
  if (!ended.empty()) speed_up();
}

std::optional<LaunchEnd> SlurmLauncher::observe(Job& job, const SlurmJobStatus* status,
                                                Clock::time_point now) {
  if (!status) {
    // Slurm forgot the job (MinJobAge): the exit-status file is all there is.
    if (fs::exists(job.exit_file)) return end_from_exit_file(job, "");
    LaunchEnd end{
        job.tag, LaunchEnd::Outcome::kFailed, -1, 0,
        "Slurm no longer knows job " + job.id + " and it left no exit status in " + job.exit_file};
    if (job.cancel_requested) end.outcome = LaunchEnd::Outcome::kTerminated;
    if (job.timed_out) end.outcome = LaunchEnd::Outcome::kTimedOut;
    return end;
  }
  if (status->state != job.last_state) {
    job.last_state = status->state;
    speed_up();
  }
  SlurmStateMeaning meaning = interpret_slurm_state(status->state, job.cancel_requested);
  if (meaning.phase == SlurmPhase::kRunning) {
    if (!job.running_since) job.running_since = now;
    return std::nullopt;
  }
  if (meaning.phase == SlurmPhase::kWaiting) {
    job.running_since.reset();  // requeued: its time starts again when it runs again
    return std::nullopt;
  }
  if (job.timed_out) {
    return LaunchEnd{job.tag, LaunchEnd::Outcome::kTimedOut, -1, 0, ""};  // the step's timeout
  }
  if (meaning.outcome == LaunchEnd::Outcome::kExited) return end_from_exit_file(job, status->state);
  LaunchEnd end{job.tag, meaning.outcome, -1, 0, meaning.detail};
  if (!end.detail.empty()) end.detail += " (job " + job.id + ")";
  return end;
}

LaunchEnd SlurmLauncher::end_from_exit_file(const Job& job, const std::string& state) {
  LaunchEnd end{job.tag, LaunchEnd::Outcome::kExited, -1, 0, ""};
  std::ifstream in(job.exit_file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::optional<int> status = parse_exit_status_file(text);
  if (!status) {
    end.outcome = LaunchEnd::Outcome::kFailed;
    end.detail = "Slurm job " + job.id + (state.empty() ? "" : " ended " + state) +
                 " without an exit status in " + job.exit_file +
                 " (is the attempt directory on a file system the nodes share?)";
    return end;
  }
  // The shell reports death by signal N as 128 + N.
  if (*status > 128 && *status < 128 + 65) {
    end.outcome = LaunchEnd::Outcome::kSignaled;
    end.signal = *status - 128;
    return end;
  }
  end.exit_code = *status;
  return end;
}

void SlurmLauncher::stream_log(Job& job) {
  if (!on_stdout_line_) return;
  std::string data = read_from(job.log_path, job.log_offset);
  job.log_offset += data.size();
  std::string_view rest = data;
  for (size_t nl; (nl = rest.find('\n')) != std::string_view::npos;) {
    job.partial_line.append(rest.substr(0, nl));
    on_stdout_line_(job.tag, job.partial_line);
    job.partial_line.clear();
    rest.remove_prefix(nl + 1);
  }
  job.partial_line.append(rest);
}

void SlurmLauncher::cancel(const std::vector<Job*>& jobs) {
  if (jobs.empty()) return;
  std::vector<std::string> argv = {"scancel"};
  for (Job* job : jobs) {
    job->cancel_requested = true;
    argv.push_back(job->id);
  }
  CommandOutput output = run_slurm_command(argv, own_environment(), options_);
  if (output.exit_code != 0) note(options_.log_path, describe_failure("scancel", output));
  speed_up();
}

void SlurmLauncher::terminate(uint64_t tag) {
  auto it = jobs_.find(tag);
  if (it != jobs_.end() && !it->second.cancel_requested) cancel({&it->second});
}

void SlurmLauncher::terminate_all() {
  std::vector<Job*> jobs;
  for (auto& [tag, job] : jobs_)
    if (!job.cancel_requested) jobs.push_back(&job);
  cancel(jobs);
}

}  // namespace twinflow
