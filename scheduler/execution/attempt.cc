// See attempt.h.
#include "scheduler/execution/attempt.h"

#include <string.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "util/files.h"

extern char** environ;

namespace fs = std::filesystem;

namespace twinflow {

namespace {

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::string format_duration(Millis d) {
  auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace

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

std::string with_full_disk_note(std::string reason, const AttemptPaths& paths) {
  for (const fs::path& dir : {paths.dir, paths.log.parent_path()})
    if (std::string note = full_disk_note(dir); !note.empty()) return reason + "; " + note;
  return reason;
}

RetryDecision decide_after_failure(const Step& step, int attempt, int interruptions,
                                   const std::string& status, bool cancelling) {
  RetryDecision d;
  const bool cancelled = status == attempt_status::kCancelled || cancelling;
  d.counts_as_interruption =
      status == attempt_status::kInterrupted && interruptions < kMaxInterruptions;
  const int free_attempts = interruptions + (d.counts_as_interruption ? 1 : 0);
  const int retry_number = attempt - free_attempts;  // retries consumed, counting this one
  d.will_retry = !cancelled && (d.counts_as_interruption || retry_number <= step.retries.count);
  d.delay = !d.will_retry || d.counts_as_interruption ? Millis(0)
                                                      : step.retries.delay_before(retry_number);
  d.step_state = d.will_retry ? step_status::kRetrying
                 : cancelled  ? step_status::kCancelled
                              : step_status::kFailed;
  return d;
}

// The step supervisor: `twinflow-supervise` beside the twinflow binary (a
// small static program that starts fast), else the binary itself
// (`twinflow __supervise`).
static std::string supervisor_for(const std::string& self_exe) {
  if (self_exe.empty()) return self_exe;
  const std::filesystem::path small =
      std::filesystem::path(self_exe).parent_path() / "twinflow-supervise";
  if (self_exe.find('/') != std::string::npos && ::access(small.c_str(), X_OK) == 0)
    return small.string();
  return self_exe;
}

AttemptLaunch make_attempt_launch(const Step& step, const AttemptContext& context,
                                  const AttemptPaths& paths, const ExecutorOptions& options,
                                  const std::vector<std::string>& base_env, uint64_t tag) {
  AttemptLaunch launch;
  ProcessSpec& spec = launch.process;
  spec.tag = tag;
  spec.argv = step_argv(step, options.self_exe);
  spec.env = base_env;
  for (auto& var : protocol_environment(context, paths)) spec.env.push_back(std::move(var));
  spec.cwd = paths.dir.string();
  spec.log_path = paths.log.string();
  spec.timeout = step.timeout;
  spec.kill_grace = options.kill_grace;
  spec.supervisor = supervisor_for(options.self_exe);  // no process of the step outlives us
  launch.slurm = step.slurm;
  launch.job_name = "twinflow-" + std::to_string(context.run_id) + "-" + step.id + "-" +
                    std::to_string(context.attempt);
  launch.exit_file = (paths.dir / "exit_status").string();
  return launch;
}

std::vector<OutputToRecord> store_outputs(const AttemptResult& result, const AttemptPaths& paths,
                                          BlobStore& blobs) {
  std::vector<OutputToRecord> outputs;
  for (const auto& produced : result.outputs) {
    fs::path source = produced.path;
    // Outputs outside the attempt's own directory are copied, never moved:
    // they may be the user's files.
    auto rel = fs::relative(source, paths.output_dir);
    if (rel.empty() || rel.native().starts_with("..")) {
      fs::path copy = paths.dir / (".import." + produced.decl->name);
      fs::copy(source, copy, fs::copy_options::recursive);
      source = copy;
    }
    BlobRef blob = blobs.put(source);
    outputs.push_back({produced.decl->name, produced.decl->artifact, produced.decl->type,
                       blob.content_hash, blob.path.string(), blob.size_bytes, produced.metadata});
  }
  return outputs;
}

std::vector<NamedVersion> finish_succeeded_attempt(RunRecorder& recorder, BlobStore& blobs,
                                                   const AttemptRecord& attempt,
                                                   const AttemptPaths& paths,
                                                   const std::vector<NamedVersion>& inputs) {
  AttemptResult result = collect_result(*attempt.step, paths);
  std::vector<OutputToRecord> outputs = store_outputs(result, paths, blobs);
  recorder.record_metrics(attempt.step_run_id, result.metrics);
  return recorder.end_attempt_succeeded(attempt.run_id, attempt.step->id, attempt.step_run_id,
                                        inputs, outputs);
}

RetryDecision finish_unsuccessful_attempt(RunRecorder& recorder, const AttemptRecord& attempt,
                                          int interruptions, const AttemptEnd& end, bool cancelling,
                                          bool record) {
  RetryDecision next =
      decide_after_failure(*attempt.step, attempt.attempt, interruptions, end.status, cancelling);
  if (record)
    recorder.end_attempt_unsuccessfully(attempt.run_id, attempt.step->id, attempt.step_run_id, end,
                                        next.step_state);
  return next;
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

}  // namespace twinflow
