// The scheduler's queue: queued runs, pauses, scheduler processes, data
// trigger batches, step offers between schedulers, and idempotent actions.
//
// A repository over a Store's connection (store.h): cheap to make, one per
// use or one per owner, never shared between threads. Each change is one
// transaction; methods throw Error with the operation's name when the
// database refuses.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/offer_records.h"
#include "store/records.h"
#include "store/store.h"
#include "store/trigger_records.h"

namespace twinflow {

class RunQueue {
 public:
  explicit RunQueue(Store& store) : impl_(&store.impl()) {}

  // --- The scheduler's queue, schedules and events (store_queue.cc) ---

  // Records a run in status 'queued' (with pending step rows) for a scheduler
  // to claim. A run for a schedule tick (`where.logical_time` set) is
  // recorded once per pipeline and tick: returns nullopt when another
  // scheduler already did.
  std::optional<int64_t> enqueue_run(const NewRun& run, const QueuePlacement& where);
  // Claims the oldest queued run (FOR UPDATE SKIP LOCKED: never one another
  // scheduler is claiming) and marks it running on host/pid.
  std::optional<RunRecord> claim_queued_run(const std::string& host, int pid);
  // Runs of the pipeline that are queued or running.
  int active_runs(const std::string& pipeline);
  // The latest tick a run was recorded for, as seconds since the epoch.
  std::optional<int64_t> last_logical_time(const std::string& pipeline);

  // Interrupted runs the daemon started (trigger schedule, event or api) that
  // no run resumes yet, oldest first.
  std::vector<RunRecord> interrupted_runs_to_resume();
  // Queues `rerun` (its parent_run_id set) to finish an interrupted run,
  // unless a run already resumes it: the parent is locked for the check, so
  // of two schedulers resuming one run at once, one queues it. Returns the
  // new run's id, or nullopt.
  std::optional<int64_t> enqueue_resume(const NewRun& rerun);

  void set_paused(const std::string& pipeline, bool paused);
  bool is_paused(const std::string& pipeline);

  // Scheduler processes: registration, heartbeat, clean stop.
  int64_t register_scheduler(const std::string& host, int pid);
  void scheduler_heartbeat(int64_t scheduler_id);
  void scheduler_stopped(int64_t scheduler_id);

  // ---- Shared steps (store/store_offers.cc, migrations/0009_step_offers.sql) ----
  // The owner of a run offers ready steps it has no job slot for; any
  // scheduler claims them. Records one offer per attempt and notifies
  // twinflow_events so idle schedulers wake.
  void offer_steps(const std::vector<StepOffer>& offers);
  // Claims the oldest open offer of a running run (of `run_id` only, when
  // given) for `claimer` ("host:pid") with FOR UPDATE SKIP LOCKED: two
  // schedulers never claim the same offer.
  std::optional<StepOffer> claim_step_offer(const std::string& claimer,
                                            std::optional<int64_t> run_id = std::nullopt);
  // Records the claimed attempt as running (start_attempt) and links it to
  // the claim, in one transaction; nullopt when the claim was revoked or
  // cancelled, or the run ended, meanwhile: the claimer must not run it.
  std::optional<int64_t> start_claimed_attempt(const StepOffer& claim, const std::string& claimer,
                                               const std::string& host, int pid,
                                               const std::string& log_path, int64_t pid_start = 0);
  // The claimer's heartbeat for the attempt it runs; true: it must stop (the
  // claim was revoked, the owner cancels, or the run is no longer running).
  bool heartbeat_claim(const StepOffer& claim, const std::string& claimer);
  // The offers of a run that someone claimed and the owner has not settled,
  // with their attempts' states; `stale` past the heartbeat limit.
  std::vector<ClaimedOffer> claimed_offers(int64_t run_id, int stale_after_seconds);
  // The owner has taken note of the offer's end.
  void settle_offer(int64_t run_id, const std::string& step_id, int attempt);
  // Revokes a claim whose heartbeat is stale (or, `even_if_fresh`, one whose
  // attempt was not recorded yet) and whose attempt, if recorded, still
  // runs; the claimer's start and heartbeat are refused from then on.
  struct RevokedClaim {
    bool revoked = false;
    std::optional<int64_t> step_run_id;  // the claimer's attempt, when recorded
  };
  RevokedClaim revoke_stale_claim(int64_t run_id, const std::string& step_id, int attempt,
                                  int stale_after_seconds, bool even_if_fresh = false);
  // Cancelling a run: offers nobody claimed are withdrawn (returned as
  // step id and attempt), claimed ones are asked to stop.
  std::vector<std::pair<std::string, int>> withdraw_offers(int64_t run_id);

  // Whether a scheduler other than `claimer` ("host:pid") heartbeat within
  // the last `within_seconds`: only then is offering steps worth its cost.
  bool other_schedulers_alive(const std::string& claimer, int within_seconds);
  // ---- end of shared steps ----
  // and revokes their open claims: their owners retry those steps at their
  // next look, without waiting for the claims' heartbeats to go stale.
  // Returns how many claims were revoked.
  int revoke_claims_of_dead_schedulers(const std::string& host,
                                       const std::function<bool(int pid)>& is_dead);
  // ---- idempotent actions (store_idempotency.cc, migrations/0011_idempotency.sql) ----
  // Queues `run` (a rerun: parent_run_id set) unless a rerun of the same
  // parent is queued or running already; then that one's id, created false.
  // Two callers at once cannot both queue: the check and the insert hold an
  // advisory lock on the parent's id.
  struct QueuedRerun {
    int64_t run_id = 0;
    std::string status;  // "queued" or "running"
    bool created = false;
  };
  QueuedRerun enqueue_rerun_once(const NewRun& run);

  // Idempotency-Key: the first request with (scope, key) claims it and later
  // stores its answer (complete) or gives it up (release, e.g. after a 500).
  // The same key within `ttl_hours` then replays the answer; while the first
  // is still being answered (for at most 5 minutes) it is "in progress";
  // with another request (fingerprint) it is a mismatch.
  struct IdempotencyClaim {
    enum State { kClaimed, kReplay, kInProgress, kMismatch } state = kClaimed;
    int status = 0;    // kReplay
    std::string body;  // kReplay
  };
  IdempotencyClaim claim_idempotency_key(const std::string& scope, const std::string& key,
                                         const std::string& fingerprint, int ttl_hours = 24);
  void complete_idempotency_key(const std::string& scope, const std::string& key, int status,
                                const std::string& body);
  void release_idempotency_key(const std::string& scope, const std::string& key);
  // ---- end of idempotent actions ----
  // ---- Trigger batches (store/store_queue.cc, migrations/0013_trigger_batches.sql) ----
  // The events matching `filter` that `pipeline` has not consumed, summed up
  // for the trigger policy (scheduler/daemon/trigger_policy.h).
  PendingEvents pending_events(const std::string& pipeline, const EventFilter& filter);
  // In one transaction: unless another scheduler is deciding for `pipeline`
  // right now (a transaction-scoped advisory lock, tried, not waited for) or
  // a run of it is queued or running, enqueues `run` (trigger 'event') and
  // marks every event matching `filters` that the pipeline has not consumed
  // as consumed by it (event_consumptions.run_id); runs.event_id is the
  // newest. nullopt, and nothing written, otherwise or when no event is left.
  std::optional<TriggeredRun> enqueue_triggered_run(const std::string& pipeline,
                                                    const std::vector<EventFilter>& filters,
                                                    const NewRun& run);
  // The events run `run_id` consumed, oldest first.
  std::vector<ConsumedEvent> run_events(int64_t run_id);
  // ---- end of trigger batches ----

 private:
  std::optional<StepOffer> claim_step_offer_once(const std::string& claimer,
                                                 std::optional<int64_t> run_id);
  Store::Impl* impl_;
};

inline RunQueue Store::queue() {
  return RunQueue(*this);
}

}  // namespace twinflow
