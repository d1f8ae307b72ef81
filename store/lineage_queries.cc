// Lineage reads beyond the artifact edges. See lineage_queries.h.
#include "store/lineage_queries.h"

#include <map>

#include "store/store_impl.h"

namespace twinflow {

nlohmann::json run_events_json(const std::vector<ConsumedEvent>& events) {
  nlohmann::json out = nlohmann::json::array();
  for (const ConsumedEvent& e : events) {
    nlohmann::json j = {{"event_id", e.event_id},
                        {"kind", e.kind},
                        {"created_at", e.created_at},
                        {"consumed_at", e.consumed_at}};
    if (e.kind == "document") {
      j["document_id"] = e.document_id;
      j["document_version"] = e.document_version;
      j["platform"] = e.platform;
      j["url"] = e.url;
    } else {
      j["artifact"] = e.artifact;
      j["version"] = e.version;
      j["artifact_version_id"] = e.artifact_version_id;
    }
    j["producer_step_run_id"] =
        e.producer_step_run_id ? nlohmann::json(e.producer_step_run_id) : nlohmann::json();
    j["producer_run_id"] = e.producer_run_id ? nlohmann::json(e.producer_run_id) : nlohmann::json();
    out.push_back(std::move(j));
  }
  return out;
}

void print_run_events(std::ostream& out, const std::vector<ConsumedEvent>& events) {
  if (events.empty()) return;
  std::map<std::string, int> documents_by_platform;
  std::vector<std::string> versions;
  std::map<int64_t, int> producers;
  for (const ConsumedEvent& e : events) {
    if (e.kind == "document")
      ++documents_by_platform[e.platform];
    else
      versions.push_back(e.artifact + "@v" + std::to_string(e.version));
    if (e.producer_run_id) ++producers[e.producer_run_id];
  }
  out << "\n  started by " << events.size() << " event(s):";
  for (const auto& [platform, n] : documents_by_platform)
    out << " " << n << " " << platform << " document(s);";
  for (const std::string& v : versions) out << " " << v << ";";
  if (!producers.empty()) {
    out << " written by run(s)";
    for (const auto& [run, n] : producers) out << " " << run;
  }
  out << "\n";
}

// ---- lineage through the feature store ----

namespace {

// Dataset versions (made by the dataset step: its card names the author and
// counts the sources) and when their attempt started reading.
const char* const kDatasetColumns =
    "SELECT v.id, a.name AS artifact, v.version, v.metadata->>'author' AS author, "
    "v.metadata->'sources' AS sources_recorded, s.started_at AS read_at "
    "FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact_id "
    "JOIN step_runs s ON s.id = v.producer_step_run_id "
    "WHERE v.metadata ? 'author' AND v.metadata ? 'sources' AND s.started_at IS NOT NULL ";

// Document version d was its URL's latest, and cleaned, when dataset ds read.
const char* const kReadByDataset =
    "d.author = ds.author AND d.fetched_at <= ds.read_at "
    "AND NOT EXISTS (SELECT 1 FROM documents n WHERE n.author = d.author AND n.url = d.url "
    "AND n.version > d.version AND n.fetched_at <= ds.read_at) ";

// The attempt `s` as JSON with its run's pipeline, or null.
const char* const kAttemptJson =
    "(SELECT json_build_object('step_run_id', s.id, 'run_id', s.run_id, 'pipeline', p.name, "
    "'step', s.step_id, 'attempt', s.attempt) FROM step_runs s JOIN runs r ON r.id = s.run_id "
    "JOIN pipelines p ON p.id = r.pipeline_id WHERE s.id = ";

nlohmann::json query_json(Store& store, const std::string& sql, const auto&... args) {
  pqxx::read_transaction tx(store.impl().connection);
  const pqxx::row row = tx.exec_params1(sql, args...);
  return nlohmann::json::parse(row[0].as<std::string>());
}

}  // namespace

nlohmann::json lineage_sources_json(Store& store, int64_t artifact_version_id) {
  const std::string sql =
      std::string(
          "WITH RECURSIVE up(id) AS (SELECT $1::bigint UNION "
          "SELECT e.artifact_version_id FROM up JOIN artifact_versions v ON v.id = up.id "
          "JOIN lineage_edges e ON e.step_run_id = v.producer_step_run_id "
          "AND e.direction = 'input'), "
          "datasets AS (") +
      kDatasetColumns +
      "AND v.id IN (SELECT id FROM up)), "
      "sources AS (SELECT DISTINCT ON (ds.id, d.id) ds.id AS dataset_id, d.id AS document_id, "
      "k.id AS cleaned_id, k.step_run_id AS clean_step_run_id FROM datasets ds "
      "JOIN documents d ON " +
      kReadByDataset +
      "JOIN cleaned_documents k ON k.document_id = d.id AND k.created_at <= ds.read_at "
      "ORDER BY ds.id, d.id, k.id DESC) "
      "SELECT json_build_object("
      "'versions', (SELECT coalesce(json_agg(json_build_object('artifact_version_id', v.id, "
      "'artifact', a.name, 'version', v.version, 'type', a.type, 'step_run_id', s.id, 'run_id', "
      "s.run_id, 'step', s.step_id, 'pipeline', p.name) ORDER BY v.id), '[]'::json) "
      "FROM up JOIN artifact_versions v ON v.id = up.id JOIN artifacts a ON a.id = v.artifact_id "
      "LEFT JOIN step_runs s ON s.id = v.producer_step_run_id "
      "LEFT JOIN runs r ON r.id = s.run_id LEFT JOIN pipelines p ON p.id = r.pipeline_id "
      "WHERE v.id <> $1), "
      "'datasets', (SELECT coalesce(json_agg(json_build_object('artifact_version_id', ds.id, "
      "'artifact', ds.artifact, 'version', ds.version, 'author', ds.author, 'read_at', "
      "ds.read_at, 'sources_recorded', ds.sources_recorded, 'sources_found', "
      "(SELECT count(*) FROM sources x WHERE x.dataset_id = ds.id)) ORDER BY ds.id), "
      "'[]'::json) FROM datasets ds), "
      "'documents', (SELECT coalesce(json_agg(doc ORDER BY url, version), '[]'::json) FROM ("
      "SELECT d.url, d.version, json_build_object('document_id', d.id, 'url', d.url, "
      "'version', d.version, 'platform', d.platform, 'kind', d.kind, 'title', d.title, "
      "'content_sha256', d.content_sha256, 'fetched_at', d.fetched_at, 'crawl', " +
      kAttemptJson + "d.step_run_id), 'cleaned_document_id', x.cleaned_id, 'clean', " +
      kAttemptJson +
      "x.clean_step_run_id), 'datasets', json_agg(x.dataset_id ORDER BY x.dataset_id)) AS doc "
      "FROM sources x JOIN documents d ON d.id = x.document_id "
      "GROUP BY d.id, x.cleaned_id, x.clean_step_run_id) docs), "
      "'urls', (SELECT count(DISTINCT d.url) FROM sources x "
      "JOIN documents d ON d.id = x.document_id))::text";
  return query_json(store, sql, artifact_version_id);
}

nlohmann::json url_lineage_json(Store& store, const std::string& url) {
  const std::string sql =
      std::string(
          "WITH RECURSIVE docs AS (SELECT * FROM documents WHERE url = $1), "
          "datasets AS (") +
      kDatasetColumns +
      "AND v.metadata->>'author' IN (SELECT author FROM docs)), "
      "reached AS (SELECT d.id AS document_id, ds.id AS dataset_id FROM docs d "
      "JOIN datasets ds ON " +
      kReadByDataset +
      "AND EXISTS (SELECT 1 FROM cleaned_documents k WHERE k.document_id = d.id "
      "AND k.created_at <= ds.read_at)), "
      "down(document_id, id) AS (SELECT document_id, dataset_id FROM reached UNION "
      "SELECT down.document_id, o.artifact_version_id FROM down "
      "JOIN lineage_edges i ON i.artifact_version_id = down.id AND i.direction = 'input' "
      "JOIN lineage_edges o ON o.step_run_id = i.step_run_id AND o.direction = 'output') "
      "SELECT json_build_object('url', $1::text, 'documents', coalesce((SELECT json_agg("
      "json_build_object('document_id', d.id, 'author', d.author, 'version', d.version, "
      "'is_latest', d.is_latest, 'platform', d.platform, 'title', d.title, 'content_sha256', "
      "d.content_sha256, 'fetched_at', d.fetched_at, 'crawl', " +
      kAttemptJson +
      "d.step_run_id), "
      "'cleaned', (SELECT coalesce(json_agg(json_build_object('cleaned_document_id', k.id, "
      "'cleaner', k.cleaner, 'step_run_id', k.step_run_id) ORDER BY k.id), '[]'::json) "
      "FROM cleaned_documents k WHERE k.document_id = d.id), "
      "'chunks', (SELECT coalesce(json_agg(json_build_object('chunk_id', c.id, 'position', "
      "c.position, 'kind', c.kind, 'is_current', c.is_current, 'step_run_id', c.step_run_id, "
      "'embeddings', (SELECT count(*) FROM embeddings e WHERE e.chunk_id = c.id)) "
      "ORDER BY c.id), '[]'::json) FROM chunks c WHERE c.document_id = d.id), "
      "'datasets', (SELECT coalesce(json_agg(json_build_object('artifact_version_id', ds.id, "
      "'artifact', ds.artifact, 'version', ds.version) ORDER BY ds.id), '[]'::json) "
      "FROM reached x JOIN datasets ds ON ds.id = x.dataset_id WHERE x.document_id = d.id), "
      "'versions', (SELECT coalesce(json_agg(json_build_object('artifact_version_id', v.id, "
      "'artifact', a.name, 'version', v.version, 'type', a.type) ORDER BY v.id), '[]'::json) "
      "FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact_id "
      "WHERE v.id IN (SELECT w.id FROM down w WHERE w.document_id = d.id)), "
      "'models', (SELECT coalesce(json_agg(json_build_object('model', m.name, 'version', "
      "mv.version, 'stage', mv.stage, 'artifact_version_id', mv.artifact_version_id) "
      "ORDER BY mv.id), '[]'::json) FROM model_versions mv JOIN models m ON m.id = mv.model_id "
      "WHERE mv.artifact_version_id IN (SELECT w.id FROM down w WHERE w.document_id = d.id)), "
      "'deployments', (SELECT coalesce(json_agg(json_build_object('model', m.name, 'version', "
      "mv.version, 'to_stage', sc.to_stage, 'changed_at', sc.changed_at, 'actor', sc.actor, "
      "'step_run_id', sc.step_run_id) ORDER BY sc.id), '[]'::json) "
      "FROM model_stage_changes sc JOIN model_versions mv ON mv.id = sc.model_version_id "
      "JOIN models m ON m.id = mv.model_id WHERE sc.to_stage = 'production' "
      "AND mv.artifact_version_id IN (SELECT w.id FROM down w WHERE w.document_id = d.id))) "
      "ORDER BY d.version) FROM docs d), '[]'::json))::text";
  return query_json(store, sql, url);
}

}  // namespace twinflow
