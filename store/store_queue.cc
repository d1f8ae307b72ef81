// The scheduler's side of the store: queued runs, schedule ticks, pauses,
// outbox events and scheduler heartbeats. See store.h and
// migrations/0004_scheduler_queue.sql.
#include "store/run_queue.h"
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

}  // namespace

std::optional<int64_t> RunQueue::enqueue_run(const NewRun& run, const QueuePlacement& where) {
  return impl_->durable("enqueue_run", [&]() -> std::optional<int64_t> {
    pqxx::work tx(impl_->connection);
    auto id = insert_queued_run(tx, run, where.logical_time, std::nullopt);
    // Wakes listening schedulers on commit (store/event_listener.h).
    if (id) tx.exec("SELECT pg_notify('twinflow_events', 'queued')");
    tx.commit();
    return id;
  });
}

std::optional<RunRecord> RunQueue::claim_queued_run(const std::string& host, int pid) {
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

int RunQueue::active_runs(const std::string& pipeline) {
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

std::optional<int64_t> RunQueue::last_logical_time(const std::string& pipeline) {
  return impl_->durable("last_logical_time", [&]() -> std::optional<int64_t> {
    pqxx::nontransaction tx(impl_->connection);
    auto row = tx.exec_params1(
        "SELECT extract(epoch from max(r.logical_time))::bigint FROM runs r "
        "JOIN pipelines p ON p.id = r.pipeline_id WHERE p.name = $1",
        pipeline);
    return optional_field<int64_t>(row[0]);
  });
}

std::vector<RunRecord> RunQueue::interrupted_runs_to_resume() {
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

std::optional<int64_t> RunQueue::enqueue_resume(const NewRun& rerun) {
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

void RunQueue::set_paused(const std::string& pipeline, bool paused) {
  pqxx::nontransaction tx(impl_->connection);
  if (paused)
    tx.exec_params("INSERT INTO pipeline_pauses (pipeline) VALUES ($1) ON CONFLICT DO NOTHING",
                   pipeline);
  else
    tx.exec_params("DELETE FROM pipeline_pauses WHERE pipeline = $1", pipeline);
}

bool RunQueue::is_paused(const std::string& pipeline) {
  return impl_->durable("is_paused", [&]() -> bool {
    pqxx::nontransaction tx(impl_->connection);
    return !tx.exec_params("SELECT 1 FROM pipeline_pauses WHERE pipeline = $1", pipeline).empty();
  });
}

int64_t RunQueue::register_scheduler(const std::string& host, int pid) {
  return impl_->durable("register_scheduler", [&]() -> int64_t {
    pqxx::nontransaction tx(impl_->connection);
    return tx
        .exec_params1("INSERT INTO schedulers (host, pid) VALUES ($1, $2) RETURNING id", host,
                      pid)[0]
        .as<int64_t>();
  });
}

void RunQueue::scheduler_heartbeat(int64_t scheduler_id) {
  return impl_->durable("scheduler_heartbeat", [&]() -> void {
    pqxx::nontransaction tx(impl_->connection);
    tx.exec_params("UPDATE schedulers SET heartbeat_at = now() WHERE id = $1", scheduler_id);
  });
}

void RunQueue::scheduler_stopped(int64_t scheduler_id) {
  return impl_->durable("scheduler_stopped", [&]() -> void {
    pqxx::nontransaction tx(impl_->connection);
    tx.exec_params("UPDATE schedulers SET stopped_at = now(), heartbeat_at = now() WHERE id = $1",
                   scheduler_id);
  });
}

// ---- Trigger batches (migrations/0013_trigger_batches.sql) ----

namespace {

// The events of a filter that a pipeline ($1) has not consumed: artifact
// versions of $2, or documents of platform $2 ('' = any). Each form keeps to
// its partial index on outbox_events.
std::string unconsumed_events_sql(const EventFilter& filter, const std::string& columns) {
  return "SELECT " + columns + " FROM outbox_events e WHERE " +
         (filter.documents ? std::string("e.kind = 'document' AND ($2 = '' OR e.platform = $2)")
                           : std::string("e.kind = 'artifact_version' AND e.artifact = $2")) +
         " AND NOT EXISTS (SELECT 1 FROM event_consumptions c WHERE c.pipeline = $1 "
         "AND c.event_id = e.id)";
}

const std::string& filter_value(const EventFilter& filter) {
  return filter.documents ? filter.platform : filter.artifact;
}

}  // namespace

PendingEvents RunQueue::pending_events(const std::string& pipeline, const EventFilter& filter) {
  return impl_->durable("pending_events", [&]() -> PendingEvents {
    pqxx::nontransaction tx(impl_->connection);
    // The producer of a document is the attempt that fetched it; of an
    // artifact version, the attempt that recorded it. Their run still running
    // means the batch may not be complete.
    const auto row = tx.exec_params1(
        "WITH pending AS (" +
            unconsumed_events_sql(filter,
                                  "e.id, e.created_at, e.document_id, "
                                  "e.artifact_version_id") +
            ") SELECT count(*)::int, "
            "coalesce(greatest(0, extract(epoch FROM now() - min(created_at)) * 1000)::bigint, 0), "
            "coalesce(greatest(0, extract(epoch FROM now() - max(created_at)) * 1000)::bigint, 0), "
            "coalesce(max(id), 0), "
            "EXISTS (SELECT 1 FROM pending q LEFT JOIN documents d ON d.id = q.document_id "
            "LEFT JOIN artifact_versions v ON v.id = q.artifact_version_id "
            "JOIN step_runs s ON s.id = coalesce(d.step_run_id, v.producer_step_run_id) "
            "JOIN runs r ON r.id = s.run_id WHERE r.status = 'running') "
            "FROM pending",
        pipeline, filter_value(filter));
    PendingEvents out;
    out.count = row[0].as<int>();
    out.oldest_age_ms = row[1].as<int64_t>();
    out.newest_age_ms = row[2].as<int64_t>();
    out.newest_event_id = row[3].as<int64_t>();
    out.producer_running = row[4].as<bool>();
    return out;
  });
}

std::optional<TriggeredRun> RunQueue::enqueue_triggered_run(const std::string& pipeline,
                                                            const std::vector<EventFilter>& filters,
                                                            const NewRun& run) {
  return impl_->durable("enqueue_triggered_run", [&]() -> std::optional<TriggeredRun> {
    pqxx::work tx(impl_->connection);
    // One scheduler decides for a pipeline at a time; the others skip it (it
    // is being taken care of), like FOR UPDATE SKIP LOCKED. Held to commit, so
    // the next one to take it sees the run this one queued.
    if (!tx.exec_params1("SELECT pg_try_advisory_xact_lock(hashtextextended("
                         "'twinflow.trigger.' || $1, 0))",
                         pipeline)[0]
             .as<bool>())
      return std::nullopt;
    if (!tx.exec_params("SELECT 1 FROM runs r JOIN pipelines p ON p.id = r.pipeline_id "
                        "WHERE p.name = $1 AND r.status IN ('queued', 'running') LIMIT 1",
                        pipeline)
             .empty())
      return std::nullopt;  // the events wait for the run after it
    const std::optional<int64_t> run_id = insert_queued_run(tx, run, std::nullopt, std::nullopt);
    if (!run_id) return std::nullopt;
    TriggeredRun out;
    out.run_id = *run_id;
    int64_t newest = 0;
    for (const EventFilter& filter : filters) {
      const auto taken =
          tx.exec_params("INSERT INTO event_consumptions (pipeline, event_id, run_id) " +
                             unconsumed_events_sql(filter, "$1, e.id, $3::bigint") +
                             " ON CONFLICT DO NOTHING RETURNING event_id",
                         pipeline, filter_value(filter), *run_id);
      out.events += static_cast<int>(taken.size());
      for (const auto& row : taken) newest = std::max(newest, row[0].as<int64_t>());
    }
    if (out.events == 0) return std::nullopt;  // rolled back: no run without events
    tx.exec_params("UPDATE runs SET event_id = $1 WHERE id = $2", newest, *run_id);
    tx.exec("SELECT pg_notify('twinflow_events', 'queued')");
    tx.commit();
    return out;
  });
}

std::vector<ConsumedEvent> RunQueue::run_events(int64_t run_id) {
  return impl_->durable("run_events", [&]() -> std::vector<ConsumedEvent> {
    pqxx::nontransaction tx(impl_->connection);
    std::vector<ConsumedEvent> out;
    for (const auto& row : tx.exec_params(
             "SELECT e.id, e.kind, e.created_at::text, c.consumed_at::text, e.artifact, "
             "e.version, e.artifact_version_id, e.document_id, d.version, e.platform, d.url, "
             "s.id, s.run_id "
             "FROM event_consumptions c JOIN outbox_events e ON e.id = c.event_id "
             "LEFT JOIN documents d ON d.id = e.document_id "
             "LEFT JOIN artifact_versions v ON v.id = e.artifact_version_id "
             "LEFT JOIN step_runs s ON s.id = coalesce(d.step_run_id, v.producer_step_run_id) "
             "WHERE c.run_id = $1 ORDER BY e.id",
             run_id)) {
      ConsumedEvent e;
      e.event_id = row[0].as<int64_t>();
      e.kind = row[1].as<std::string>();
      e.created_at = row[2].as<std::string>();
      e.consumed_at = row[3].as<std::string>();
      e.artifact = row[4].is_null() ? "" : row[4].as<std::string>();
      e.artifact_version_id = optional_field<int64_t>(row[6]).value_or(0);
      e.document_id = optional_field<int64_t>(row[7]).value_or(0);
      if (e.kind == "document")
        e.document_version = optional_field<int>(row[8]).value_or(0);
      else
        e.version = optional_field<int>(row[5]).value_or(0);
      e.platform = row[9].is_null() ? "" : row[9].as<std::string>();
      e.url = row[10].is_null() ? "" : row[10].as<std::string>();
      e.producer_step_run_id = optional_field<int64_t>(row[11]).value_or(0);
      e.producer_run_id = optional_field<int64_t>(row[12]).value_or(0);
      out.push_back(std::move(e));
    }
    return out;
  });
}

}  // namespace twinflow
