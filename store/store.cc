// Store: connection set-up, migrations, and the row readers shared by the
// store's other files.
#include "store/store.h"

#include "store/migrations.h"
#include "store/store_impl.h"
#include "util/error.h"

namespace twinflow {

Store::Store(const std::string& conninfo) : conninfo_(conninfo) {
  try {
    impl_ = std::make_unique<Impl>(conninfo);
  } catch (const pqxx::broken_connection& e) {
    throw DatabaseUnavailable(std::string("cannot connect to the database: ") + e.what());
  }
}

Store::~Store() = default;

void Store::ping() {
  try {
    pqxx::nontransaction tx(impl_->connection);
    tx.exec("SELECT 1");
  } catch (const std::exception& e) {
    if (is_connection_loss(e)) throw DatabaseUnavailable(e.what());
    throw;
  }
}

void Store::set_reconnect_policy(ReconnectPolicy policy) {
  impl_->reconnect = std::move(policy);
}

int Store::migrate() {
  Migrator migrator(impl_->connection, embedded_migrations());
  return migrator.migrate();
}

namespace {

std::string quote_array_element(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

std::string to_pg_text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    out += quote_array_element(values[i]);
  }
  return out + "}";
}

std::string id_digest_sql(const std::string& ids_sql) {
  return "SELECT count(*), encode(sha256(convert_to(coalesce(string_agg(length(ids.id::text) || "
         "':' || ids.id::text, '' ORDER BY ids.id), ''), 'UTF8')), 'hex') FROM (" +
         ids_sql + ") AS ids";
}

IdDigest read_id_digest(const pqxx::row& row) {
  return {row[0].as<int64_t>(), row[1].as<std::string>()};
}

std::string to_pg_bigint_array(const std::vector<int64_t>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    out += std::to_string(values[i]);
  }
  return out + "}";
}

const char* const kRunColumns =
    "r.id, p.name, r.dag_file, r.dag_hash, r.parent_run_id, r.trigger, r.params::text, r.status, "
    "r.cancel_requested, r.host, r.pid, r.created_at::text, r.started_at::text, "
    "r.finished_at::text, r.heartbeat_at::text, "
    "extract(epoch from coalesce(r.finished_at, now()) - coalesce(r.started_at, r.created_at)), "
    "r.error, to_char(r.logical_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "r.event_id";

RunRecord read_run(const pqxx::row& row) {
  RunRecord run;
  run.id = row[0].as<int64_t>();
  run.pipeline = row[1].as<std::string>();
  run.dag_file = row[2].as<std::string>();
  run.dag_hash = row[3].as<std::string>();
  run.parent_run_id = optional_field<int64_t>(row[4]);
  run.trigger = row[5].as<std::string>();
  run.params = nlohmann::json::parse(row[6].as<std::string>());
  run.status = row[7].as<std::string>();
  run.cancel_requested = row[8].as<bool>();
  run.host = text_field(row[9]);
  run.pid = optional_field<int>(row[10]).value_or(0);
  run.created_at = text_field(row[11]);
  run.started_at = text_field(row[12]);
  run.finished_at = text_field(row[13]);
  run.heartbeat_at = text_field(row[14]);
  run.duration_seconds = optional_field<double>(row[15]).value_or(0);
  run.error = text_field(row[16]);
  run.logical_time = text_field(row[17]);
  run.event_id = optional_field<int64_t>(row[18]);
  return run;
}

const char* const kStepRunColumns =
    "s.id, s.run_id, s.step_id, s.attempt, s.status, s.exit_code, s.signal, s.error, s.host, "
    "s.pid, s.started_at::text, s.finished_at::text, "
    "extract(epoch from coalesce(s.finished_at, now()) - s.started_at), s.log_path, s.cache_key, "
    "s.cached_from";

StepRunRecord read_step_run(const pqxx::row& row) {
  StepRunRecord s;
  s.id = row[0].as<int64_t>();
  s.run_id = row[1].as<int64_t>();
  s.step_id = row[2].as<std::string>();
  s.attempt = row[3].as<int>();
  s.status = row[4].as<std::string>();
  s.exit_code = optional_field<int>(row[5]);
  s.signal = optional_field<int>(row[6]);
  s.error = text_field(row[7]);
  s.host = text_field(row[8]);
  s.pid = optional_field<int>(row[9]).value_or(0);
  s.started_at = text_field(row[10]);
  s.finished_at = text_field(row[11]);
  s.duration_seconds = optional_field<double>(row[12]).value_or(0);
  s.log_path = text_field(row[13]);
  s.cache_key = text_field(row[14]);
  s.cached_from = optional_field<int64_t>(row[15]);
  return s;
}

const char* const kVersionColumns =
    "v.id, a.name, a.type, v.version, v.content_hash, v.uri, v.size_bytes, v.metadata::text, "
    "v.producer_step_run_id, v.created_at::text, v.artifact_id";

ArtifactVersionRecord read_version(const pqxx::row& row, int c) {
  ArtifactVersionRecord v;
  v.id = row[c + 0].as<int64_t>();
  v.artifact = row[c + 1].as<std::string>();
  v.type = row[c + 2].as<std::string>();
  v.version = row[c + 3].as<int>();
  v.content_hash = row[c + 4].as<std::string>();
  v.uri = row[c + 5].as<std::string>();
  v.size_bytes = row[c + 6].as<int64_t>();
  v.metadata = nlohmann::json::parse(row[c + 7].as<std::string>());
  v.producer_step_run_id = optional_field<int64_t>(row[c + 8]);
  v.created_at = text_field(row[c + 9]);
  return v;
}

}  // namespace twinflow
