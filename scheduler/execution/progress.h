// ProgressSink: what the executor tells the world while a run goes on.
//
// The executor reports through this interface and knows nothing of who
// listens: the CLI prints live progress, tests record events, and later the
// dashboard's live feed. Every method has an empty default.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scheduler/definition/dag.h"

namespace twinflow {

struct StepEnd {
  int attempt = 0;
  double seconds = 0;
  std::string status;  // attempt_status: succeeded, failed, timed_out, cancelled, cached
  std::string reason;  // why it failed, empty on success
  bool will_retry = false;
  Millis retry_in{0};
  std::string log_path;
  std::string log_tail;  // the last lines of the log of a failed attempt
};

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void run_started(int64_t /*run_id*/, const Dag& /*dag*/, size_t /*steps_to_run*/) {}
  virtual void step_started(const Step& /*step*/, int /*attempt*/, const std::string& /*log*/) {}
  virtual void step_ended(const Step& /*step*/, const StepEnd& /*end*/) {}
  // Steps that will not run: status is upstream_failed or cancelled.
  virtual void steps_skipped(const std::vector<const Step*>& /*steps*/,
                             const std::string& /*status*/) {}
  virtual void run_finished(int64_t /*run_id*/, const std::string& /*status*/, double /*seconds*/) {
  }
};

}  // namespace twinflow
