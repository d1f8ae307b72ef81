#include "scheduler/execution/step_sharing.h"

#include <algorithm>

#include "scheduler/execution/recovery.h"

namespace twinflow {

using Place = StepExecution::Place;

StepSharing::StepSharing(const Dag& dag, int64_t run_id, Plan& plan,
                         std::vector<StepExecution>& executions, OfferBoard& board,
                         RunRecorder& recorder, ProgressSink& progress, SharingHost& host,
                         Settings settings)
    : dag_(dag),
      run_id_(run_id),
      plan_(plan),
      executions_(executions),
      board_(board),
      recorder_(recorder),
      progress_(progress),
      host_(host),
      settings_(std::move(settings)) {}

int StepSharing::step_index(const std::string& step_id) const {
  for (size_t i = 0; i < dag_.steps.size(); ++i)
    if (dag_.steps[i].id == step_id) return static_cast<int>(i);
  return -1;
}

bool StepSharing::any_step_at(std::initializer_list<Place> places) const {
  return std::any_of(executions_.begin(), executions_.end(), [&](const StepExecution& e) {
    return std::find(places.begin(), places.end(), e.place) != places.end();
  });
}

// Offered or claimed elsewhere: followed through the board.
std::optional<StepSharing::Clock::time_point> StepSharing::next_watch() const {
  if (!any_step_at({Place::kOffered, Place::kRemote})) return std::nullopt;
  return next_offer_watch_;
}

bool StepSharing::claim_own_offer() {
  if (!any_step_at({Place::kOffered})) return false;
  std::optional<StepOffer> claim = board_.claim_step_offer(settings_.claimer, run_id_);
  if (!claim) return false;
  const int index = step_index(claim->step_id);
  if (index < 0 || executions_[index].place != Place::kOffered ||
      executions_[index].attempt != claim->attempt) {
    board_.settle_offer(run_id_, claim->step_id, claim->attempt);  // not waited for any more
    return true;
  }
  auto& exec = executions_[index];
  exec.place = Place::kHere;
  exec.claimed_offer = true;
  host_.launch_attempt(index);
  return true;
}

void StepSharing::settle_if_claimed(int step) {
  auto& exec = executions_[step];
  if (!exec.claimed_offer) return;
  exec.claimed_offer = false;
  board_.settle_offer(run_id_, dag_.steps[step].id, exec.attempt);
}

// Asked at most once a second: a scheduler alone keeps its ready steps in
// its plan rather than pay for offers that only it would claim back.
bool StepSharing::another_scheduler_may_help() {
  if (Clock::now() < next_helper_check_) return helper_alive_;
  next_helper_check_ = Clock::now() + std::chrono::seconds(1);
  helper_alive_ =
      board_.other_schedulers_alive(settings_.claimer, settings_.claim_stale_after_seconds);
  return helper_alive_;
}

// Steps on a cluster are not offered: Slurm spreads them already.
void StepSharing::offer_ready_steps() {
  if (!plan_.has_ready() || !another_scheduler_may_help()) return;
  std::vector<StepOffer> offers;
  std::vector<int> not_shared;
  while (auto step = plan_.start_next()) {
    if (executions_[*step].executor != "local") {
      not_shared.push_back(*step);
      continue;
    }
    if (!host_.prepare_attempt(*step)) continue;  // a cache hit, or a missing input
    auto& exec = executions_[*step];
    exec.place = Place::kOffered;
    offers.push_back({run_id_, dag_.steps[*step].id, exec.attempt, exec.interruptions,
                      exec.executor, exec.cache_key, exec.inputs});
  }
  for (int step : not_shared) {
    plan_.release_for_retry(step);  // back to ready, for a slot here
    plan_.requeue(step);
  }
  if (offers.empty()) return;
  board_.offer_steps(offers);
  next_offer_watch_ = std::min(next_offer_watch_, Clock::now() + settings_.offer_poll_interval);
}

void StepSharing::watch_if_due() {
  if (!next_watch() || Clock::now() < next_offer_watch_) return;
  next_offer_watch_ = Clock::now() + settings_.offer_poll_interval;
  for (const ClaimedOffer& offer :
       board_.claimed_offers(run_id_, settings_.claim_stale_after_seconds)) {
    const int index = step_index(offer.step_id);
    if (index >= 0) on_claimed_offer(index, offer);
  }
}

void StepSharing::on_claimed_offer(int step, const ClaimedOffer& offer) {
  auto& exec = executions_[step];
  if (exec.attempt != offer.attempt ||
      (exec.place != Place::kOffered && exec.place != Place::kRemote)) {
    // This executor's own claim (settled when it ends), or a row of an
    // attempt already dealt with.
    if (!(exec.place == Place::kHere && exec.attempt == offer.attempt))
      board_.settle_offer(run_id_, offer.step_id, offer.attempt);
    return;
  }
  exec.place = Place::kRemote;
  if (offer.step_run_id && !exec.announced) {
    exec.announced = true;
    exec.step_run_id = *offer.step_run_id;
    exec.started = Clock::now();
    progress_.step_started(dag_.steps[step], exec.attempt, offer.log_path);
  }
  if (!offer.attempt_status.empty() && offer.attempt_status != attempt_status::kRunning) {
    on_remote_end(step, offer);
    return;
  }
  // A claim that never started, in a run being cancelled, will not start.
  const bool unstarted_in_cancel = cancelling_ && !offer.step_run_id;
  if (offer.stale || unstarted_in_cancel) revoke_stale_claim(step, offer);
}

// Another scheduler recorded the attempt's end; the retry is decided here.
void StepSharing::on_remote_end(int step, const ClaimedOffer& offer) {
  auto& exec = executions_[step];
  exec.step_run_id = *offer.step_run_id;
  board_.settle_offer(run_id_, dag_.steps[step].id, offer.attempt);
  if (offer.attempt_status != attempt_status::kSucceeded) {
    host_.attempt_failed(step, offer.attempt_status, offer.error, offer.exit_code, offer.signal,
                         /*record=*/false);
    return;
  }
  exec.place = Place::kNone;
  host_.remote_attempt_succeeded(step, offer.log_path);
}

// The claimer stopped heartbeating (it died, or froze): its attempt is
// recorded interrupted and the step retried, here or by another scheduler.
// Revoking first makes sure the claimer can record nothing from now on.
void StepSharing::revoke_stale_claim(int step, const ClaimedOffer& offer) {
  const Step& def = dag_.steps[step];
  auto& exec = executions_[step];
  RunQueue::RevokedClaim revoked =
      board_.revoke_stale_claim(run_id_, def.id, offer.attempt, settings_.claim_stale_after_seconds,
                                /*even_if_fresh=*/cancelling_);
  if (!revoked.revoked) return;  // it ended meanwhile: the next look sees how
  // Fencing: the retry starts only once the claimer's processes are dead
  // (here: checked and killed; elsewhere: its supervisor died with it).
  if (revoked.step_run_id)
    if (auto process = recorder_.attempt_process(*revoked.step_run_id))
      fence_attempt(*process, settings_.host);
  exec.step_run_id = revoked.step_run_id
                         ? *revoked.step_run_id
                         : recorder_.start_attempt(run_id_, def.id, exec.attempt, settings_.host, 0,
                                                   exec.paths.log.string(), exec.cache_key);
  board_.settle_offer(run_id_, def.id, offer.attempt);
  const std::string why = cancelling_ ? "cancelled before it started"
                                      : "scheduler " + offer.claimed_by +
                                            ", which claimed the step, stopped heartbeating";
  host_.attempt_failed(step,
                       cancelling_ ? attempt_status::kCancelled : attempt_status::kInterrupted, why,
                       std::nullopt, std::nullopt, /*record=*/true);
}

void StepSharing::begin_cancel() {
  cancelling_ = true;
  for (const auto& [step_id, attempt] : board_.withdraw_offers(run_id_)) {
    const int index = step_index(step_id);
    if (index < 0) continue;
    auto& exec = executions_[index];
    if (exec.place != Place::kOffered || exec.attempt != attempt) continue;
    exec.place = Place::kNone;
    plan_.release_for_retry(index);
  }
}

}  // namespace twinflow
