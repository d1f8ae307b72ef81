// Store: every read and write twinflow makes to its PostgreSQL database.
//
// The scheduler and the CLI call operations, not SQL: each method is one
// meaningful change or question ("record that this attempt succeeded with
// these outputs"), and each change is one transaction, so a crash between two
// calls never leaves half of one recorded. Methods throw Error with the
// operation's name when the database refuses.
//
// A Store owns one connection and is not thread-safe: give each thread its own.
// The implementation is split by concern: store_runs.cc (runs and steps),
// store_artifacts.cc (artifacts, lineage, cache), store_metrics.cc.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/feature_records.h"
#include "store/model_records.h"
#include "store/offer_records.h"
#include "store/reconnect.h"
#include "store/records.h"
#include "store/search_records.h"
#include "store/trigger_records.h"

namespace twinflow {

class Store {
 public:
  // Connects to the database given by a libpq conninfo or URI. Does not migrate.
  explicit Store(const std::string& conninfo);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& conninfo() const { return conninfo_; }

  // Applies pending migrations (see store/migrations.h). Returns how many.
  int migrate();

  // How the operations a running scheduler depends on (attempts, results,
  // heartbeats, the queue) ride out a lost connection; see reconnect.h. The
  // default gives up at once.
  void set_reconnect_policy(ReconnectPolicy policy);

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

  // --- feature store: documents, cleaned documents, chunks (store_documents.cc) ---
  // Records a fetched document: a new version when its content (or title)
  // differs from the latest, otherwise refreshes the latest's validators.
  StoredDocument upsert_document(const DocumentToStore& document);
  // The stored HTTP validators of the latest versions of `urls`, by URL.
  std::map<std::string, HttpValidators> document_validators(const std::string& author,
                                                            const std::vector<std::string>& urls);
  // A fetch answered 304 Not Modified: refreshes checked_at. Returns the
  // latest versions' ids, by URL.
  std::map<std::string, int64_t> mark_documents_checked(const std::string& author,
                                                        const std::vector<std::string>& urls);
  std::optional<DocumentRecord> find_document(int64_t id);
  // Latest document versions of an author ("" = every author), by platform
  // when given, ordered by id.
  std::vector<DocumentRecord> latest_documents(const std::string& author,
                                               const std::string& platform = "");
  // Latest document versions not yet cleaned with `cleaner`.
  std::vector<DocumentRecord> documents_to_clean(const std::string& author,
                                                 const std::string& cleaner);
  // Latest document versions of an author with their newest cleaned text
  // (any cleaner), ordered by document id; documents not cleaned yet are left out.
  std::vector<CleanedSourceRecord> cleaned_sources(const std::string& author);
  // Stores a cleaned document; returns its id (the existing one when this
  // document was already cleaned with `cleaner`).
  int64_t insert_cleaned_document(int64_t document_id, const std::string& cleaner,
                                  const std::string& content, int64_t step_run_id);
  // Cleaned (with `cleaner`) latest document versions with no chunks from
  // `chunker` yet.
  std::vector<CleanedDocumentRecord> documents_to_chunk(const std::string& author,
                                                        const std::string& cleaner,
                                                        const std::string& chunker);
  // Stores a cleaned document's chunks and makes them the current chunks of
  // its document (every earlier chunk of any version becomes non-current), in
  // one transaction. Returns how many chunks were new.
  int replace_current_chunks(const CleanedDocumentRecord& source, const std::string& chunker,
                             const std::string& kind, const std::vector<ChunkToStore>& chunks,
                             int64_t step_run_id);
  // Current chunks of latest documents, filtered, ordered by id.
  std::vector<ChunkText> current_chunks(const ChunkFilter& filter);
  std::vector<ChunkDetail> chunk_details(const std::vector<int64_t>& chunk_ids);
  // Full-text search over current chunks: ids ranked by ts_rank_cd, best first.
  std::vector<std::pair<int64_t, double>> text_search(const std::string& query,
                                                      const ChunkFilter& filter, int limit);
  // ANALYZE of the feature store's tables, after a bulk change: the planner
  // needs current statistics to use the full-text and vector-table indexes.
  void refresh_feature_statistics();
  FeatureCounts feature_counts(const std::string& author, const std::string& model_name);

  // --- feature store: embedding models and vectors (store_embeddings.cc) ---------
  // The latest version of a model name.
  std::optional<EmbeddingModelRecord> current_embedding_model(const std::string& name);
  // Registers the next version of a model name and returns it.
  EmbeddingModelRecord register_embedding_model(const std::string& name,
                                                const std::string& provider, int dimension,
                                                const std::string& model_sha256,
                                                const nlohmann::json& settings,
                                                int64_t step_run_id);
  // Current chunks (of `filter`) with no embedding for `model_id`.
  std::vector<ChunkText> chunks_without_embedding(int64_t model_id, const ChunkFilter& filter);
  // Stores `ids.size()` vectors of `dimension` floats (row-major) for a model.
  void insert_embeddings(const EmbeddingModelRecord& model, const std::vector<int64_t>& ids,
                         const std::vector<float>& vectors, int64_t step_run_id);
  // The vectors of a model for the current chunks matching `filter`.
  ChunkVectors load_vectors(const EmbeddingModelRecord& model, const ChunkFilter& filter);
  // A cheap signature of the state load_vectors reads (counts and largest ids
  // of the model's vectors, the current chunks and the latest documents), to
  // tell whether a cached copy may be stale.
  std::string vectors_signature(const EmbeddingModelRecord& model, const ChunkFilter& filter);

  // --- feature store in pages and batches (store_documents.cc, store_embeddings.cc) ---
  // The data steps read what is left to do a page at a time (ids after
  // `after_id`, ascending, at most `limit`), so memory stays bounded, and write
  // each page in one transaction with one statement per table, so a kill loses
  // at most the page in flight and a rerun carries on where it stopped.

  // A page of documents_to_clean.
  std::vector<DocumentRecord> documents_to_clean(const std::string& author,
                                                 const std::string& cleaner, int64_t after_id,
                                                 int limit);
  // Stores cleaned documents; one already cleaned with `cleaner` is kept as it
  // is. Returns how many were new.
  int insert_cleaned_documents(const std::vector<CleanedDocumentToStore>& batch,
                               const std::string& cleaner, int64_t step_run_id);
  // A page of documents_to_chunk, by cleaned document id.
  std::vector<CleanedDocumentRecord> documents_to_chunk(const std::string& author,
                                                        const std::string& cleaner,
                                                        const std::string& chunker,
                                                        int64_t after_id, int limit);
  // replace_current_chunks for many documents (each URL at most once).
  // Returns how many chunks were new.
  int replace_current_chunks(const std::vector<DocumentChunks>& batch, const std::string& chunker,
                             int64_t step_run_id);
  // A page of chunks_without_embedding, by chunk id.
  std::vector<ChunkText> chunks_without_embedding(int64_t model_id, const ChunkFilter& filter,
                                                  int64_t after_id, int limit);
  // The ids of the current chunks (of `filter`) with a vector of the model,
  // ascending: what load_vectors reads, without the vectors.
  std::vector<int64_t> embedded_chunk_ids(const EmbeddingModelRecord& model,
                                          const ChunkFilter& filter);
  // latest_documents without their content (id, url, version, sha256, ...):
  // what a manifest lists, without reading the corpus into memory.
  std::vector<DocumentRecord> latest_document_heads(const std::string& author);
  // The ids of current_chunks, ascending, without their text.
  std::vector<int64_t> current_chunk_ids(const ChunkFilter& filter);

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

  // --- The model registry and the prompt log (store_models.cc) ---

  // Registers an artifact version as the next version of model `name`
  // (creating the model on first use), in stage "none" with `metrics`. An
  // artifact version already registered for this model is returned as it is
  // (its metrics merged with `metrics`), so a retried step registers once.
  ModelVersionRecord register_model_version(const std::string& name, int64_t artifact_version_id,
                                            std::optional<int64_t> step_run_id,
                                            const nlohmann::json& metrics);
  std::vector<ModelSummary> list_models();
  // Versions of a model, newest first; empty when the model is unknown.
  std::vector<ModelVersionRecord> model_versions(const std::string& name);
  std::optional<ModelVersionRecord> find_model_version(const std::string& name, int version);
  std::optional<ModelVersionRecord> production_model(const std::string& name);
  // Moves a version to `stage` in one transaction; promoting to production
  // archives the previous production version. Each change is recorded with
  // `why`. Throws Error for an unknown model, version or stage.
  ModelVersionRecord set_model_stage(const std::string& name, int version, const std::string& stage,
                                     const StageChangeRequest& why);
  // Puts back the version that was production before the current one: the
  // current production is archived and the previous one restored, in one
  // transaction. Throws Error when there is nothing to roll back to.
  ModelVersionRecord rollback_model(const std::string& name, const StageChangeRequest& why);
  // Stage changes of a model, oldest first.
  std::vector<StageChangeRecord> stage_history(const std::string& name);

  int64_t log_prompt(const PromptLogEntry& entry);
  // The newest `limit` prompts, newest first.
  std::vector<PromptLogRecord> list_prompts(int limit);

  // For the store's own .cc files: the connection (a pqxx::connection).
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::string conninfo_;
  std::unique_ptr<Impl> impl_;

  // ---- Slurm step runs (store/store_slurm.cc, migrations/0007_slurm.sql) ----
 public:
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

 private:
  std::optional<StepOffer> claim_step_offer_once(const std::string& claimer,
                                                 std::optional<int64_t> run_id);

 public:
  // Whether a scheduler other than `claimer` ("host:pid") heartbeat within
  // the last `within_seconds`: only then is offering steps worth its cost.
  bool other_schedulers_alive(const std::string& claimer, int within_seconds);
  // ---- end of shared steps ----

  // ---- Owners and their processes (store/store_runs.cc, store/store_offers.cc,
  //      migrations/0010_owner_identity.sql; scheduler/recovery.h) ----
 public:
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
  // and revokes their open claims: their owners retry those steps at their
  // next look, without waiting for the claims' heartbeats to go stale.
  // Returns how many claims were revoked.
  int revoke_claims_of_dead_schedulers(const std::string& host,
                                       const std::function<bool(int pid)>& is_dead);
  // ---- end of owners and their processes ----
 public:
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
  // ---- retrieval (store_search.cc) ----
  // Okapi BM25F text search over the searchable chunks (current chunks of
  // latest documents) of `filter`, with the statistics migration 0012 keeps
  // exact (search_records.h: formula, defaults). The query goes through the
  // same `english` analysis as the chunks; any query lexeme matches (OR). At
  // most `limit` hits, each with its per-lexeme parts of the score; the terms
  // tell why there are none (no lexeme left, or none in the scope).
  Bm25Result bm25_search(const std::string& query, const ChunkFilter& filter, int limit,
                         const Bm25Params& params = {});
  // The number of searchable chunks of `filter` (from the BM25 statistics).
  int64_t searchable_chunks(const ChunkFilter& filter);
  // ---- end of retrieval ----
  // ---- Trigger batches (store/store_queue.cc, migrations/0013_trigger_batches.sql) ----
 public:
  // The events matching `filter` that `pipeline` has not consumed, summed up
  // for the trigger policy (scheduler/trigger_policy.h).
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
  // --- crawl sources: feeds, sitemaps, followed pages (store_sources.cc) ---
  // The discovery state of the crawl step (migration 0014).
  struct SourceEntry {
    std::string url, stamp;  // stamp: updated / lastmod as listed, "" when none
  };
  struct SourceEntryCounts {
    int64_t added = 0, changed = 0;  // entries never listed before / listed with a new stamp
  };
  struct SourceCheck {
    std::string status, reason;  // ok, not_modified, truncated, failed
    int64_t discovered = 0, discovered_new = 0;
  };
  // The source's id, created on first use. kind: feed, sitemap, follow.
  int64_t crawl_source_id(const std::string& author, const std::string& kind,
                          const std::string& url);
  // The validators stored for the files fetched for a source, by file URL.
  std::map<std::string, HttpValidators> crawl_source_validators(int64_t source_id);
  void save_crawl_source_validators(int64_t source_id, const std::string& file_url,
                                    const HttpValidators& validators);
  // Records the entries a source lists now (one transaction, batched).
  SourceEntryCounts record_source_entries(int64_t source_id,
                                          const std::vector<SourceEntry>& entries);
  // Entries to crawl: new, with a changed stamp, or whose last crawl failed;
  // at most `limit`, oldest first.
  std::vector<std::string> source_entries_to_crawl(int64_t source_id, int64_t limit);
  // These entries were crawled (their current stamp is now the crawled one).
  void mark_source_entries_crawled(int64_t source_id, const std::vector<std::string>& urls);
  // The latest documents (id, platform) of the entries of these sources that
  // were crawled, by URL.
  std::map<std::string, std::pair<int64_t, std::string>> source_documents(
      const std::string& author, const std::vector<int64_t>& source_ids);
  void record_source_check(int64_t source_id, const SourceCheck& check, int64_t step_run_id);
  // ---- end of crawl sources ----
};

}  // namespace twinflow
