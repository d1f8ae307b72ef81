// The run ledger: runs, steps and attempts, artifact versions and lineage,
// the cache, metrics, the processes that own runs, and Slurm attempts.
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

#include "store/records.h"
#include "store/store.h"

namespace twinflow {

class RunLedger {
 public:
  explicit RunLedger(Store& store) : impl_(&store.impl()) {}

  // --- runs (store_runs.cc) ---------------------------------------------------
  // Records the DAG snapshot, the pipeline, a running run and one pending
  // run_steps row per step, in one transaction. Returns the run id.
  int64_t create_run(const NewRun& run);
  std::optional<RunRecord> find_run(int64_t run_id);
  std::vector<RunRecord> list_runs(const RunFilter& filter);
  std::vector<RunStepRecord> run_steps(int64_t run_id);
  std::vector<StepRunRecord> step_runs(int64_t run_id);
  std::optional<StepRunRecord> find_step_run(int64_t run_id, const std::string& step_id,
                                             int attempt);
  std::string dag_content(const std::string& dag_hash);

  // Opens attempt `attempt` of a step: a running step_runs row. Returns its id.
  int64_t start_attempt(int64_t run_id, const std::string& step_id, int attempt,
                        const std::string& host, int pid, const std::string& log_path,
                        const std::string& cache_key, int64_t pid_start = 0);
  // Closes a failed, timed-out, cancelled or interrupted attempt and sets the
  // step's state: `step_state` is retrying (another attempt follows) or final.
  // Only a running attempt is closed, so a repeat, or a zombie whose attempt
  // was recorded interrupted and taken over, changes nothing. The operations
  // from start_attempt to heartbeat ride out a lost connection (reconnect.h).
  void end_attempt_unsuccessfully(int64_t run_id, const std::string& step_id, int64_t step_run_id,
                                  const AttemptEnd& end, const std::string& step_state);
  // Closes a succeeded attempt: creates the output artifact versions, the
  // input and output lineage edges, marks attempt and step succeeded. One
  // transaction. Returns the versions recorded, by output name.
  std::vector<NamedVersion> end_attempt_succeeded(int64_t run_id, const std::string& step_id,
                                                  int64_t step_run_id,
                                                  const std::vector<NamedVersion>& inputs,
                                                  const std::vector<OutputToRecord>& outputs);
  // Records a cache hit: a 'cached' attempt pointing at `source_step_run_id`,
  // with input edges and output edges to the source's versions. Returns its id.
  int64_t record_cached_attempt(int64_t run_id, const std::string& step_id, int attempt,
                                const std::string& cache_key, int64_t source_step_run_id,
                                const std::vector<NamedVersion>& inputs,
                                const std::vector<NamedVersion>& outputs);
  // Marks steps that will not run in this run (upstream_failed, cancelled, or
  // reused from `result_step_run_ids` in the same order when status is 'reused').
  // Changes nothing once the run is no longer running.
  void set_steps_status(int64_t run_id, const std::vector<std::string>& step_ids,
                        const std::string& status,
                        const std::vector<int64_t>& result_step_run_ids = {});
  // Records the end of a running run (a run recorded interrupted meanwhile stays so).
  void finish_run(int64_t run_id, const std::string& status, const std::string& error = "");
  // Refreshes the run's and its running attempts' heartbeats; returns whether
  // the run must stop: someone asked to cancel it, or it is no longer running
  // (another scheduler recorded it interrupted when its heartbeat went stale).
  bool heartbeat(int64_t run_id);
  // Asks a run to stop. Returns false when the run is already finished.
  bool request_cancel(int64_t run_id);
  // Marks runs whose process is gone as interrupted: running runs on `host`
  // whose pid `is_alive` rejects, and runs anywhere whose heartbeat is older
  // than `stale_after_seconds`. Their running attempts and steps become
  // interrupted. Returns the attempts that were running (to kill strays).
  std::vector<StepRunRecord> reap_interrupted_runs(const std::string& host,
                                                   const std::function<bool(int)>& is_alive,
                                                   int stale_after_seconds);

  // --- artifacts, lineage, cache (store_artifacts.cc) ---------------------------
  // Output versions of the attempt that stands for each step of a run
  // (run_steps.result_step_run_id), by step id.
  std::map<std::string, std::vector<NamedVersion>> step_outputs(int64_t run_id);
  std::vector<NamedVersion> outputs_of_step_run(int64_t step_run_id);
  // The newest succeeded attempt with this cache key and its outputs.
  struct CacheHit {
    int64_t step_run_id = 0;
    std::vector<NamedVersion> outputs;
  };
  std::optional<CacheHit> find_cache_hit(const std::string& cache_key);
  std::vector<ArtifactSummary> list_artifacts();
  std::vector<ArtifactVersionRecord> artifact_versions(const std::string& name);
  std::optional<ArtifactVersionRecord> find_artifact_version(const std::string& name, int version);
  // The version an "artifact:NAME" step input gets: `pinned` when given; else
  // the version whose outbox event started run `run_id`, when it was an event
  // on this artifact; else the latest. nullopt when there is none.
  std::optional<ArtifactVersionRecord> resolve_artifact_input(int64_t run_id,
                                                              const std::string& artifact,
                                                              std::optional<int> pinned);
  // Edges touching a version: the step run that produced it and those that consumed it.
  std::vector<LineageEdge> edges_of_version(int64_t artifact_version_id);
  // Edges of a step run (its inputs and outputs).
  std::vector<LineageEdge> edges_of_step_run(int64_t step_run_id);

  // --- metrics (store_metrics.cc) ----------------------------------------------
  void record_metrics(int64_t step_run_id, const std::vector<MetricPoint>& points);
  std::vector<MetricRecord> metrics_of_run(int64_t run_id);

  // ---- Slurm step runs (store/store_slurm.cc, migrations/0007_slurm.sql) ----
  // An interrupted attempt whose Slurm job may still run or have finished.
  struct SlurmAttempt {
    int64_t step_run_id = 0;
    int64_t run_id = 0;  // the run it belongs to: its files are under runs/RUN/
    int attempt = 0;
    std::string slurm_job_id;
    std::string log_path;
  };
  void set_slurm_job_id(int64_t step_run_id, const std::string& job_id);
  std::optional<std::string> slurm_job_id(int64_t step_run_id);
  // The newest interrupted attempt of `step_id` with a Slurm job that no
  // attempt re-attached to yet, in `run_id` or the runs it resumes (its
  // parents, as far as they were interrupted).
  std::optional<SlurmAttempt> adoptable_slurm_attempt(int64_t run_id, const std::string& step_id);
  // Hands the job of interrupted attempt `from` to attempt `to`, in one
  // transaction; false when another attempt took it first.
  bool adopt_slurm_attempt(int64_t from_step_run_id, int64_t to_step_run_id);
  // Marks an attempt whose job ended while twinflow watched (e.g. preempted)
  // as needing no adopter.
  void close_slurm_attempt(int64_t step_run_id);
  // ---- end of Slurm step runs ----
  // ---- Owners and their processes (store/store_runs.cc, store/store_offers.cc,
  //      migrations/0010_owner_identity.sql; scheduler/execution/recovery.h) ----
  // Completes the identity of the process that executes a run, recorded as
  // (host, pid) when it started or claimed it, with pid_start, its start
  // time in /proc (process_tree.h). Also a heartbeat.
  void record_run_owner(int64_t run_id, const std::string& host, int pid, int64_t pid_start);

  // The process an attempt ran in (its step supervisor), as recorded.
  struct AttemptProcess {
    int64_t step_run_id = 0;
    int64_t run_id = 0;
    std::string step_id;
    std::string host;
    int pid = 0;
    int64_t pid_start = 0;  // 0: not recorded
  };
  std::optional<AttemptProcess> attempt_process(int64_t step_run_id);
  // The attempts of a run that had a process (any status): what a rerun of
  // it fences before it starts.
  std::vector<AttemptProcess> attempt_processes_of_run(int64_t run_id);

  // How a reaper on the owner's host sees the owner (pid, pid_start).
  enum class OwnerLiveness { kAlive, kFrozen, kDead };
  struct ReapRequest {
    std::string host;  // the reaper's
    std::function<OwnerLiveness(int pid, int64_t pid_start)> owner_liveness;
    int stale_after_seconds = 60;
  };
  // Records interrupted the running runs whose owner is gone, with their
  // running attempts and steps, and returns those attempts (for their
  // processes to be killed). On `host`: a dead owner at once, a frozen one
  // (stopped) once its heartbeat is stale, a live one never, however stale
  // its heartbeat (the database may have been down). Elsewhere: a stale
  // heartbeat, judged from the later of the heartbeat and the database
  // server's start (pg_postmaster_start_time()), so that no heartbeat is
  // found stale for the time the server was down.
  std::vector<AttemptProcess> reap_dead_owners(const ReapRequest& request);
  // Records the schedulers of `host` that are dead (`is_dead(pid)`) stopped

 private:
  Store::Impl* impl_;
};

inline RunLedger Store::runs() {
  return RunLedger(*this);
}

}  // namespace twinflow
