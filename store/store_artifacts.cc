// Store: artifacts and their versions, lineage edges, and the step cache.
#include <filesystem>

#include "store/run_ledger.h"
#include "store/store_impl.h"
#include "util/error.h"

namespace twinflow {
namespace {

void add_edges(pqxx::work& tx, int64_t step_run_id, const char* direction,
               const std::vector<NamedVersion>& versions) {
  for (const auto& named : versions)
    tx.exec_params(
        "INSERT INTO lineage_edges (step_run_id, artifact_version_id, direction, name) "
        "VALUES ($1, $2, $3, $4)",
        step_run_id, named.version.id, direction, named.name);
}

std::vector<NamedVersion> read_named_versions(const pqxx::result& rows) {
  std::vector<NamedVersion> out;
  for (const auto& row : rows) out.push_back({row[0].as<std::string>(), read_version(row, 1)});
  return out;
}

const std::string kOutputsOfStepRun =
    std::string("SELECT e.name, ") + kVersionColumns +
    " FROM lineage_edges e JOIN artifact_versions v ON v.id = e.artifact_version_id "
    "JOIN artifacts a ON a.id = v.artifact_id "
    "WHERE e.step_run_id = $1 AND e.direction = 'output' ORDER BY e.name";

}  // namespace

std::vector<NamedVersion> RunLedger::end_attempt_succeeded(
    int64_t run_id, const std::string& step_id, int64_t step_run_id,
    const std::vector<NamedVersion>& inputs, const std::vector<OutputToRecord>& outputs) {
  return impl_->durable("end_attempt_succeeded", [&]() -> std::vector<NamedVersion> {
    nlohmann::json input_refs = nlohmann::json::array();
    for (const auto& input : inputs)
      input_refs.push_back({{"name", input.name}, {"version_id", input.version.id}});
    nlohmann::json output_docs = nlohmann::json::array();
    for (const auto& o : outputs)
      output_docs.push_back({{"name", o.name},
                             {"artifact", o.artifact},
                             {"type", o.type},
                             {"content_hash", o.content_hash},
                             {"uri", o.uri},
                             {"size_bytes", o.size_bytes},
                             {"metadata", o.metadata}});
    // One statement, so one transaction and one round trip: see
    // migrations/0002_record_success.sql.
    pqxx::nontransaction tx(impl_->connection);
    auto rows = tx.exec_params(
        "SELECT output_name, version_id FROM twinflow_record_success($1, $2, $3, $4::jsonb, "
        "$5::jsonb)",
        run_id, step_id, step_run_id, input_refs.dump(), output_docs.dump());
    if (rows.empty()) return {};
    std::vector<int64_t> ids;
    for (const auto& row : rows) ids.push_back(row[1].as<int64_t>());
    std::map<int64_t, ArtifactVersionRecord> by_id;
    for (const auto& row : tx.exec_params(std::string("SELECT ") + kVersionColumns +
                                              " FROM artifact_versions v JOIN artifacts a ON "
                                              "a.id = v.artifact_id WHERE v.id = ANY($1::bigint[])",
                                          to_pg_bigint_array(ids)))
      by_id[row[0].as<int64_t>()] = read_version(row);
    std::vector<NamedVersion> recorded;
    for (const auto& row : rows)
      recorded.push_back({row[0].as<std::string>(), by_id.at(row[1].as<int64_t>())});
    return recorded;
  });
}

int64_t RunLedger::record_cached_attempt(int64_t run_id, const std::string& step_id, int attempt,
                                         const std::string& cache_key, int64_t source_step_run_id,
                                         const std::vector<NamedVersion>& inputs,
                                         const std::vector<NamedVersion>& outputs) {
  return impl_->durable("record_cached_attempt", [&]() -> int64_t {
    pqxx::work tx(impl_->connection);
    auto inserted = tx.exec_params(
        "INSERT INTO step_runs (run_id, step_id, attempt, status, cache_key, "
        "cached_from, finished_at) VALUES ($1, $2, $3, 'cached', $4, $5, now()) "
        "ON CONFLICT (run_id, step_id, attempt) DO NOTHING RETURNING id",
        run_id, step_id, attempt, cache_key, source_step_run_id);
    if (inserted.empty()) {
      // A repeat of a commit whose acknowledgement was lost: it is all there.
      return tx
          .exec_params1(
              "SELECT id FROM step_runs WHERE run_id = $1 AND step_id = $2 "
              "AND attempt = $3",
              run_id, step_id, attempt)[0]
          .as<int64_t>();
    }
    const int64_t id = inserted[0][0].as<int64_t>();
    add_edges(tx, id, "input", inputs);
    add_edges(tx, id, "output", outputs);
    tx.exec_params(
        "UPDATE run_steps SET status = 'cached', attempts = $3, result_step_run_id = $4, "
        "started_at = now(), finished_at = now() WHERE run_id = $1 AND step_id = $2",
        run_id, step_id, attempt, id);
    tx.commit();
    return id;
  });
}

std::map<std::string, std::vector<NamedVersion>> RunLedger::step_outputs(int64_t run_id) {
  return impl_->durable("step_outputs", [&]() -> std::map<std::string, std::vector<NamedVersion>> {
    pqxx::nontransaction tx(impl_->connection);
    auto rows = tx.exec_params(
        std::string("SELECT rs.step_id, e.name, ") + kVersionColumns +
            " FROM run_steps rs JOIN lineage_edges e ON e.step_run_id = rs.result_step_run_id "
            "AND e.direction = 'output' JOIN artifact_versions v ON v.id = e.artifact_version_id "
            "JOIN artifacts a ON a.id = v.artifact_id WHERE rs.run_id = $1",
        run_id);
    std::map<std::string, std::vector<NamedVersion>> out;
    for (const auto& row : rows)
      out[row[0].as<std::string>()].push_back({row[1].as<std::string>(), read_version(row, 2)});
    return out;
  });
}

std::vector<NamedVersion> RunLedger::outputs_of_step_run(int64_t step_run_id) {
  return impl_->durable("outputs_of_step_run", [&]() -> std::vector<NamedVersion> {
    pqxx::nontransaction tx(impl_->connection);
    return read_named_versions(tx.exec_params(kOutputsOfStepRun, step_run_id));
  });
}

std::optional<RunLedger::CacheHit> RunLedger::find_cache_hit(const std::string& cache_key) {
  return impl_->durable("find_cache_hit", [&]() -> std::optional<RunLedger::CacheHit> {
    pqxx::nontransaction tx(impl_->connection);
    // Newest first; a hit whose content vanished from disk is skipped, not served.
    auto candidates = tx.exec_params(
        "SELECT id FROM step_runs WHERE cache_key = $1 AND status = 'succeeded' "
        "ORDER BY id DESC LIMIT 5",
        cache_key);
    for (const auto& row : candidates) {
      CacheHit hit{row[0].as<int64_t>(), {}};
      hit.outputs = read_named_versions(tx.exec_params(kOutputsOfStepRun, hit.step_run_id));
      bool all_present = true;
      for (const auto& named : hit.outputs)
        all_present = all_present && std::filesystem::exists(named.version.uri);
      if (all_present) return hit;
    }
    return std::nullopt;
  });
}

std::vector<ArtifactSummary> RunLedger::list_artifacts() {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<ArtifactSummary> out;
  for (const auto& row :
       tx.exec("SELECT name, type, latest_version, created_at::text FROM artifacts ORDER BY name"))
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int>(),
                   row[3].as<std::string>()});
  return out;
}

std::vector<ArtifactVersionRecord> RunLedger::artifact_versions(const std::string& name) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<ArtifactVersionRecord> out;
  for (const auto& row : tx.exec_params(std::string("SELECT ") + kVersionColumns +
                                            " FROM artifact_versions v JOIN artifacts a ON "
                                            "a.id = v.artifact_id WHERE a.name = $1 "
                                            "ORDER BY v.version DESC",
                                        name))
    out.push_back(read_version(row));
  return out;
}

std::optional<ArtifactVersionRecord> RunLedger::find_artifact_version(const std::string& name,
                                                                      int version) {
  pqxx::nontransaction tx(impl_->connection);
  // version 0 means the latest.
  auto rows = tx.exec_params(std::string("SELECT ") + kVersionColumns +
                                 " FROM artifact_versions v JOIN artifacts a ON "
                                 "a.id = v.artifact_id WHERE a.name = $1 AND "
                                 "($2 = 0 OR v.version = $2) ORDER BY v.version DESC LIMIT 1",
                             name, version);
  if (rows.empty()) return std::nullopt;
  return read_version(rows[0]);
}

namespace {

std::vector<LineageEdge> read_edges(const pqxx::result& rows) {
  std::vector<LineageEdge> out;
  for (const auto& row : rows) {
    LineageEdge e;
    e.step_run_id = row[0].as<int64_t>();
    e.run_id = row[1].as<int64_t>();
    e.step_id = row[2].as<std::string>();
    e.direction = row[3].as<std::string>();
    e.name = row[4].as<std::string>();
    e.version = read_version(row, 5);
    out.push_back(std::move(e));
  }
  return out;
}

const std::string kEdgeSelect =
    std::string("SELECT e.step_run_id, s.run_id, s.step_id, e.direction, e.name, ") +
    kVersionColumns +
    " FROM lineage_edges e JOIN step_runs s ON s.id = e.step_run_id "
    "JOIN artifact_versions v ON v.id = e.artifact_version_id "
    "JOIN artifacts a ON a.id = v.artifact_id ";

}  // namespace

std::vector<LineageEdge> RunLedger::edges_of_version(int64_t artifact_version_id) {
  pqxx::nontransaction tx(impl_->connection);
  return read_edges(tx.exec_params(
      kEdgeSelect + "WHERE e.artifact_version_id = $1 ORDER BY e.direction DESC, e.step_run_id",
      artifact_version_id));
}

std::vector<LineageEdge> RunLedger::edges_of_step_run(int64_t step_run_id) {
  pqxx::nontransaction tx(impl_->connection);
  return read_edges(tx.exec_params(
      kEdgeSelect + "WHERE e.step_run_id = $1 ORDER BY e.direction, e.name", step_run_id));
}

}  // namespace twinflow

namespace twinflow {

std::optional<ArtifactVersionRecord> RunLedger::resolve_artifact_input(int64_t run_id,
                                                                       const std::string& artifact,
                                                                       std::optional<int> pinned) {
  return impl_->durable("resolve_artifact_input", [&]() -> std::optional<ArtifactVersionRecord> {
    if (pinned) return find_artifact_version(artifact, *pinned);
    pqxx::nontransaction tx(impl_->connection);
    auto rows = tx.exec_params(
        std::string("SELECT ") + kVersionColumns +
            " FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact_id WHERE a.name = $1 "
            "ORDER BY (v.id = (SELECT e.artifact_version_id FROM runs r JOIN outbox_events e ON "
            "e.id = r.event_id WHERE r.id = $2 AND e.kind = 'artifact_version' AND e.artifact = "
            "$1)) "
            "IS TRUE DESC, v.version DESC LIMIT 1",
        artifact, run_id);
    if (rows.empty()) return std::nullopt;
    return read_version(rows[0]);
  });
}

}  // namespace twinflow
