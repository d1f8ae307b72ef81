// The scheduler's side of the store: queued runs, schedule ticks, pauses,
// outbox events and scheduler heartbeats. See store.h and
// migrations/0004_scheduler_queue.sql.
#include "store/store_impl.h"
#include "util/error.h"

namespace twinflow {
namespace {

// Records the DAG snapshot and pipeline, a queued run and its pending steps.
// Returns nullopt when the run's tick is taken.
std::optional<int64_t> insert_queued_run(pqxx::work& tx, const NewRun& run,
                                         std::optional<int64_t> logical_time,
                                         std::optional<int64_t> event_id) {
  const int64_t pipeline_id = record_pipeline(tx, run);
  const auto rows = tx.exec_params(
      "INSERT INTO runs (pipeline_id, dag_hash, dag_file, parent_run_id, trigger, params, status, "
      "logical_time, event_id) "
      "VALUES ($1, $2, $3, $4, $5, $6::jsonb, 'queued', to_timestamp($7), $8) "
      "ON CONFLICT (pipeline_id, logical_time) WHERE logical_time IS NOT NULL DO NOTHING "
      "RETURNING id",
      pipeline_id, run.dag_hash, run.dag_file, run.parent_run_id, run.trigger, run.params.dump(),
      logical_time, event_id);
  if (rows.empty()) return std::nullopt;
  const int64_t run_id = rows[0][0].as<int64_t>();
  tx.exec_params(
      "INSERT INTO run_steps (run_id, step_id, status) SELECT $1, unnest($2::text[]), 'pending'",
      run_id, to_pg_text_array(run.step_ids));
  return run_id;
}

std::vector<OutboxEvent> read_events(const pqxx::result& rows) {
  std::vector<OutboxEvent> out;
  for (const auto& row : rows) {
    OutboxEvent e;
    e.id = row[0].as<int64_t>();
    e.kind = row[1].as<std::string>();
    e.artifact = row[2].is_null() ? "" : row[2].as<std::string>();
    e.version = optional_field<int>(row[3]).value_or(0);
    e.artifact_version_id = optional_field<int64_t>(row[4]).value_or(0);
    e.document_id = optional_field<int64_t>(row[5]).value_or(0);
    e.platform = row[6].is_null() ? "" : row[6].as<std::string>();
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

std::optional<int64_t> Store::enqueue_run(const NewRun& run, const QueuePlacement& where) {
  return impl_->durable("enqueue_run", [&]() -> std::optional<int64_t> {
    pqxx::work tx(impl_->connection);
    auto id = insert_queued_run(tx, run, where.logical_time, std::nullopt);
    // Wakes listening schedulers on commit (store/event_listener.h).
    if (id) tx.exec("SELECT pg_notify('twinflow_events', 'queued')");
    tx.commit();
    return id;
  });
}

std::optional<RunRecord> Store::claim_queued_run(const std::string& host, int pid) {
  return impl_->durable("claim_queued_run", [&]() -> std::optional<RunRecord> {
    pqxx::work tx(impl_->connection);
    // SKIP LOCKED: a run another scheduler is claiming right now is passed
    // over rather than waited for, so two schedulers never start the same run.
    auto claimed = tx.exec_params(
        "UPDATE runs SET status = 'running', host = $1, pid = $2, started_at = now(), "
        "heartbeat_at = now() WHERE id = (SELECT id FROM runs WHERE status = 'queued' "
        "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id",
        host, pid);
    if (claimed.empty()) return std::nullopt;
    auto row = tx.exec_params1(std::string("SELECT ") + kRunColumns +
                                   " FROM runs r JOIN pipelines p ON p.id = r.pipeline_id "
                                   "WHERE r.id = $1",
                               claimed[0][0].as<int64_t>());
    RunRecord run = read_run(row);
    tx.commit();
    return run;
  });
}

int Store::active_runs(const std::string& pipeline) {
  return impl_->durable("active_runs", [&]() -> int {
    pqxx::nontransaction tx(impl_->connection);
    return tx
        .exec_params1(
            "SELECT count(*) FROM runs r JOIN pipelines p ON p.id = r.pipeline_id "
            "WHERE p.name = $1 AND r.status IN ('queued', 'running')",
            pipeline)[0]
        .as<int>();
  });
}

std::optional<int64_t> Store::last_logical_time(const std::string& pipeline) {
  return impl_->durable("last_logical_time", [&]() -> std::optional<int64_t> {
    pqxx::nontransaction tx(impl_->connection);
    auto row = tx.exec_params1(
        "SELECT extract(epoch from max(r.logical_time))::bigint FROM runs r "
        "JOIN pipelines p ON p.id = r.pipeline_id WHERE p.name = $1",
        pipeline);
    return optional_field<int64_t>(row[0]);
  });
}

std::vector<OutboxEvent> Store::unconsumed_artifact_events(const std::string& pipeline,
                                                           const std::string& artifact) {
  return impl_->durable("unconsumed_artifact_events", [&]() -> std::vector<OutboxEvent> {
    pqxx::nontransaction tx(impl_->connection);
    return read_events(tx.exec_params(
        // One literal, not a concatenation: gcc 12 warns falsely (-Warray-bounds) on the latter.
        "SELECT e.id, e.kind, e.artifact, e.version, e.artifact_version_id, e.document_id, "
        "e.platform "
        "FROM outbox_events e WHERE e.kind = 'artifact_version' AND e.artifact = $2 "
        "AND NOT EXISTS (SELECT 1 FROM event_consumptions c "
        "WHERE c.pipeline = $1 AND c.event_id = e.id) ORDER BY e.id",
        pipeline, artifact));
  });
}

std::vector<OutboxEvent> Store::unconsumed_document_events(const std::string& pipeline,
                                                           const std::string& platform) {
  return impl_->durable("unconsumed_document_events", [&]() -> std::vector<OutboxEvent> {
    pqxx::nontransaction tx(impl_->connection);
    return read_events(tx.exec_params(
        "SELECT e.id, e.kind, e.artifact, e.version, e.artifact_version_id, e.document_id, "
        "e.platform "
        "FROM outbox_events e WHERE e.kind = 'document' AND ($2 = '' OR e.platform = $2) "
        "AND NOT EXISTS (SELECT 1 FROM event_consumptions c "
        "WHERE c.pipeline = $1 AND c.event_id = e.id) ORDER BY e.id",
        pipeline, platform));
  });
}

std::optional<int64_t> Store::consume_events_and_enqueue(const std::string& pipeline,
                                                         const std::vector<int64_t>& event_ids,
                                                         const NewRun& run) {
  return impl_->durable("consume_events_and_enqueue", [&]() -> std::optional<int64_t> {
    pqxx::work tx(impl_->connection);
    // A concurrent scheduler consuming the same events blocks here on the
    // primary key until it commits; then its events come back as conflicts.
    auto taken = tx.exec_params(
        "INSERT INTO event_consumptions (pipeline, event_id) SELECT $1, unnest($2::bigint[]) "
        "ON CONFLICT DO NOTHING RETURNING event_id",
        pipeline, to_pg_bigint_array(event_ids));
    if (taken.empty()) return std::nullopt;
    int64_t last_event = 0;
    for (const auto& row : taken) last_event = std::max(last_event, row[0].as<int64_t>());
    auto run_id = insert_queued_run(tx, run, std::nullopt, last_event);
    tx.exec_params(
        "UPDATE event_consumptions SET run_id = $1 WHERE pipeline = $2 AND run_id IS NULL "
        "AND event_id = ANY($3::bigint[])",
        run_id, pipeline, to_pg_bigint_array(event_ids));
    tx.commit();
    return run_id;
  });
}

std::vector<RunRecord> Store::interrupted_runs_to_resume() {
  return impl_->durable("interrupted_runs_to_resume", [&]() -> std::vector<RunRecord> {
    pqxx::nontransaction tx(impl_->connection);
    std::vector<RunRecord> out;
    for (const auto& row : tx.exec(
             std::string("SELECT ") + kRunColumns +
             " FROM runs r JOIN pipelines p ON p.id = r.pipeline_id "
             "WHERE r.status = 'interrupted' AND r.trigger IN ('schedule', 'event', 'api') "
             "AND NOT EXISTS (SELECT 1 FROM runs c WHERE c.parent_run_id = r.id) ORDER BY r.id"))
      out.push_back(read_run(row));
    return out;
  });
}

std::optional<int64_t> Store::enqueue_resume(const NewRun& rerun) {
  if (!rerun.parent_run_id) throw Error("enqueue_resume: the rerun names no parent run");
  return impl_->durable("enqueue_resume", [&]() -> std::optional<int64_t> {
    pqxx::work tx(impl_->connection);
    // A second scheduler resuming the same run waits on this lock, then
    // (read committed: a new snapshot per statement) sees the first's rerun.
    if (tx.exec_params("SELECT 1 FROM runs WHERE id = $1 AND status = 'interrupted' FOR UPDATE",
                       *rerun.parent_run_id)
            .empty())
      return std::nullopt;
    if (!tx.exec_params("SELECT 1 FROM runs WHERE parent_run_id = $1", *rerun.parent_run_id)
             .empty())
      return std::nullopt;
    auto id = insert_queued_run(tx, rerun, std::nullopt, std::nullopt);
    tx.exec("SELECT pg_notify('twinflow_events', 'queued')");
    tx.commit();
    return id;
  });
}

void Store::set_paused(const std::string& pipeline, bool paused) {
  pqxx::nontransaction tx(impl_->connection);
  if (paused)
    tx.exec_params("INSERT INTO pipeline_pauses (pipeline) VALUES ($1) ON CONFLICT DO NOTHING",
                   pipeline);
  else
    tx.exec_params("DELETE FROM pipeline_pauses WHERE pipeline = $1", pipeline);
}

bool Store::is_paused(const std::string& pipeline) {
  return impl_->durable("is_paused", [&]() -> bool {
    pqxx::nontransaction tx(impl_->connection);
    return !tx.exec_params("SELECT 1 FROM pipeline_pauses WHERE pipeline = $1", pipeline).empty();
  });
}

int64_t Store::register_scheduler(const std::string& host, int pid) {
  return impl_->durable("register_scheduler", [&]() -> int64_t {
    pqxx::nontransaction tx(impl_->connection);
    return tx
        .exec_params1("INSERT INTO schedulers (host, pid) VALUES ($1, $2) RETURNING id", host,
                      pid)[0]
        .as<int64_t>();
  });
}

void Store::scheduler_heartbeat(int64_t scheduler_id) {
  return impl_->durable("scheduler_heartbeat", [&]() -> void {
    pqxx::nontransaction tx(impl_->connection);
    tx.exec_params("UPDATE schedulers SET heartbeat_at = now() WHERE id = $1", scheduler_id);
  });
}

void Store::scheduler_stopped(int64_t scheduler_id) {
  return impl_->durable("scheduler_stopped", [&]() -> void {
    pqxx::nontransaction tx(impl_->connection);
    tx.exec_params("UPDATE schedulers SET stopped_at = now(), heartbeat_at = now() WHERE id = $1",
                   scheduler_id);
  });
}

}  // namespace twinflow
