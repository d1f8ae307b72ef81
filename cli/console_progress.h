// ConsoleProgress: prints a run's progress as it happens, one line per event,
// with the time since the run started. Failures show why and the log's tail.
#pragma once

#include <chrono>
#include <iosfwd>

#include "scheduler/execution/progress.h"

namespace twinflow {

class ConsoleProgress : public ProgressSink {
 public:
  explicit ConsoleProgress(std::ostream& out) : out_(out) {}

  void run_started(int64_t run_id, const Dag& dag, size_t steps_to_run) override;
  void step_started(const Step& step, int attempt, const std::string& log) override;
  void step_ended(const Step& step, const StepEnd& end) override;
  void steps_skipped(const std::vector<const Step*>& steps, const std::string& status) override;
  void run_finished(int64_t run_id, const std::string& status, double seconds) override;

 private:
  std::ostream& prefix();

  std::ostream& out_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace twinflow
