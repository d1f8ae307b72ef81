// RunRecorder: what the executor records about a run, and the little it reads
// back, as an interface. StoreRecorder records into PostgreSQL (a Store's
// RunLedger and RunQueue); tests of the executor's logic that need no SQL
// give it an in-memory fake instead, as ninja's build tests give its Builder
// a fake command runner.
//
// OfferBoard is the part only step sharing uses (ExecutorOptions::share_steps):
// offers of ready steps to other schedulers and what became of them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/offer_records.h"
#include "store/records.h"
#include "store/run_ledger.h"
#include "store/run_queue.h"

namespace twinflow {

class Store;

class RunRecorder {
 public:
  virtual ~RunRecorder() = default;

  // The run: who executes it, its heartbeat (true: it must stop), its end.
  virtual void record_run_owner(int64_t run_id, const std::string& host, int pid,
                                int64_t pid_start) = 0;
  virtual bool heartbeat(int64_t run_id) = 0;
  virtual std::optional<RunRecord> find_run(int64_t run_id) = 0;
  virtual void finish_run(int64_t run_id, const std::string& status, const std::string& error) = 0;
  virtual void set_steps_status(int64_t run_id, const std::vector<std::string>& step_ids,
                                const std::string& status) = 0;

  // Inputs and the cache.
  virtual std::optional<ArtifactVersionRecord> resolve_artifact_input(
      int64_t run_id, const std::string& artifact, std::optional<int> pinned) = 0;
  virtual std::optional<RunLedger::CacheHit> find_cache_hit(const std::string& cache_key) = 0;
  virtual int64_t record_cached_attempt(int64_t run_id, const std::string& step_id, int attempt,
                                        const std::string& cache_key, int64_t source_step_run_id,
                                        const std::vector<NamedVersion>& inputs,
                                        const std::vector<NamedVersion>& outputs) = 0;

  // Attempts (see RunLedger for the contracts).
  virtual int64_t start_attempt(int64_t run_id, const std::string& step_id, int attempt,
                                const std::string& host, int pid, const std::string& log_path,
                                const std::string& cache_key, int64_t pid_start = 0) = 0;
  virtual void record_metrics(int64_t step_run_id, const std::vector<MetricPoint>& points) = 0;
  virtual std::vector<NamedVersion> end_attempt_succeeded(
      int64_t run_id, const std::string& step_id, int64_t step_run_id,
      const std::vector<NamedVersion>& inputs, const std::vector<OutputToRecord>& outputs) = 0;
  virtual void end_attempt_unsuccessfully(int64_t run_id, const std::string& step_id,
                                          int64_t step_run_id, const AttemptEnd& end,
                                          const std::string& step_state) = 0;
  virtual std::vector<NamedVersion> outputs_of_step_run(int64_t step_run_id) = 0;

  // The processes of attempts, for fencing before a retry or a resume.
  virtual std::optional<RunLedger::AttemptProcess> attempt_process(int64_t step_run_id) = 0;
  virtual std::vector<RunLedger::AttemptProcess> attempt_processes_of_run(int64_t run_id) = 0;

  // Slurm attempts: the job of an attempt, and re-attaching to it.
  virtual void set_slurm_job_id(int64_t step_run_id, const std::string& job_id) = 0;
  virtual std::optional<RunLedger::SlurmAttempt> adoptable_slurm_attempt(
      int64_t run_id, const std::string& step_id) = 0;
  virtual bool adopt_slurm_attempt(int64_t from_step_run_id, int64_t to_step_run_id) = 0;
  virtual void close_slurm_attempt(int64_t step_run_id) = 0;
};

class OfferBoard {
 public:
  virtual ~OfferBoard() = default;
  virtual bool other_schedulers_alive(const std::string& claimer, int within_seconds) = 0;
  virtual void offer_steps(const std::vector<StepOffer>& offers) = 0;
  virtual std::optional<StepOffer> claim_step_offer(const std::string& claimer, int64_t run_id) = 0;
  virtual std::vector<ClaimedOffer> claimed_offers(int64_t run_id, int stale_after_seconds) = 0;
  virtual void settle_offer(int64_t run_id, const std::string& step_id, int attempt) = 0;
  virtual RunQueue::RevokedClaim revoke_stale_claim(int64_t run_id, const std::string& step_id,
                                                    int attempt, int stale_after_seconds,
                                                    bool even_if_fresh) = 0;
  virtual std::vector<std::pair<std::string, int>> withdraw_offers(int64_t run_id) = 0;
};

// Both, over a Store's connection (the store must outlive it).
class StoreRecorder final : public RunRecorder, public OfferBoard {
 public:
  explicit StoreRecorder(Store& store);

  void record_run_owner(int64_t run_id, const std::string& host, int pid,
                        int64_t pid_start) override;
  bool heartbeat(int64_t run_id) override;
  std::optional<RunRecord> find_run(int64_t run_id) override;
  void finish_run(int64_t run_id, const std::string& status, const std::string& error) override;
  void set_steps_status(int64_t run_id, const std::vector<std::string>& step_ids,
                        const std::string& status) override;
  std::optional<ArtifactVersionRecord> resolve_artifact_input(int64_t run_id,
                                                              const std::string& artifact,
                                                              std::optional<int> pinned) override;
  std::optional<RunLedger::CacheHit> find_cache_hit(const std::string& cache_key) override;
  int64_t record_cached_attempt(int64_t run_id, const std::string& step_id, int attempt,
                                const std::string& cache_key, int64_t source_step_run_id,
                                const std::vector<NamedVersion>& inputs,
                                const std::vector<NamedVersion>& outputs) override;
  int64_t start_attempt(int64_t run_id, const std::string& step_id, int attempt,
                        const std::string& host, int pid, const std::string& log_path,
                        const std::string& cache_key, int64_t pid_start) override;
  void record_metrics(int64_t step_run_id, const std::vector<MetricPoint>& points) override;
  std::vector<NamedVersion> end_attempt_succeeded(
      int64_t run_id, const std::string& step_id, int64_t step_run_id,
      const std::vector<NamedVersion>& inputs, const std::vector<OutputToRecord>& outputs) override;
  void end_attempt_unsuccessfully(int64_t run_id, const std::string& step_id, int64_t step_run_id,
                                  const AttemptEnd& end, const std::string& step_state) override;
  std::vector<NamedVersion> outputs_of_step_run(int64_t step_run_id) override;
  std::optional<RunLedger::AttemptProcess> attempt_process(int64_t step_run_id) override;
  std::vector<RunLedger::AttemptProcess> attempt_processes_of_run(int64_t run_id) override;
  void set_slurm_job_id(int64_t step_run_id, const std::string& job_id) override;
  std::optional<RunLedger::SlurmAttempt> adoptable_slurm_attempt(
      int64_t run_id, const std::string& step_id) override;
  bool adopt_slurm_attempt(int64_t from_step_run_id, int64_t to_step_run_id) override;
  void close_slurm_attempt(int64_t step_run_id) override;

  bool other_schedulers_alive(const std::string& claimer, int within_seconds) override;
  void offer_steps(const std::vector<StepOffer>& offers) override;
  std::optional<StepOffer> claim_step_offer(const std::string& claimer, int64_t run_id) override;
  std::vector<ClaimedOffer> claimed_offers(int64_t run_id, int stale_after_seconds) override;
  void settle_offer(int64_t run_id, const std::string& step_id, int attempt) override;
  RunQueue::RevokedClaim revoke_stale_claim(int64_t run_id, const std::string& step_id, int attempt,
                                            int stale_after_seconds, bool even_if_fresh) override;
  std::vector<std::pair<std::string, int>> withdraw_offers(int64_t run_id) override;

 private:
  RunLedger ledger_;
  RunQueue queue_;
};

}  // namespace twinflow
