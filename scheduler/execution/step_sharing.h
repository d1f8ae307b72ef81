// StepSharing: the part of an Executor that shares its run's steps with other
// schedulers (ExecutorOptions::share_steps).
//
// Ready local steps the executor has no job slot for are offered on an
// OfferBoard (the database's step_offers); whichever scheduler has a slot
// first claims one (a StepHelper elsewhere, or this executor taking its own
// offer back). The attempts others run are followed through the board: their
// starts, their ends (the retry is decided here, by the executor), and their
// claimers' heartbeats: a claim whose claimer went quiet is revoked, its
// processes fenced, and the attempt ended interrupted.
//
// Passive and single-threaded like the executor that owns it: it acts only
// inside its calls. It reads and writes the executor's StepExecution of each
// step, and hands back to the executor (SharingHost) what only the executor
// does: preparing and launching an attempt, and ending one.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/definition/dag.h"
#include "scheduler/execution/progress.h"
#include "scheduler/execution/run_recorder.h"
#include "scheduler/execution/step_execution.h"
#include "scheduler/planning/plan.h"
#include "util/duration.h"

namespace twinflow {

// What StepSharing asks of its executor.
class SharingHost {
 public:
  virtual ~SharingHost() = default;
  // Starts a new attempt of `step` up to its launch: inputs, the cache.
  // False when the attempt already ended (a cache hit, a missing input).
  virtual bool prepare_attempt(int step) = 0;
  // Launches here the prepared attempt of `step` (an offer claimed back).
  virtual void launch_attempt(int step) = 0;
  // Another scheduler ran the attempt of `step` to success.
  virtual void remote_attempt_succeeded(int step, const std::string& log_path) = 0;
  // The attempt of `step` did not succeed; `record` false: its end is
  // recorded already (by the scheduler that ran it).
  virtual void attempt_failed(int step, const std::string& status, const std::string& reason,
                              std::optional<int> exit_code, std::optional<int> signal,
                              bool record) = 0;
};

class StepSharing {
 public:
  using Clock = std::chrono::steady_clock;
  struct Settings {
    std::string claimer;  // this scheduler: "host:pid"
    std::string host;     // this machine, for fencing a claimer's processes
    Millis offer_poll_interval{50};
    int claim_stale_after_seconds = 60;
  };

  // All references must outlive this object; `executions` is by step index.
  StepSharing(const Dag& dag, int64_t run_id, Plan& plan, std::vector<StepExecution>& executions,
              OfferBoard& board, RunRecorder& recorder, ProgressSink& progress, SharingHost& host,
              Settings settings);

  // Takes back one of this run's offers nobody claimed yet and launches it
  // here (through the host). True when it used the call (even on an offer
  // no longer waited for), so the caller should ask again.
  bool claim_own_offer();
  // Offers every ready local step, when another scheduler may claim it.
  void offer_ready_steps();
  // Looks at the claimed offers when due: starts, ends, stale claimers.
  void watch_if_due();
  // When watch_if_due next has work; nullopt when no step is offered or
  // running elsewhere.
  std::optional<Clock::time_point> next_watch() const;
  // The attempt of `step`, claimed back from an offer, ended here.
  void settle_if_claimed(int step);
  // The run is being cancelled: offers nobody claimed are withdrawn (their
  // steps wait, to be skipped as cancelled), claimers are asked to stop, and
  // claims that never started are revoked at the next watch.
  void begin_cancel();

 private:
  bool another_scheduler_may_help();
  bool any_step_at(std::initializer_list<StepExecution::Place> places) const;
  int step_index(const std::string& step_id) const;
  void on_claimed_offer(int step, const ClaimedOffer& offer);
  void on_remote_end(int step, const ClaimedOffer& offer);
  void revoke_stale_claim(int step, const ClaimedOffer& offer);

  const Dag& dag_;
  int64_t run_id_;
  Plan& plan_;
  std::vector<StepExecution>& executions_;
  OfferBoard& board_;
  RunRecorder& recorder_;
  ProgressSink& progress_;
  SharingHost& host_;
  Settings settings_;
  bool cancelling_ = false;
  Clock::time_point next_offer_watch_;
  Clock::time_point next_helper_check_;  // another_scheduler_may_help's answer holds until then
  bool helper_alive_ = false;
};

}  // namespace twinflow
