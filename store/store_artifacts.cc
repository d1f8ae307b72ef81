// Store: artifacts and their versions, lineage edges, and the step cache.
#include <filesystem>

#include "store/store_impl.h"
#include "util/error.h"

namespace twinflow {
namespace {

// Creates the next version of `output.artifact`, or returns the latest one
// when it has the same content: an unchanged output is not a new version, so
// "train when a new dataset version appears" does not fire on a no-op.
ArtifactVersionRecord record_version(pqxx::work& tx, const OutputToRecord& output,
                                     int64_t producer_step_run_id) {
  auto artifact_id = tx.exec_params1(
                           "INSERT INTO artifacts (name, type) VALUES ($1, $2) "
                           "ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
                           output.artifact, output.type)[0]
                         .as<int64_t>();
  // Locks the artifact row: concurrent producers of one artifact number their
  // versions one after the other.
  auto latest = tx.exec_params1("SELECT latest_version FROM artifacts WHERE id = $1 FOR UPDATE",
                                artifact_id)[0]
                    .as<int>();
  std::string select = std::string("SELECT ") + kVersionColumns +
                       " FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact_id ";
  if (latest > 0) {
    auto same = tx.exec_params(select + "WHERE v.artifact_id = $1 AND v.version = $2 AND "
                                        "v.content_hash = $3 AND v.metadata = $4::jsonb",
                               artifact_id, latest, output.content_hash, output.metadata.dump());
    if (!same.empty()) return read_version(same[0]);
  }
  tx.exec_params("UPDATE artifacts SET latest_version = $2 WHERE id = $1", artifact_id,
                 latest + 1);
  auto id = tx.exec_params1(
                  "INSERT INTO artifact_versions (artifact_id, version, content_hash, uri, "
                  "size_bytes, metadata, producer_step_run_id) "
                  "VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) RETURNING id",
                  artifact_id, latest + 1, output.content_hash, output.uri, output.size_bytes,
                  output.metadata.dump(), producer_step_run_id)[0]
                .as<int64_t>();
  return read_version(tx.exec_params1(select + "WHERE v.id = $1", id));
}

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

std::vector<NamedVersion> Store::end_attempt_succeeded(int64_t run_id, const std::string& step_id,
                                                       int64_t step_run_id,
                                                       const std::vector<NamedVersion>& inputs,
                                                       const std::vector<OutputToRecord>& outputs) {
  pqxx::work tx(impl_->connection);
  std::vector<NamedVersion> recorded;
  for (const auto& output : outputs)
    recorded.push_back({output.name, record_version(tx, output, step_run_id)});
  add_edges(tx, step_run_id, "input", inputs);
  add_edges(tx, step_run_id, "output", recorded);
  tx.exec_params(
      "UPDATE step_runs SET status = 'succeeded', exit_code = 0, finished_at = now() "
      "WHERE id = $1",
      step_run_id);
  tx.exec_params(
      "UPDATE run_steps SET status = 'succeeded', result_step_run_id = $3, finished_at = now() "
      "WHERE run_id = $1 AND step_id = $2",
      run_id, step_id, step_run_id);
  tx.commit();
  return recorded;
}

int64_t Store::record_cached_attempt(int64_t run_id, const std::string& step_id, int attempt,
                                     const std::string& cache_key, int64_t source_step_run_id,
                                     const std::vector<NamedVersion>& inputs,
                                     const std::vector<NamedVersion>& outputs) {
  pqxx::work tx(impl_->connection);
  auto id = tx.exec_params1(
                  "INSERT INTO step_runs (run_id, step_id, attempt, status, cache_key, "
                  "cached_from, finished_at) VALUES ($1, $2, $3, 'cached', $4, $5, now()) "
                  "RETURNING id",
                  run_id, step_id, attempt, cache_key, source_step_run_id)[0]
                .as<int64_t>();
  add_edges(tx, id, "input", inputs);
  add_edges(tx, id, "output", outputs);
  tx.exec_params(
      "UPDATE run_steps SET status = 'cached', attempts = $3, result_step_run_id = $4, "
      "started_at = now(), finished_at = now() WHERE run_id = $1 AND step_id = $2",
      run_id, step_id, attempt, id);
  tx.commit();
  return id;
}

std::map<std::string, std::vector<NamedVersion>> Store::step_outputs(int64_t run_id) {
  pqxx::read_transaction tx(impl_->connection);
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
}

std::vector<NamedVersion> Store::outputs_of_step_run(int64_t step_run_id) {
  pqxx::read_transaction tx(impl_->connection);
  return read_named_versions(tx.exec_params(kOutputsOfStepRun, step_run_id));
}

std::optional<Store::CacheHit> Store::find_cache_hit(const std::string& cache_key) {
  pqxx::read_transaction tx(impl_->connection);
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
}

std::vector<ArtifactSummary> Store::list_artifacts() {
  pqxx::read_transaction tx(impl_->connection);
  std::vector<ArtifactSummary> out;
  for (const auto& row :
       tx.exec("SELECT name, type, latest_version, created_at::text FROM artifacts ORDER BY name"))
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int>(),
                   row[3].as<std::string>()});
  return out;
}

std::vector<ArtifactVersionRecord> Store::artifact_versions(const std::string& name) {
  pqxx::read_transaction tx(impl_->connection);
  std::vector<ArtifactVersionRecord> out;
  for (const auto& row : tx.exec_params(std::string("SELECT ") + kVersionColumns +
                                            " FROM artifact_versions v JOIN artifacts a ON "
                                            "a.id = v.artifact_id WHERE a.name = $1 "
                                            "ORDER BY v.version DESC",
                                        name))
    out.push_back(read_version(row));
  return out;
}

std::optional<ArtifactVersionRecord> Store::find_artifact_version(const std::string& name,
                                                                  int version) {
  pqxx::read_transaction tx(impl_->connection);
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

std::vector<LineageEdge> Store::edges_of_version(int64_t artifact_version_id) {
  pqxx::read_transaction tx(impl_->connection);
  return read_edges(tx.exec_params(
      kEdgeSelect + "WHERE e.artifact_version_id = $1 ORDER BY e.direction DESC, e.step_run_id",
      artifact_version_id));
}

std::vector<LineageEdge> Store::edges_of_step_run(int64_t step_run_id) {
  pqxx::read_transaction tx(impl_->connection);
  return read_edges(
      tx.exec_params(kEdgeSelect + "WHERE e.step_run_id = $1 ORDER BY e.direction, e.name",
                     step_run_id));
}

}  // namespace twinflow
