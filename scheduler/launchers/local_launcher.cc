#include "scheduler/launchers/local_launcher.h"

#include "process/process_tree.h"
#include "util/error.h"

namespace twinflow {

LaunchEnd launch_end_of(const ProcessResult& result) {
  using P = ProcessResult::Outcome;
  using L = LaunchEnd::Outcome;
  LaunchEnd end;
  end.tag = result.tag;
  end.exit_code = result.exit_code;
  end.signal = result.signal;
  end.detail = result.error;
  switch (result.outcome) {
    case P::kExited:
      end.outcome = L::kExited;
      break;
    case P::kSignaled:
      end.outcome = L::kSignaled;
      break;
    case P::kTimedOut:
      end.outcome = L::kTimedOut;
      break;
    case P::kTerminated:
      end.outcome = L::kTerminated;
      break;
    case P::kSpawnFailed:
      end.outcome = L::kStartFailed;
      break;
  }
  return end;
}

LocalLauncher::LocalLauncher(StdoutLineHandler on_stdout_line, int wake_fd)
    : processes_(std::move(on_stdout_line)) {
  if (wake_fd >= 0) processes_.set_wake_fd(wake_fd);
}

LaunchedAttempt LocalLauncher::start(const AttemptLaunch& launch) {
  pid_t pid = processes_.start(launch.process);
  LaunchedAttempt launched;
  if (pid > 0) {
    launched.pid = pid;
    launched.pid_start = process_start_time(pid);
  }
  return launched;
}

void LocalLauncher::adopt(const AdoptedAttempt&) {
  throw Error("a local step cannot be re-attached: it ended with the scheduler that ran it");
}

std::vector<LaunchEnd> LocalLauncher::wait(Millis max_wait) {
  std::vector<LaunchEnd> ends;
  for (const ProcessResult& result : processes_.wait(max_wait))
    ends.push_back(launch_end_of(result));
  return ends;
}

}  // namespace twinflow
