// Store: runs, the steps of a run, and their attempts.
#include <signal.h>

#include "store/run_ledger.h"
#include "store/store_impl.h"
#include "util/error.h"

namespace twinflow {

int64_t record_pipeline(pqxx::work& tx, const NewRun& run) {
  tx.exec_params(
      "INSERT INTO dag_snapshots (content_hash, content) VALUES ($1, $2) "
      "ON CONFLICT (content_hash) DO NOTHING",
      run.dag_hash, run.dag_content);
  return tx
      .exec_params1(
          "INSERT INTO pipelines (name, dag_file, dag_hash) VALUES ($1, $2, $3) "
          "ON CONFLICT (name) DO UPDATE SET dag_file = EXCLUDED.dag_file, "
          "dag_hash = EXCLUDED.dag_hash, updated_at = now() RETURNING id",
          run.pipeline, run.dag_file, run.dag_hash)[0]
      .as<int64_t>();
}

int64_t RunLedger::create_run(const NewRun& run) {
  pqxx::work tx(impl_->connection);
  const int64_t pipeline_id = record_pipeline(tx, run);
  auto run_id =
      tx.exec_params1(
            "INSERT INTO runs (pipeline_id, dag_hash, dag_file, parent_run_id, trigger, params, "
            "status, host, pid, heartbeat_at, started_at) "
            "VALUES ($1, $2, $3, $4, $5, $6::jsonb, 'running', $7, $8, now(), now()) RETURNING id",
            pipeline_id, run.dag_hash, run.dag_file, run.parent_run_id, run.trigger,
            run.params.dump(), run.host, run.pid)[0]
          .as<int64_t>();
  tx.exec_params(
      "INSERT INTO run_steps (run_id, step_id, status) "
      "SELECT $1, unnest($2::text[]), 'pending'",
      run_id, to_pg_text_array(run.step_ids));
  tx.commit();
  return run_id;
}

std::optional<RunRecord> RunLedger::find_run(int64_t run_id) {
  return impl_->durable("find_run", [&]() -> std::optional<RunRecord> {
    pqxx::nontransaction tx(impl_->connection);
    auto rows = tx.exec_params(std::string("SELECT ") + kRunColumns +
                                   " FROM runs r JOIN pipelines p ON p.id = r.pipeline_id "
                                   "WHERE r.id = $1",
                               run_id);
    if (rows.empty()) return std::nullopt;
    return read_run(rows[0]);
  });
}

std::vector<RunRecord> RunLedger::list_runs(const RunFilter& filter) {
  pqxx::nontransaction tx(impl_->connection);
  // Empty filters match everything; a NULL-tolerant form keeps one statement.
  auto rows = tx.exec_params(std::string("SELECT ") + kRunColumns +
                                 " FROM runs r JOIN pipelines p ON p.id = r.pipeline_id "
                                 "WHERE ($1 = '' OR p.name = $1) AND ($2 = '' OR r.status = $2) "
                                 "AND ($3 = '' OR r.trigger = $3) AND ($4 = 0 OR r.id < $4) "
                                 "ORDER BY r.id DESC LIMIT $5",
                             filter.pipeline, filter.status, filter.trigger, filter.before_id,
                             filter.limit);
  std::vector<RunRecord> runs;
  for (const auto& row : rows) runs.push_back(read_run(row));
  return runs;
}

std::vector<RunStepRecord> RunLedger::run_steps(int64_t run_id) {
  return impl_->durable("run_steps", [&]() -> std::vector<RunStepRecord> {
    pqxx::nontransaction tx(impl_->connection);
    auto rows = tx.exec_params(
        "SELECT step_id, status, attempts, result_step_run_id, started_at::text, "
        "finished_at::text, extract(epoch from coalesce(finished_at, now()) - started_at) "
        "FROM run_steps WHERE run_id = $1 ORDER BY started_at NULLS LAST, step_id",
        run_id);
    std::vector<RunStepRecord> steps;
    for (const auto& row : rows) {
      RunStepRecord s;
      s.step_id = row[0].as<std::string>();
      s.status = row[1].as<std::string>();
      s.attempts = row[2].as<int>();
      s.result_step_run_id = optional_field<int64_t>(row[3]);
      s.started_at = text_field(row[4]);
      s.finished_at = text_field(row[5]);
      s.duration_seconds = optional_field<double>(row[6]).value_or(0);
      steps.push_back(s);
    }
    return steps;
  });
}

std::vector<StepRunRecord> RunLedger::step_runs(int64_t run_id) {
  return impl_->durable("step_runs", [&]() -> std::vector<StepRunRecord> {
    pqxx::nontransaction tx(impl_->connection);
    auto rows = tx.exec_params(std::string("SELECT ") + kStepRunColumns +
                                   " FROM step_runs s WHERE s.run_id = $1 ORDER BY s.id",
                               run_id);
    std::vector<StepRunRecord> out;
    for (const auto& row : rows) out.push_back(read_step_run(row));
    return out;
  });
}

std::optional<StepRunRecord> RunLedger::find_step_run(int64_t run_id, const std::string& step_id,
                                                      int attempt) {
  pqxx::nontransaction tx(impl_->connection);
  // attempt 0 means the latest attempt.
  auto rows = tx.exec_params(std::string("SELECT ") + kStepRunColumns +
                                 " FROM step_runs s WHERE s.run_id = $1 AND s.step_id = $2 "
                                 "AND ($3 = 0 OR s.attempt = $3) ORDER BY s.attempt DESC LIMIT 1",
                             run_id, step_id, attempt);
  if (rows.empty()) return std::nullopt;
  return read_step_run(rows[0]);
}

std::string RunLedger::dag_content(const std::string& dag_hash) {
  return impl_->durable("dag_content", [&]() -> std::string {
    pqxx::nontransaction tx(impl_->connection);
    auto rows =
        tx.exec_params("SELECT content FROM dag_snapshots WHERE content_hash = $1", dag_hash);
    if (rows.empty()) throw Error("no DAG snapshot with hash " + dag_hash);
    return rows[0][0].as<std::string>();
  });
}

int64_t RunLedger::start_attempt(int64_t run_id, const std::string& step_id, int attempt,
                                 const std::string& host, int pid, const std::string& log_path,
                                 const std::string& cache_key, int64_t pid_start) {
  return impl_->durable("start_attempt", [&]() -> int64_t {
    pqxx::nontransaction tx(impl_->connection);  // one statement: its own transaction
    return insert_running_attempt(tx, run_id, step_id, attempt, host, pid, log_path, cache_key,
                                  pid_start);
  });
}

int64_t insert_running_attempt(pqxx::transaction_base& tx, int64_t run_id,
                               const std::string& step_id, int attempt, const std::string& host,
                               int pid, const std::string& log_path, const std::string& cache_key,
                               int64_t pid_start) {
  return tx
      .exec_params1(
          "WITH s AS (UPDATE run_steps SET status = 'running', attempts = $3, "
          "started_at = coalesce(started_at, now()) WHERE run_id = $1 AND step_id = $2) "
          "INSERT INTO step_runs (run_id, step_id, attempt, status, host, pid, "
          "heartbeat_at, log_path, cache_key, pid_start) "
          "VALUES ($1, $2, $3, 'running', $4, $5, now(), $6, nullif($7, ''), nullif($8, 0)) "
          // A repeat after a commit whose acknowledgement was lost finds its row.
          "ON CONFLICT (run_id, step_id, attempt) DO UPDATE SET pid = EXCLUDED.pid, "
          "pid_start = EXCLUDED.pid_start "
          "RETURNING id",
          run_id, step_id, attempt, host, pid, log_path, cache_key, pid_start)[0]
      .as<int64_t>();
}

void RunLedger::end_attempt_unsuccessfully(int64_t run_id, const std::string& step_id,
                                           int64_t step_run_id, const AttemptEnd& end,
                                           const std::string& step_state) {
  return impl_->durable("end_attempt_unsuccessfully", [&]() -> void {
    pqxx::nontransaction tx(impl_->connection);  // one statement: its own transaction
    bool final = step_state != step_status::kRetrying;
    tx.exec_params(
        // Only a running attempt ends: a repeat finds it ended, and a zombie
        // whose attempt was recorded interrupted (stale heartbeat) and taken
        // over changes nothing.
        "WITH a AS (UPDATE step_runs SET status = $4, exit_code = $5, signal = $6, "
        "error = nullif($7, ''), finished_at = now() WHERE id = $3 AND status = 'running' "
        "RETURNING 1) "
        "UPDATE run_steps SET status = $8, finished_at = CASE WHEN $9 THEN now() END "
        "WHERE run_id = $1 AND step_id = $2 AND EXISTS (SELECT 1 FROM a)",
        run_id, step_id, step_run_id, end.status, end.exit_code, end.signal, end.error, step_state,
        final);
  });
}

void RunLedger::set_steps_status(int64_t run_id, const std::vector<std::string>& step_ids,
                                 const std::string& status,
                                 const std::vector<int64_t>& result_step_run_ids) {
  return impl_->durable("set_steps_status", [&]() -> void {
    if (step_ids.empty()) return;
    pqxx::nontransaction tx(impl_->connection);  // one statement
    if (result_step_run_ids.empty()) {
      // Only while the run is running: not in a run taken over from this process.
      tx.exec_params(
          "UPDATE run_steps SET status = $3, finished_at = now() "
          "WHERE run_id = $1 AND step_id = ANY($2::text[]) "
          "AND EXISTS (SELECT 1 FROM runs WHERE id = $1 AND status = 'running')",
          run_id, to_pg_text_array(step_ids), status);
    } else {
      if (result_step_run_ids.size() != step_ids.size())
        throw Error("set_steps_status: one result step run per step is needed");
      tx.exec_params(
          "UPDATE run_steps rs SET status = $4, result_step_run_id = u.result, finished_at = now() "
          "FROM unnest($2::text[], $3::bigint[]) AS u(step_id, result) "
          "WHERE rs.run_id = $1 AND rs.step_id = u.step_id",
          run_id, to_pg_text_array(step_ids), to_pg_bigint_array(result_step_run_ids), status);
    }
  });
}

void RunLedger::finish_run(int64_t run_id, const std::string& status, const std::string& error) {
  return impl_->durable("finish_run", [&]() -> void {
    pqxx::nontransaction tx(impl_->connection);  // one statement
    tx.exec_params(
        "UPDATE runs SET status = $2, error = nullif($3, ''), finished_at = now(), "
        "heartbeat_at = now() WHERE id = $1 AND status = 'running'",
        run_id, status, error);
  });
}

bool RunLedger::heartbeat(int64_t run_id) {
  return impl_->durable("heartbeat", [&]() -> bool {
    pqxx::nontransaction tx(impl_->connection);  // one statement: its own transaction
    return tx
        .exec_params1(
            "WITH s AS (UPDATE step_runs SET heartbeat_at = now() "
            "WHERE run_id = $1 AND status = 'running' "
            "AND EXISTS (SELECT 1 FROM runs WHERE id = $1 AND status = 'running')), "
            "r AS (UPDATE runs SET heartbeat_at = now() WHERE id = $1 AND status = 'running' "
            "RETURNING cancel_requested) "
            // A run no longer running was taken from this process: it must stop.
            "SELECT coalesce((SELECT cancel_requested FROM r), true)",
            run_id)[0]
        .as<bool>();
  });
}

bool RunLedger::request_cancel(int64_t run_id) {
  pqxx::work tx(impl_->connection);
  auto rows = tx.exec_params(
      "UPDATE runs SET cancel_requested = true WHERE id = $1 "
      "AND status IN ('queued', 'running') RETURNING id",
      run_id);
  tx.commit();
  return !rows.empty();
}

namespace {

// Records the runs `ids` (a bigint[] literal) interrupted, with their running
// attempts and unfinished steps, in `tx`. Returns the attempts it closed, as
// `columns` of step_runs `s`.
pqxx::result interrupt_runs(pqxx::work& tx, const std::string& ids, const char* columns) {
  pqxx::result attempts =
      tx.exec_params(std::string("UPDATE step_runs s SET status = 'interrupted', "
                                 "finished_at = now(), error = 'the twinflow process running "
                                 "this step stopped' WHERE s.run_id = ANY($1::bigint[]) AND "
                                 "s.status = 'running' RETURNING ") +
                         columns,
                     ids);
  tx.exec_params(
      "UPDATE run_steps SET status = 'interrupted', finished_at = now() "
      "WHERE run_id = ANY($1::bigint[]) AND status IN ('running', 'retrying')",
      ids);
  tx.exec_params(
      "UPDATE runs SET status = 'interrupted', finished_at = now(), "
      "error = 'the twinflow process running this run stopped without finishing it' "
      "WHERE id = ANY($1::bigint[])",
      ids);
  return attempts;
}

}  // namespace

std::vector<StepRunRecord> RunLedger::reap_interrupted_runs(
    const std::string& host, const std::function<bool(int)>& is_alive, int stale_after_seconds) {
  return impl_->durable("reap_interrupted_runs", [&]() -> std::vector<StepRunRecord> {
    pqxx::work tx(impl_->connection);
    std::vector<int64_t> dead;
    auto candidates = tx.exec_params(
        "SELECT id, host, pid, greatest(heartbeat_at, pg_postmaster_start_time()) < "
        "now() - make_interval(secs => $1) FROM runs "
        "WHERE status = 'running' FOR UPDATE SKIP LOCKED",
        stale_after_seconds);
    for (const auto& row : candidates) {
      bool same_host = text_field(row[1]) == host;
      int pid = optional_field<int>(row[2]).value_or(0);
      bool stale = optional_field<bool>(row[3]).value_or(false);
      if ((same_host && pid > 0 && !is_alive(pid)) || stale) dead.push_back(row[0].as<int64_t>());
    }
    std::vector<StepRunRecord> orphans;
    if (dead.empty()) return orphans;
    auto ids = to_pg_bigint_array(dead);
    for (const auto& row : interrupt_runs(tx, ids, kStepRunColumns))
      orphans.push_back(read_step_run(row));
    tx.commit();
    return orphans;
  });
}

// --- Owners and their processes (migrations/0010_owner_identity.sql) ----------

namespace {

constexpr const char* kAttemptProcessColumns =
    "s.id, s.run_id, s.step_id, coalesce(s.host, ''), coalesce(s.pid, 0), "
    "coalesce(s.pid_start, 0)";

RunLedger::AttemptProcess read_attempt_process(const pqxx::row& row) {
  RunLedger::AttemptProcess p;
  p.step_run_id = row[0].as<int64_t>();
  p.run_id = row[1].as<int64_t>();
  p.step_id = row[2].as<std::string>();
  p.host = row[3].as<std::string>();
  p.pid = row[4].as<int>();
  p.pid_start = row[5].as<int64_t>();
  return p;
}

}  // namespace

void RunLedger::record_run_owner(int64_t run_id, const std::string& host, int pid,
                                 int64_t pid_start) {
  impl_->durable("record_run_owner", [&]() -> void {
    pqxx::nontransaction tx(impl_->connection);  // one statement
    tx.exec_params(
        // Only for the process recorded as its owner (a test may record another).
        "UPDATE runs SET pid_start = nullif($4, 0), heartbeat_at = now() "
        "WHERE id = $1 AND status = 'running' AND host = $2 AND pid = $3",
        run_id, host, pid, pid_start);
  });
}

std::optional<RunLedger::AttemptProcess> RunLedger::attempt_process(int64_t step_run_id) {
  return impl_->durable("attempt_process", [&]() -> std::optional<AttemptProcess> {
    pqxx::nontransaction tx(impl_->connection);
    auto rows = tx.exec_params(
        std::string("SELECT ") + kAttemptProcessColumns + " FROM step_runs s WHERE s.id = $1",
        step_run_id);
    if (rows.empty()) return std::nullopt;
    return read_attempt_process(rows[0]);
  });
}

std::vector<RunLedger::AttemptProcess> RunLedger::attempt_processes_of_run(int64_t run_id) {
  return impl_->durable("attempt_processes_of_run", [&]() -> std::vector<AttemptProcess> {
    pqxx::nontransaction tx(impl_->connection);
    std::vector<AttemptProcess> out;
    for (const auto& row : tx.exec_params(std::string("SELECT ") + kAttemptProcessColumns +
                                              " FROM step_runs s WHERE s.run_id = $1 "
                                              "AND s.pid > 0 ORDER BY s.id",
                                          run_id))
      out.push_back(read_attempt_process(row));
    return out;
  });
}

std::vector<RunLedger::AttemptProcess> RunLedger::reap_dead_owners(const ReapRequest& request) {
  return impl_->durable("reap_dead_owners", [&]() -> std::vector<AttemptProcess> {
    pqxx::work tx(impl_->connection);
    std::vector<int64_t> dead;
    // The heartbeat is judged from the server's start at the earliest: while
    // it was down, nobody could write one.
    auto candidates = tx.exec_params(
        "SELECT id, coalesce(host, ''), coalesce(pid, 0), coalesce(pid_start, 0), "
        "greatest(heartbeat_at, pg_postmaster_start_time()) < now() - make_interval(secs => $1) "
        "FROM runs WHERE status = 'running' FOR UPDATE SKIP LOCKED",
        request.stale_after_seconds);
    for (const auto& row : candidates) {
      const bool stale = optional_field<bool>(row[4]).value_or(false);
      const int pid = row[2].as<int>();
      bool is_dead = stale;
      if (row[1].as<std::string>() == request.host && pid > 0) {
        switch (request.owner_liveness(pid, row[3].as<int64_t>())) {
          case OwnerLiveness::kDead:
            is_dead = true;
            break;
          case OwnerLiveness::kFrozen:
            is_dead = stale;
            break;
          case OwnerLiveness::kAlive:
            is_dead = false;  // however stale: it is there, it will write again
            break;
        }
      }
      if (is_dead) dead.push_back(row[0].as<int64_t>());
    }
    std::vector<AttemptProcess> orphans;
    if (dead.empty()) return orphans;
    const std::string ids = to_pg_bigint_array(dead);
    for (const auto& row : interrupt_runs(tx, ids, kAttemptProcessColumns))
      orphans.push_back(read_attempt_process(row));
    tx.commit();
    return orphans;
  });
}

}  // namespace twinflow
