// Store: the model registry (models, versions, stages and their history) and
// the RAG server's prompt log. See migrations/0005_model_registry.sql.
#include <algorithm>

#include "store/model_registry.h"
#include "store/store_impl.h"
#include "util/error.h"

namespace twinflow {

bool is_model_stage(const std::string& stage) {
  return std::find(std::begin(kModelStages), std::end(kModelStages), stage) !=
         std::end(kModelStages);
}

namespace {

const char* const kModelVersionColumns =
    "mv.id, m.name, mv.version, mv.stage, mv.artifact_version_id, a.name, v.version, v.uri, "
    "v.content_hash, mv.step_run_id, sr.run_id, mv.metrics::text, mv.created_at::text";
const char* const kModelVersionFrom =
    " FROM model_versions mv JOIN models m ON m.id = mv.model_id "
    "JOIN artifact_versions v ON v.id = mv.artifact_version_id "
    "JOIN artifacts a ON a.id = v.artifact_id "
    "LEFT JOIN step_runs sr ON sr.id = v.producer_step_run_id ";

ModelVersionRecord read_model_version(const pqxx::row& row) {
  ModelVersionRecord r;
  r.id = row[0].as<int64_t>();
  r.model = row[1].as<std::string>();
  r.version = row[2].as<int>();
  r.stage = row[3].as<std::string>();
  r.artifact_version_id = row[4].as<int64_t>();
  r.artifact = row[5].as<std::string>();
  r.artifact_version = row[6].as<int>();
  r.uri = row[7].as<std::string>();
  r.content_hash = row[8].as<std::string>();
  r.step_run_id = optional_field<int64_t>(row[9]);
  r.run_id = optional_field<int64_t>(row[10]);
  r.metrics = nlohmann::json::parse(row[11].as<std::string>());
  r.created_at = row[12].as<std::string>();
  return r;
}

std::string select_model_versions(const std::string& where) {
  return std::string("SELECT ") + kModelVersionColumns + kModelVersionFrom + where;
}

// The model row, locked for a stage change; throws for an unknown model.
int64_t lock_model(pqxx::work& tx, const std::string& name) {
  auto rows = tx.exec_params("SELECT id FROM models WHERE name = $1 FOR UPDATE", name);
  if (rows.empty()) throw Error("no model named '" + name + "' is registered");
  return rows[0][0].as<int64_t>();
}

void record_stage_change(pqxx::work& tx, int64_t model_version_id, const std::string& from,
                         const std::string& to, const StageChangeRequest& why) {
  tx.exec_params(
      "INSERT INTO model_stage_changes (model_version_id, from_stage, to_stage, reason, actor, "
      "step_run_id, evaluation) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
      model_version_id, from, to, why.reason, why.actor, why.step_run_id, why.evaluation.dump());
}

// Moves one version (by id) to `to`, recording the change when it is one.
void move_stage(pqxx::work& tx, int64_t model_version_id, const std::string& from,
                const std::string& to, const StageChangeRequest& why) {
  if (from == to) return;
  tx.exec_params("UPDATE model_versions SET stage = $2 WHERE id = $1", model_version_id, to);
  record_stage_change(tx, model_version_id, from, to, why);
}

// Archives the model's production version, if any, other than `except_id`.
void archive_production(pqxx::work& tx, int64_t model_id, int64_t except_id,
                        const StageChangeRequest& why) {
  auto rows = tx.exec_params(
      "SELECT id FROM model_versions WHERE model_id = $1 AND stage = 'production' AND id <> $2",
      model_id, except_id);
  for (const auto& row : rows) move_stage(tx, row[0].as<int64_t>(), "production", "archived", why);
}

std::vector<int64_t> parse_bigint_array(const std::string& text) {
  std::vector<int64_t> out;
  std::string number;
  for (char c : text) {
    if (c == '-' || (c >= '0' && c <= '9')) {
      number += c;
    } else if (!number.empty()) {
      out.push_back(std::stoll(number));
      number.clear();
    }
  }
  return out;
}

}  // namespace

ModelVersionRecord ModelRegistry::register_model_version(const std::string& name,
                                                         int64_t artifact_version_id,
                                                         std::optional<int64_t> step_run_id,
                                                         const nlohmann::json& metrics) {
  if (name.empty()) throw Error("register_model_version: the model name is empty");
  pqxx::work tx(impl_->connection);
  tx.exec_params("INSERT INTO models (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", name);
  const int64_t model_id = lock_model(tx, name);
  auto existing = tx.exec_params(
      "UPDATE model_versions SET metrics = metrics || $3::jsonb "
      "WHERE model_id = $1 AND artifact_version_id = $2 RETURNING id",
      model_id, artifact_version_id, metrics.dump());
  if (existing.empty()) {
    const int version = tx.exec_params1(
                              "UPDATE models SET latest_version = latest_version + 1 WHERE id = $1 "
                              "RETURNING latest_version",
                              model_id)[0]
                            .as<int>();
    tx.exec_params(
        "INSERT INTO model_versions (model_id, version, artifact_version_id, step_run_id, "
        "metrics) VALUES ($1, $2, $3, $4, $5::jsonb)",
        model_id, version, artifact_version_id, step_run_id, metrics.dump());
  }
  auto row = tx.exec_params1(select_model_versions("WHERE mv.model_id = $1 AND "
                                                   "mv.artifact_version_id = $2"),
                             model_id, artifact_version_id);
  ModelVersionRecord record = read_model_version(row);
  tx.commit();
  return record;
}

std::vector<ModelSummary> ModelRegistry::list_models() {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<ModelSummary> out;
  for (const auto& row : tx.exec(
           "SELECT m.name, m.latest_version, "
           "(SELECT version FROM model_versions WHERE model_id = m.id AND stage = 'production'), "
           "(SELECT count(*) FROM model_versions WHERE model_id = m.id), m.created_at::text "
           "FROM models m ORDER BY m.name"))
    out.push_back({row[0].as<std::string>(), row[1].as<int>(), optional_field<int>(row[2]),
                   row[3].as<int>(), row[4].as<std::string>()});
  return out;
}

std::vector<ModelVersionRecord> ModelRegistry::model_versions(const std::string& name) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<ModelVersionRecord> out;
  for (const auto& row :
       tx.exec_params(select_model_versions("WHERE m.name = $1 ORDER BY mv.version DESC"), name))
    out.push_back(read_model_version(row));
  return out;
}

std::optional<ModelVersionRecord> ModelRegistry::find_model_version(const std::string& name,
                                                                    int version) {
  pqxx::nontransaction tx(impl_->connection);
  auto rows =
      tx.exec_params(select_model_versions("WHERE m.name = $1 AND mv.version = $2"), name, version);
  if (rows.empty()) return std::nullopt;
  return read_model_version(rows[0]);
}

std::optional<ModelVersionRecord> ModelRegistry::production_model(const std::string& name) {
  pqxx::nontransaction tx(impl_->connection);
  auto rows =
      tx.exec_params(select_model_versions("WHERE m.name = $1 AND mv.stage = 'production'"), name);
  if (rows.empty()) return std::nullopt;
  return read_model_version(rows[0]);
}

ModelVersionRecord ModelRegistry::set_model_stage(const std::string& name, int version,
                                                  const std::string& stage,
                                                  const StageChangeRequest& why) {
  if (!is_model_stage(stage))
    throw Error("unknown stage '" + stage + "': use none, staging, production or archived");
  pqxx::work tx(impl_->connection);
  const int64_t model_id = lock_model(tx, name);
  auto rows =
      tx.exec_params("SELECT id, stage FROM model_versions WHERE model_id = $1 AND version = $2",
                     model_id, version);
  if (rows.empty()) throw Error("model '" + name + "' has no version " + std::to_string(version));
  const int64_t id = rows[0][0].as<int64_t>();
  if (stage == "production") archive_production(tx, model_id, id, why);
  move_stage(tx, id, rows[0][1].as<std::string>(), stage, why);
  ModelVersionRecord record =
      read_model_version(tx.exec_params1(select_model_versions("WHERE mv.id = $1"), id));
  tx.commit();
  return record;
}

ModelVersionRecord ModelRegistry::rollback_model(const std::string& name,
                                                 const StageChangeRequest& why) {
  pqxx::work tx(impl_->connection);
  const int64_t model_id = lock_model(tx, name);
  auto current = tx.exec_params(
      "SELECT id, version FROM model_versions WHERE model_id = $1 AND stage = 'production'",
      model_id);
  if (current.empty()) throw Error("model '" + name + "' has no production version to roll back");
  const int64_t current_id = current[0][0].as<int64_t>();
  // The version most recently moved out of production, still archived.
  auto previous = tx.exec_params(
      "SELECT mv.id FROM model_stage_changes c JOIN model_versions mv ON mv.id = "
      "c.model_version_id WHERE mv.model_id = $1 AND c.from_stage = 'production' "
      "AND mv.id <> $2 AND mv.stage = 'archived' ORDER BY c.id DESC LIMIT 1",
      model_id, current_id);
  if (previous.empty())
    throw Error("model '" + name + "' has no earlier production version to roll back to (v" +
                current[0][1].as<std::string>() + " is the first)");
  const int64_t previous_id = previous[0][0].as<int64_t>();
  move_stage(tx, current_id, "production", "archived", why);
  move_stage(tx, previous_id, "archived", "production", why);
  ModelVersionRecord record =
      read_model_version(tx.exec_params1(select_model_versions("WHERE mv.id = $1"), previous_id));
  tx.commit();
  return record;
}

std::vector<StageChangeRecord> ModelRegistry::stage_history(const std::string& name) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<StageChangeRecord> out;
  for (const auto& row : tx.exec_params(
           "SELECT c.id, mv.version, c.from_stage, c.to_stage, c.reason, c.actor, c.step_run_id, "
           "c.evaluation::text, c.changed_at::text FROM model_stage_changes c "
           "JOIN model_versions mv ON mv.id = c.model_version_id "
           "JOIN models m ON m.id = mv.model_id WHERE m.name = $1 ORDER BY c.id",
           name)) {
    StageChangeRecord r;
    r.id = row[0].as<int64_t>();
    r.version = row[1].as<int>();
    r.from_stage = row[2].as<std::string>();
    r.to_stage = row[3].as<std::string>();
    r.reason = row[4].as<std::string>();
    r.actor = row[5].as<std::string>();
    r.step_run_id = optional_field<int64_t>(row[6]);
    r.evaluation = nlohmann::json::parse(row[7].as<std::string>());
    r.changed_at = row[8].as<std::string>();
    out.push_back(std::move(r));
  }
  return out;
}

int64_t ModelRegistry::log_prompt(const PromptLogEntry& e) {
  pqxx::work tx(impl_->connection);
  // The answer must not wait for the log's WAL flush: a crash may lose the
  // last fraction of a second of prompt logs, never corrupt them.
  tx.exec("SET LOCAL synchronous_commit TO OFF");
  const int64_t id =
      tx.exec_params1(
            "INSERT INTO prompt_logs (query, author, k, chunk_ids, prompt, answer, model_name, "
            "model_version_id, generator, status, error, retrieval_ms, generation_ms, latency_ms) "
            "VALUES ($1, $2, $3, $4::bigint[], $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
            "RETURNING id",
            e.query, e.author, e.k, to_pg_bigint_array(e.chunk_ids), e.prompt, e.answer,
            e.model_name, e.model_version_id, e.generator, e.status, e.error, e.retrieval_ms,
            e.generation_ms, e.latency_ms)[0]
          .as<int64_t>();
  tx.commit();
  return id;
}

std::vector<PromptLogRecord> ModelRegistry::list_prompts(int limit) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<PromptLogRecord> out;
  for (const auto& row : tx.exec_params(
           "SELECT p.id, p.created_at::text, p.query, p.author, p.k, p.chunk_ids::text, p.prompt, "
           "p.answer, p.model_name, p.model_version_id, mv.version, p.generator, p.status, "
           "p.error, p.retrieval_ms, p.generation_ms, p.latency_ms FROM prompt_logs p "
           "LEFT JOIN model_versions mv ON mv.id = p.model_version_id "
           "ORDER BY p.id DESC LIMIT $1",
           limit)) {
    PromptLogRecord r;
    r.id = row[0].as<int64_t>();
    r.created_at = row[1].as<std::string>();
    r.query = row[2].as<std::string>();
    r.author = row[3].as<std::string>();
    r.k = row[4].as<int>();
    r.chunk_ids = parse_bigint_array(row[5].as<std::string>());
    r.prompt = row[6].as<std::string>();
    r.answer = row[7].as<std::string>();
    r.model_name = row[8].as<std::string>();
    r.model_version_id = optional_field<int64_t>(row[9]);
    r.model_version = optional_field<int>(row[10]);
    r.generator = row[11].as<std::string>();
    r.status = row[12].as<int>();
    r.error = row[13].as<std::string>();
    r.retrieval_ms = row[14].as<double>();
    r.generation_ms = row[15].as<double>();
    r.latency_ms = row[16].as<double>();
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace twinflow
