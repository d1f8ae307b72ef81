// Slurm step runs: the job id of an attempt, and re-attaching a resuming run
// to the jobs of the run it resumes. See store.h and migrations/0007_slurm.sql.
#include "store/run_ledger.h"
#include "store/store_impl.h"

namespace twinflow {

void RunLedger::set_slurm_job_id(int64_t step_run_id, const std::string& job_id) {
  return impl_->durable("set_slurm_job_id", [&]() -> void {
    pqxx::nontransaction tx(impl_->connection);
    tx.exec_params("UPDATE step_runs SET slurm_job_id = $2 WHERE id = $1", step_run_id, job_id);
  });
}

std::optional<std::string> RunLedger::slurm_job_id(int64_t step_run_id) {
  return impl_->durable("slurm_job_id", [&]() -> std::optional<std::string> {
    pqxx::nontransaction tx(impl_->connection);
    auto rows = tx.exec_params("SELECT slurm_job_id FROM step_runs WHERE id = $1", step_run_id);
    if (rows.empty() || rows[0][0].is_null()) return std::nullopt;
    return rows[0][0].as<std::string>();
  });
}

std::optional<RunLedger::SlurmAttempt> RunLedger::adoptable_slurm_attempt(
    int64_t run_id, const std::string& step_id) {
  return impl_->durable("adoptable_slurm_attempt", [&]() -> std::optional<RunLedger::SlurmAttempt> {
    pqxx::nontransaction tx(impl_->connection);
    // The run and, through parent_run_id, the interrupted runs it descends
    // from: a resumed run that was itself interrupted hands its jobs on.
    auto rows = tx.exec_params(
        "WITH RECURSIVE lineage(id, depth) AS ("
        "  SELECT id, 0 FROM runs WHERE id = $1"
        "  UNION ALL"
        "  SELECT r.parent_run_id, l.depth + 1 FROM lineage l JOIN runs r ON r.id = l.id"
        "  WHERE r.parent_run_id IS NOT NULL AND l.depth < 100"
        "    AND (SELECT status FROM runs WHERE id = r.parent_run_id) = 'interrupted') "
        "SELECT s.id, s.run_id, s.attempt, s.slurm_job_id, coalesce(s.log_path, '') "
        "FROM step_runs s JOIN lineage l ON s.run_id = l.id "
        "WHERE s.step_id = $2 AND s.slurm_job_id IS NOT NULL AND s.status = 'interrupted' "
        "AND s.adopted_by IS NULL "
        "ORDER BY l.depth, s.attempt DESC LIMIT 1",
        run_id, step_id);
    if (rows.empty()) return std::nullopt;
    const auto& row = rows[0];
    return SlurmAttempt{row[0].as<int64_t>(), row[1].as<int64_t>(), row[2].as<int>(),
                        row[3].as<std::string>(), row[4].as<std::string>()};
  });
}

bool RunLedger::adopt_slurm_attempt(int64_t from_step_run_id, int64_t to_step_run_id) {
  return impl_->durable("adopt_slurm_attempt", [&]() -> bool {
    pqxx::work tx(impl_->connection);
    auto taken = tx.exec_params(
        // `OR adopted_by = $2`: a repeat after a lost acknowledgement adopts again.
        "UPDATE step_runs SET adopted_by = $2 WHERE id = $1 "
        "AND (adopted_by IS NULL OR adopted_by = $2) "
        "AND status = 'interrupted' RETURNING slurm_job_id",
        from_step_run_id, to_step_run_id);
    if (taken.empty()) return false;
    tx.exec_params("UPDATE step_runs SET slurm_job_id = $2 WHERE id = $1", to_step_run_id,
                   taken[0][0].as<std::string>());
    tx.commit();
    return true;
  });
}

void RunLedger::close_slurm_attempt(int64_t step_run_id) {
  return impl_->durable("close_slurm_attempt", [&]() -> void {
    pqxx::nontransaction tx(impl_->connection);
    tx.exec_params("UPDATE step_runs SET adopted_by = id WHERE id = $1 AND adopted_by IS NULL",
                   step_run_id);
  });
}

}  // namespace twinflow
