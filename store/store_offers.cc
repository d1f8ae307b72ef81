// Shared steps: offers of ready steps, claims with SKIP LOCKED, the claimer's
// heartbeat and the owner's view. See store.h, store/offer_records.h and
// migrations/0009_step_offers.sql.
#include "store/run_queue.h"
#include "store/store_impl.h"

namespace twinflow {

namespace {

// The inputs recorded with an offer, in their order, with their versions.
std::vector<NamedVersion> offer_inputs(pqxx::transaction_base& tx, int64_t run_id,
                                       const std::string& step_id, int attempt) {
  auto rows = tx.exec_params(
      std::string("SELECT u.name, ") + kVersionColumns +
          " FROM step_offers o, unnest(o.input_names, o.input_version_ids) WITH ORDINALITY "
          "AS u(name, version_id, n) "
          "JOIN artifact_versions v ON v.id = u.version_id "
          "JOIN artifacts a ON a.id = v.artifact_id "
          "WHERE o.run_id = $1 AND o.step_id = $2 AND o.attempt = $3 ORDER BY u.n",
      run_id, step_id, attempt);
  std::vector<NamedVersion> inputs;
  for (const auto& row : rows) inputs.push_back({row[0].as<std::string>(), read_version(row, 1)});
  return inputs;
}

}  // namespace

void RunQueue::offer_steps(const std::vector<StepOffer>& offers) {
  if (offers.empty()) return;
  impl_->durable("offer_steps", [&]() -> void {
    pqxx::work tx(impl_->connection);
    for (const StepOffer& offer : offers) {
      std::vector<std::string> names;
      std::vector<int64_t> version_ids;
      for (const NamedVersion& input : offer.inputs) {
        names.push_back(input.name);
        version_ids.push_back(input.version.id);
      }
      tx.exec_params(
          "INSERT INTO step_offers (run_id, step_id, attempt, interruptions, executor, "
          "cache_key, input_names, input_version_ids) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8::bigint[]) "
          // A repeat after a commit whose acknowledgement was lost changes nothing.
          "ON CONFLICT (run_id, step_id, attempt) DO NOTHING",
          offer.run_id, offer.step_id, offer.attempt, offer.interruptions, offer.executor,
          offer.cache_key, to_pg_text_array(names), to_pg_bigint_array(version_ids));
    }
    // Idle schedulers wake for it (one notification per transaction).
    tx.exec("SELECT pg_notify('twinflow_events', 'step_offer')");
    tx.commit();
  });
}

std::optional<StepOffer> RunQueue::claim_step_offer(const std::string& claimer,
                                                    std::optional<int64_t> run_id) {
  // Not durable: a claim whose acknowledgement was lost must not claim a
  // second offer. The first one's heartbeat goes stale and its owner retries it.
  try {
    return claim_step_offer_once(claimer, run_id);
  } catch (const std::exception& e) {
    if (!is_connection_loss(e)) throw;
    impl_->connection.drop();
    return std::nullopt;
  }
}

std::optional<StepOffer> RunQueue::claim_step_offer_once(const std::string& claimer,
                                                         std::optional<int64_t> run_id) {
  pqxx::work tx(impl_->connection);
  auto rows = tx.exec_params(
      "UPDATE step_offers o SET claimed_by = $1, claimed_at = now(), heartbeat_at = now() "
      "FROM (SELECT c.run_id, c.step_id, c.attempt FROM step_offers c "
      "      JOIN runs r ON r.id = c.run_id "
      "      WHERE c.claimed_by IS NULL AND NOT c.revoked AND r.status = 'running' "
      "        AND NOT r.cancel_requested "
      // The owner takes back its own run's offers; a helper helps other
      // schedulers' runs only (this scheduler's own are bound by its --jobs).
      "        AND CASE WHEN $2::bigint IS NULL THEN r.host || ':' || r.pid <> $1 "
      "                 ELSE c.run_id = $2 END "
      "      ORDER BY c.offered_at LIMIT 1 FOR UPDATE OF c SKIP LOCKED) picked "
      "WHERE o.run_id = picked.run_id AND o.step_id = picked.step_id "
      "AND o.attempt = picked.attempt "
      "RETURNING o.run_id, o.step_id, o.attempt, o.interruptions, o.executor, o.cache_key",
      claimer, run_id);
  if (rows.empty()) return std::nullopt;
  const auto& row = rows[0];
  StepOffer offer;
  offer.run_id = row[0].as<int64_t>();
  offer.step_id = row[1].as<std::string>();
  offer.attempt = row[2].as<int>();
  offer.interruptions = row[3].as<int>();
  offer.executor = row[4].as<std::string>();
  offer.cache_key = row[5].as<std::string>();
  offer.inputs = offer_inputs(tx, offer.run_id, offer.step_id, offer.attempt);
  tx.commit();
  return offer;
}

std::optional<int64_t> RunQueue::start_claimed_attempt(const StepOffer& claim,
                                                       const std::string& claimer,
                                                       const std::string& host, int pid,
                                                       const std::string& log_path,
                                                       int64_t pid_start) {
  return impl_->durable("start_claimed_attempt", [&]() -> std::optional<int64_t> {
    pqxx::work tx(impl_->connection);
    // The claim row is locked: an owner revoking it waits, then sees the attempt.
    auto valid = tx.exec_params(
        "SELECT 1 FROM step_offers o JOIN runs r ON r.id = o.run_id "
        "WHERE o.run_id = $1 AND o.step_id = $2 AND o.attempt = $3 AND o.claimed_by = $4 "
        "AND NOT o.revoked AND NOT o.cancel_requested AND r.status = 'running' "
        "FOR UPDATE OF o",
        claim.run_id, claim.step_id, claim.attempt, claimer);
    if (valid.empty()) return std::nullopt;
    const int64_t id = insert_running_attempt(tx, claim.run_id, claim.step_id, claim.attempt, host,
                                              pid, log_path, claim.cache_key, pid_start);
    tx.exec_params(
        "UPDATE step_offers SET step_run_id = $4 "
        "WHERE run_id = $1 AND step_id = $2 AND attempt = $3",
        claim.run_id, claim.step_id, claim.attempt, id);
    tx.commit();
    return id;
  });
}

bool RunQueue::heartbeat_claim(const StepOffer& claim, const std::string& claimer) {
  return impl_->durable("heartbeat_claim", [&]() -> bool {
    pqxx::nontransaction tx(impl_->connection);  // one statement: its own transaction
    return tx
        .exec_params1(
            "WITH o AS (UPDATE step_offers SET heartbeat_at = now() "
            "  WHERE run_id = $1 AND step_id = $2 AND attempt = $3 AND claimed_by = $4 "
            "  AND NOT revoked RETURNING cancel_requested, step_run_id), "
            "s AS (UPDATE step_runs SET heartbeat_at = now() "
            "  WHERE id = (SELECT step_run_id FROM o) AND status = 'running') "
            // Stop when the claim was revoked, the owner cancels, or the run ended.
            "SELECT coalesce((SELECT o.cancel_requested OR r.cancel_requested "
            "  OR r.status <> 'running' FROM o, runs r WHERE r.id = $1), true)",
            claim.run_id, claim.step_id, claim.attempt, claimer)[0]
        .as<bool>();
  });
}

std::vector<ClaimedOffer> RunQueue::claimed_offers(int64_t run_id, int stale_after_seconds) {
  return impl_->durable("claimed_offers", [&]() -> std::vector<ClaimedOffer> {
    pqxx::nontransaction tx(impl_->connection);
    auto rows = tx.exec_params(
        "SELECT o.step_id, o.attempt, o.claimed_by, o.step_run_id, coalesce(s.log_path, ''), "
        "coalesce(s.status, ''), s.exit_code, s.signal, coalesce(s.error, ''), "
        "o.revoked OR greatest(o.heartbeat_at, pg_postmaster_start_time()) < "
        "now() - make_interval(secs => $2) "
        "FROM step_offers o LEFT JOIN step_runs s ON s.id = o.step_run_id "
        "WHERE o.run_id = $1 AND NOT o.settled AND o.claimed_by IS NOT NULL "
        "ORDER BY o.claimed_at",
        run_id, stale_after_seconds);
    std::vector<ClaimedOffer> out;
    for (const auto& row : rows) {
      ClaimedOffer c;
      c.step_id = row[0].as<std::string>();
      c.attempt = row[1].as<int>();
      c.claimed_by = row[2].as<std::string>();
      c.step_run_id = optional_field<int64_t>(row[3]);
      c.log_path = row[4].as<std::string>();
      c.attempt_status = row[5].as<std::string>();
      c.exit_code = optional_field<int>(row[6]);
      c.signal = optional_field<int>(row[7]);
      c.error = row[8].as<std::string>();
      c.stale = row[9].as<bool>();
      out.push_back(std::move(c));
    }
    return out;
  });
}

void RunQueue::settle_offer(int64_t run_id, const std::string& step_id, int attempt) {
  impl_->durable("settle_offer", [&]() -> void {
    pqxx::nontransaction tx(impl_->connection);
    tx.exec_params(
        "UPDATE step_offers SET settled = true "
        "WHERE run_id = $1 AND step_id = $2 AND attempt = $3",
        run_id, step_id, attempt);
  });
}

RunQueue::RevokedClaim RunQueue::revoke_stale_claim(int64_t run_id, const std::string& step_id,
                                                    int attempt, int stale_after_seconds,
                                                    bool even_if_fresh) {
  return impl_->durable("revoke_stale_claim", [&]() -> RevokedClaim {
    pqxx::nontransaction tx(impl_->connection);  // one statement: its own transaction
    // `revoked OR`: a repeat after a lost acknowledgement finds it revoked.
    // An attempt that already ended is not revoked: its result stands.
    auto rows = tx.exec_params(
        "UPDATE step_offers o SET revoked = true "
        "WHERE run_id = $1 AND step_id = $2 AND attempt = $3 AND NOT settled "
        "AND claimed_by IS NOT NULL "
        "AND (revoked OR greatest(heartbeat_at, pg_postmaster_start_time()) < "
        "now() - make_interval(secs => $4) "
        "     OR ($5 AND step_run_id IS NULL)) "
        "AND (step_run_id IS NULL OR "
        "     (SELECT status FROM step_runs WHERE id = o.step_run_id) = 'running') "
        "RETURNING step_run_id",
        run_id, step_id, attempt, stale_after_seconds, even_if_fresh);
    if (rows.empty()) return RevokedClaim{};
    return RevokedClaim{true, optional_field<int64_t>(rows[0][0])};
  });
}

bool RunQueue::other_schedulers_alive(const std::string& claimer, int within_seconds) {
  return impl_->durable("other_schedulers_alive", [&]() -> bool {
    pqxx::nontransaction tx(impl_->connection);
    return tx
        .exec_params1(
            "SELECT EXISTS (SELECT 1 FROM schedulers WHERE stopped_at IS NULL "
            "AND heartbeat_at > now() - make_interval(secs => $2) "
            "AND host || ':' || pid <> $1)",
            claimer, within_seconds)[0]
        .as<bool>();
  });
}

std::vector<std::pair<std::string, int>> RunQueue::withdraw_offers(int64_t run_id) {
  return impl_->durable("withdraw_offers", [&]() -> std::vector<std::pair<std::string, int>> {
    pqxx::work tx(impl_->connection);
    tx.exec_params(
        "UPDATE step_offers SET cancel_requested = true "
        "WHERE run_id = $1 AND claimed_by IS NOT NULL AND NOT settled",
        run_id);
    // Every offer nobody claimed, withdrawn now or by an earlier call whose
    // acknowledgement was lost.
    auto rows = tx.exec_params(
        "UPDATE step_offers SET revoked = true, settled = true "
        "WHERE run_id = $1 AND claimed_by IS NULL RETURNING step_id, attempt",
        run_id);
    tx.commit();
    std::vector<std::pair<std::string, int>> withdrawn;
    for (const auto& row : rows) withdrawn.emplace_back(row[0].as<std::string>(), row[1].as<int>());
    return withdrawn;
  });
}

int RunQueue::revoke_claims_of_dead_schedulers(const std::string& host,
                                               const std::function<bool(int pid)>& is_dead) {
  return impl_->durable("revoke_claims_of_dead_schedulers", [&]() -> int {
    pqxx::nontransaction tx(impl_->connection);
    // Dead schedulers of this host are recorded stopped: nobody offers them steps.
    std::vector<int64_t> dead_ids;
    for (const auto& row : tx.exec_params(
             "SELECT id, pid FROM schedulers WHERE host = $1 AND stopped_at IS NULL", host))
      if (is_dead(row[1].as<int>())) dead_ids.push_back(row[0].as<int64_t>());
    if (!dead_ids.empty())
      tx.exec_params("UPDATE schedulers SET stopped_at = now() WHERE id = ANY($1::bigint[])",
                     to_pg_bigint_array(dead_ids));
    const std::string prefix = host + ":";
    std::vector<std::string> dead;
    for (const auto& row :
         tx.exec_params("SELECT DISTINCT claimed_by FROM step_offers "
                        "WHERE NOT settled AND NOT revoked AND starts_with(claimed_by, $1)",
                        prefix)) {
      const std::string claimer = row[0].as<std::string>();
      const std::string pid = claimer.substr(prefix.size());
      if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos || pid.size() > 9)
        continue;
      if (is_dead(std::stoi(pid))) dead.push_back(claimer);
    }
    if (dead.empty()) return 0;
    // As revoke_stale_claim: an attempt that already ended keeps its result.
    return tx
        .exec_params(
            "UPDATE step_offers o SET revoked = true "
            "WHERE claimed_by = ANY($1::text[]) AND NOT settled AND NOT revoked "
            "AND (step_run_id IS NULL OR "
            "     (SELECT status FROM step_runs WHERE id = o.step_run_id) = 'running') "
            "RETURNING 1",
            to_pg_text_array(dead))
        .affected_rows();
  });
}

}  // namespace twinflow
