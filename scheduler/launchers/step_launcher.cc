#include "scheduler/launchers/step_launcher.h"

#include <algorithm>
#include <cstdlib>

#include "scheduler/launchers/local_launcher.h"
#include "scheduler/launchers/slurm_launcher.h"
#include "util/error.h"

namespace twinflow {

std::string executor_from_environment() {
  const char* value = std::getenv("TWINFLOW_EXECUTOR");
  return value && *value ? value : "local";
}

void check_executor_name(const std::string& executor, const std::string& where) {
  const auto& known = known_executors();
  if (std::find(known.begin(), known.end(), executor) == known.end())
    throw Error(where + " is '" + executor + "': expected local or slurm");
}

LauncherSet::LauncherSet(StdoutLineHandler on_stdout_line, int wake_fd, Millis slurm_poll_interval,
                         std::string slurm_log_path)
    : on_stdout_line_(std::move(on_stdout_line)),
      slurm_poll_interval_(slurm_poll_interval),
      slurm_log_path_(std::move(slurm_log_path)),
      local_(std::make_unique<LocalLauncher>(on_stdout_line_, wake_fd)) {}

LauncherSet::~LauncherSet() = default;

SlurmLauncher& LauncherSet::slurm() {
  if (!slurm_) {
    SlurmLauncherOptions options;
    options.poll_interval = slurm_poll_interval_;
    options.log_path = slurm_log_path_;
    slurm_ = std::make_unique<SlurmLauncher>(on_stdout_line_, std::move(options));
  }
  return *slurm_;
}

LaunchedAttempt LauncherSet::start(const std::string& executor, const AttemptLaunch& launch) {
  if (executor != "slurm") return local_->start(launch);
  LaunchedAttempt launched = slurm().start(launch);
  slurm_tags_.push_back(launch.process.tag);
  return launched;
}

void LauncherSet::adopt(const AdoptedAttempt& attempt) {
  slurm().adopt(attempt);
  slurm_tags_.push_back(attempt.tag);
}

std::vector<LaunchEnd> LauncherSet::wait(Millis max_wait) {
  if (!slurm_ || slurm_->running() == 0) return local_->wait(max_wait);
  // The local children (and the wake fd) are waited on until the next poll
  // of the cluster is due; then the cluster is asked.
  std::vector<LaunchEnd> ended = local_->wait(std::min(max_wait, slurm_->time_to_next_poll()));
  if (slurm_->time_to_next_poll() == Millis(0)) {
    for (LaunchEnd& end : slurm_->wait(Millis(0))) {
      std::erase(slurm_tags_, end.tag);
      ended.push_back(std::move(end));
    }
  }
  return ended;
}

void LauncherSet::terminate(uint64_t tag) {
  bool on_slurm = std::find(slurm_tags_.begin(), slurm_tags_.end(), tag) != slurm_tags_.end();
  if (on_slurm) {
    slurm_->terminate(tag);
  } else {
    local_->terminate(tag);
  }
}

void LauncherSet::terminate_all() {
  local_->terminate_all();
  if (slurm_) slurm_->terminate_all();
}

size_t LauncherSet::running() const {
  return local_->running() + (slurm_ ? slurm_->running() : 0);
}

}  // namespace twinflow
