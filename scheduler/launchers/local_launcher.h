// LocalLauncher: the `local` executor, steps as subprocesses of the scheduler.
//
// A thin adapter: SubprocessSet does the work (process groups, timeouts, kill
// graces, stdout lines); this turns its results into LaunchEnds.
#pragma once

#include "process/subprocess.h"
#include "scheduler/launchers/step_launcher.h"

namespace twinflow {

class LocalLauncher : public StepLauncher {
 public:
  LocalLauncher(StdoutLineHandler on_stdout_line, int wake_fd);

  LaunchedAttempt start(const AttemptLaunch& launch) override;
  void adopt(const AdoptedAttempt& attempt) override;  // throws: a local child dies with us
  std::vector<LaunchEnd> wait(Millis max_wait) override;
  void terminate(uint64_t tag) override { processes_.terminate(tag); }
  void terminate_all() override { processes_.terminate_all(); }
  size_t running() const override { return processes_.running(); }

 private:
  SubprocessSet processes_;
};

// The LaunchEnd that a subprocess result stands for.
LaunchEnd launch_end_of(const ProcessResult& result);

}  // namespace twinflow
