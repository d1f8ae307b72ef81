// See run_recorder.h.
#include "scheduler/execution/run_recorder.h"

#include "store/store.h"

namespace twinflow {

StoreRecorder::StoreRecorder(Store& store) : ledger_(store), queue_(store) {}

void StoreRecorder::record_run_owner(int64_t run_id, const std::string& host, int pid,
                                     int64_t pid_start) {
  ledger_.record_run_owner(run_id, host, pid, pid_start);
}

bool StoreRecorder::heartbeat(int64_t run_id) {
  return ledger_.heartbeat(run_id);
}

std::optional<RunRecord> StoreRecorder::find_run(int64_t run_id) {
  return ledger_.find_run(run_id);
}

void StoreRecorder::finish_run(int64_t run_id, const std::string& status,
                               const std::string& error) {
  ledger_.finish_run(run_id, status, error);
}

void StoreRecorder::set_steps_status(int64_t run_id, const std::vector<std::string>& step_ids,
                                     const std::string& status) {
  ledger_.set_steps_status(run_id, step_ids, status);
}

std::optional<ArtifactVersionRecord> StoreRecorder::resolve_artifact_input(
    int64_t run_id, const std::string& artifact, std::optional<int> pinned) {
  return ledger_.resolve_artifact_input(run_id, artifact, pinned);
}

std::optional<RunLedger::CacheHit> StoreRecorder::find_cache_hit(const std::string& cache_key) {
  return ledger_.find_cache_hit(cache_key);
}

int64_t StoreRecorder::record_cached_attempt(int64_t run_id, const std::string& step_id,
                                             int attempt, const std::string& cache_key,
                                             int64_t source_step_run_id,
                                             const std::vector<NamedVersion>& inputs,
                                             const std::vector<NamedVersion>& outputs) {
  return ledger_.record_cached_attempt(run_id, step_id, attempt, cache_key, source_step_run_id,
                                       inputs, outputs);
}

int64_t StoreRecorder::start_attempt(int64_t run_id, const std::string& step_id, int attempt,
                                     const std::string& host, int pid, const std::string& log_path,
                                     const std::string& cache_key, int64_t pid_start) {
  return ledger_.start_attempt(run_id, step_id, attempt, host, pid, log_path, cache_key, pid_start);
}

void StoreRecorder::record_metrics(int64_t step_run_id, const std::vector<MetricPoint>& points) {
  ledger_.record_metrics(step_run_id, points);
}

std::vector<NamedVersion> StoreRecorder::end_attempt_succeeded(
    int64_t run_id, const std::string& step_id, int64_t step_run_id,
    const std::vector<NamedVersion>& inputs, const std::vector<OutputToRecord>& outputs) {
  return ledger_.end_attempt_succeeded(run_id, step_id, step_run_id, inputs, outputs);
}

void StoreRecorder::end_attempt_unsuccessfully(int64_t run_id, const std::string& step_id,
                                               int64_t step_run_id, const AttemptEnd& end,
                                               const std::string& step_state) {
  ledger_.end_attempt_unsuccessfully(run_id, step_id, step_run_id, end, step_state);
}

std::vector<NamedVersion> StoreRecorder::outputs_of_step_run(int64_t step_run_id) {
  return ledger_.outputs_of_step_run(step_run_id);
}

std::optional<RunLedger::AttemptProcess> StoreRecorder::attempt_process(int64_t step_run_id) {
  return ledger_.attempt_process(step_run_id);
}

std::vector<RunLedger::AttemptProcess> StoreRecorder::attempt_processes_of_run(int64_t run_id) {
  return ledger_.attempt_processes_of_run(run_id);
}

void StoreRecorder::set_slurm_job_id(int64_t step_run_id, const std::string& job_id) {
  ledger_.set_slurm_job_id(step_run_id, job_id);
}

std::optional<RunLedger::SlurmAttempt> StoreRecorder::adoptable_slurm_attempt(
    int64_t run_id, const std::string& step_id) {
  return ledger_.adoptable_slurm_attempt(run_id, step_id);
}

bool StoreRecorder::adopt_slurm_attempt(int64_t from_step_run_id, int64_t to_step_run_id) {
  return ledger_.adopt_slurm_attempt(from_step_run_id, to_step_run_id);
}

void StoreRecorder::close_slurm_attempt(int64_t step_run_id) {
  ledger_.close_slurm_attempt(step_run_id);
}

bool StoreRecorder::other_schedulers_alive(const std::string& claimer, int within_seconds) {
  return queue_.other_schedulers_alive(claimer, within_seconds);
}

void StoreRecorder::offer_steps(const std::vector<StepOffer>& offers) {
  queue_.offer_steps(offers);
}

std::optional<StepOffer> StoreRecorder::claim_step_offer(const std::string& claimer,
                                                         int64_t run_id) {
  return queue_.claim_step_offer(claimer, run_id);
}

std::vector<ClaimedOffer> StoreRecorder::claimed_offers(int64_t run_id, int stale_after_seconds) {
  return queue_.claimed_offers(run_id, stale_after_seconds);
}

void StoreRecorder::settle_offer(int64_t run_id, const std::string& step_id, int attempt) {
  queue_.settle_offer(run_id, step_id, attempt);
}

RunQueue::RevokedClaim StoreRecorder::revoke_stale_claim(int64_t run_id, const std::string& step_id,
                                                         int attempt, int stale_after_seconds,
                                                         bool even_if_fresh) {
  return queue_.revoke_stale_claim(run_id, step_id, attempt, stale_after_seconds, even_if_fresh);
}

std::vector<std::pair<std::string, int>> StoreRecorder::withdraw_offers(int64_t run_id) {
  return queue_.withdraw_offers(run_id);
}

}  // namespace twinflow
