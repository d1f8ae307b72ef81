// Idempotent actions: one live rerun per run, and Idempotency-Key answers.
// See store.h ("idempotent actions") and migrations/0011_idempotency.sql.
#include "store/run_queue.h"
#include "store/store_impl.h"
#include "util/error.h"

namespace twinflow {

namespace {

// The advisory lock class of "queueing a rerun of run N" (any constant
// nobody else uses; the migrator's lock is a single bigint key).
constexpr int kRerunLockClass = 0x7466;  // "tf"

// A key whose first request has not answered for this long is taken over
// (its process died between claiming and completing).
constexpr int kAbandonedAfterSeconds = 300;

}  // namespace

RunQueue::QueuedRerun RunQueue::enqueue_rerun_once(const NewRun& run) {
  if (!run.parent_run_id) throw Error("enqueue_rerun_once: the run has no parent");
  const int64_t parent = *run.parent_run_id;
  // The lock spans the check and enqueue_run's own transaction, so it is a
  // session lock on this connection; it goes with the connection if that
  // breaks, and is released on every path below.
  const auto lock_key = static_cast<int>(parent & 0x7fffffff);
  {
    pqxx::nontransaction tx(impl_->connection);
    tx.exec_params("SELECT pg_advisory_lock($1, $2)", kRerunLockClass, lock_key);
  }
  auto unlock = [&] {
    try {
      pqxx::nontransaction tx(impl_->connection);
      tx.exec_params("SELECT pg_advisory_unlock($1, $2)", kRerunLockClass, lock_key);
    } catch (const std::exception&) {
      impl_->connection.drop();  // a lost connection has released it already
    }
  };
  try {
    QueuedRerun out;
    {
      pqxx::nontransaction tx(impl_->connection);
      const auto live = tx.exec_params(
          "SELECT id, status FROM runs WHERE parent_run_id = $1 "
          "AND status IN ('queued', 'running') ORDER BY id LIMIT 1",
          parent);
      if (!live.empty()) {
        out.run_id = live[0][0].as<int64_t>();
        out.status = live[0][1].as<std::string>();
      }
    }
    if (out.run_id == 0) {
      const auto id = enqueue_run(run, {});
      if (!id)
        throw Error("enqueue_rerun_once: the rerun of run " + std::to_string(parent) +
                    " was not queued");
      out = {*id, "queued", true};
    }
    unlock();
    return out;
  } catch (...) {
    unlock();
    throw;
  }
}

RunQueue::IdempotencyClaim RunQueue::claim_idempotency_key(const std::string& scope,
                                                           const std::string& key,
                                                           const std::string& fingerprint,
                                                           int ttl_hours) {
  return impl_->durable("claim_idempotency_key", [&]() -> IdempotencyClaim {
    pqxx::work tx(impl_->connection);
    tx.exec_params(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)",
        ttl_hours);
    IdempotencyClaim out;
    // The primary key decides between two requests with one key at once.
    if (!tx.exec_params("INSERT INTO idempotency_keys (scope, key, fingerprint) "
                        "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1",
                        scope, key, fingerprint)
             .empty()) {
      tx.commit();
      return out;
    }
    const auto row = tx.exec_params1(
        "SELECT fingerprint, status, coalesce(body, ''), "
        "created_at < now() - make_interval(secs => $3) FROM idempotency_keys "
        "WHERE scope = $1 AND key = $2 FOR UPDATE",
        scope, key, kAbandonedAfterSeconds);
    if (row[0].as<std::string>() != fingerprint) {
      out.state = IdempotencyClaim::kMismatch;
    } else if (!row[1].is_null()) {
      out.state = IdempotencyClaim::kReplay;
      out.status = row[1].as<int>();
      out.body = row[2].as<std::string>();
    } else if (row[3].as<bool>()) {
      tx.exec_params("UPDATE idempotency_keys SET created_at = now() WHERE scope = $1 AND key = $2",
                     scope, key);
    } else {
      out.state = IdempotencyClaim::kInProgress;
    }
    tx.commit();
    return out;
  });
}

void RunQueue::complete_idempotency_key(const std::string& scope, const std::string& key,
                                        int status, const std::string& body) {
  impl_->durable("complete_idempotency_key", [&] {
    pqxx::work tx(impl_->connection);
    tx.exec_params(
        "UPDATE idempotency_keys SET status = $3, body = $4 WHERE scope = $1 AND key = $2", scope,
        key, status, body);
    tx.commit();
  });
}

void RunQueue::release_idempotency_key(const std::string& scope, const std::string& key) {
  impl_->durable("release_idempotency_key", [&] {
    pqxx::work tx(impl_->connection);
    tx.exec_params("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL",
                   scope, key);
    tx.commit();
  });
}

}  // namespace twinflow
