// Plan: which steps of a run are waiting, ready, running or done.
//
// The plan is the pure state of a run's progress, apart from any I/O (as
// ninja's Plan is apart from its Builder): the executor asks it for the next
// step it may start, tells it when a step ends, and it answers with the steps
// that became ready or can no longer run. It enforces the concurrency pools
// of the DAG; the executor enforces the overall job limit.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/definition/dag.h"

namespace twinflow {

class Plan {
 public:
  enum class State { kWaiting, kReady, kRunning, kSucceeded, kFailed, kSkipped };

  // All steps of `dag` are wanted unless `wanted` is given (by index); steps
  // not wanted count as already succeeded (a rerun's reused steps).
  explicit Plan(const Dag& dag, const std::vector<bool>& wanted = {});

  // The next ready step (in file order of readiness) whose pool has a free
  // slot, now marked running; nullopt when none can start.
  std::optional<int> start_next();
  // A running step ended. On success, returns the steps that became ready.
  // On failure, returns the steps that can no longer run (all descendants not
  // yet finished), now marked skipped.
  std::vector<int> finish(int step, bool succeeded);
  // A running step will be retried later: it leaves its pool slot and waits
  // for requeue().
  void release_for_retry(int step);
  // A step released for retry is ready again.
  void requeue(int step);
  // Marks every step that has not finished as skipped (cancellation) and
  // returns them.
  std::vector<int> skip_unfinished();

  State state(int step) const { return states_[step]; }
  bool finished() const { return unfinished_ == 0; }
  size_t running() const { return running_; }
  bool has_ready() const { return !ready_.empty(); }
  // Indices of the steps downstream of `step` (transitively), excluding it.
  std::vector<int> descendants(int step) const;

 private:
  void mark_ready(int step);
  int pool_of(int step) const { return pool_index_[step]; }

  std::vector<State> states_;
  std::vector<std::vector<int>> dependents_;  // step -> steps that need it
  std::vector<int> unmet_;                    // step -> upstreams not yet succeeded
  std::vector<int> pool_index_;               // step -> pool, -1 for none
  std::vector<int> pool_free_;                // pool -> free slots
  std::deque<int> ready_;
  size_t running_ = 0;
  size_t unfinished_ = 0;
};

// For a rerun of `dag` whose previous run ended with `succeeded[i]` per step:
// the steps to execute again. from_step < 0: every step that did not succeed
// and their descendants (re-execute from failure). from_step >= 0: that step,
// its descendants, and any step that did not succeed.
std::vector<bool> steps_to_rerun(const Dag& dag, const std::vector<bool>& succeeded,
                                 int from_step = -1);

}  // namespace twinflow
