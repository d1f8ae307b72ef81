// DashboardQueries: the run page's document and its fingerprint (see
// dashboard_queries.h), each one prepared statement.
#include "store/dashboard_queries.h"
#include "store/store_impl.h"

namespace twinflow {
namespace {

#define RFC TWINFLOW_RFC3339_SQL

// What the page shows of run `r`, as one text hashed with md5. The step
// attempts' heartbeats are left out (the page does not show them); the run's
// own is in the body, so it is in the fingerprint too.
const char* const kRunFingerprint =
    "md5(concat_ws('|', r::text, "
    " (SELECT string_agg(rs::text, ';' ORDER BY rs.step_id) FROM run_steps rs "
    "  WHERE rs.run_id = r.id), "
    " (SELECT string_agg(concat_ws(',', s.id, s.status, s.exit_code, s.signal, s.error, s.host, "
    "  s.pid, s.started_at, s.finished_at, s.cache_key, s.cached_from), ';' ORDER BY s.id) "
    "  FROM step_runs s WHERE s.run_id = r.id), "
    " (SELECT count(*) FROM event_consumptions c WHERE c.run_id = r.id)))";

// The edges of a step's standing attempt in one direction, ordered by name.
#define TWINFLOW_EDGES_SQL(direction) \
  "coalesce((SELECT json_agg(json_build_object('name', e.name, 'version', json_build_object("     \
  "'id', v.id, 'artifact', a.name, 'type', a.type, 'version', v.version, 'sha256', "              \
  "v.content_hash, 'size_bytes', v.size_bytes, 'metadata', v.metadata, 'producer_step_run_id', " \
  "v.producer_step_run_id, 'created_at', " RFC("v.created_at") ")) ORDER BY e.name) "            \
  "FROM lineage_edges e JOIN artifact_versions v ON v.id = e.artifact_version_id "               \
  "JOIN artifacts a ON a.id = v.artifact_id WHERE e.step_run_id = rs.result_step_run_id "        \
  "AND e.direction = '" direction "'), '[]')"

const char* const kRunDocument =
    "json_build_object("
    "'run', json_build_object('id', r.id, 'pipeline', p.name, 'dag_file', r.dag_file, "
    " 'parent_run_id', r.parent_run_id, 'trigger', r.trigger, 'params', r.params, "
    " 'status', r.status, 'cancel_requested', r.cancel_requested, 'host', coalesce(r.host, ''), "
    " 'created_at', " RFC("r.created_at") ", 'started_at', " RFC("r.started_at") ", "
    " 'finished_at', " RFC("r.finished_at") ", 'heartbeat_at', " RFC("r.heartbeat_at") ", "
    " 'duration_seconds', CASE WHEN r.finished_at IS NULL THEN NULL ELSE extract(epoch from "
    "  r.finished_at - coalesce(r.started_at, r.created_at)) END, "
    " 'error', coalesce(r.error, ''), 'logical_time', " RFC("r.logical_time") "), "
    "'steps', coalesce((SELECT json_agg(json_build_object('step_id', rs.step_id, "
    " 'status', rs.status, 'attempts', rs.attempts, 'result_step_run_id', rs.result_step_run_id, "
    " 'started_at', " RFC("rs.started_at") ", 'finished_at', " RFC("rs.finished_at") ", "
    " 'duration_seconds', CASE WHEN rs.finished_at IS NULL THEN NULL ELSE coalesce(extract(epoch "
    "  from rs.finished_at - rs.started_at), 0) END, "
    " 'inputs', " TWINFLOW_EDGES_SQL("input") ", 'outputs', " TWINFLOW_EDGES_SQL("output") ") "
    " ORDER BY rs.started_at NULLS LAST, rs.step_id) FROM run_steps rs WHERE rs.run_id = r.id), "
    " '[]'), "
    "'attempts', coalesce((SELECT json_agg(json_build_object('id', s.id, 'step_id', s.step_id, "
    " 'attempt', s.attempt, 'status', s.status, 'exit_code', s.exit_code, 'signal', s.signal, "
    " 'error', coalesce(s.error, ''), 'host', coalesce(s.host, ''), 'pid', coalesce(s.pid, 0), "
    " 'started_at', " RFC("s.started_at") ", 'finished_at', " RFC("s.finished_at") ", "
    " 'duration_seconds', CASE WHEN s.finished_at IS NULL THEN NULL ELSE extract(epoch from "
    "  s.finished_at - s.started_at) END, 'cache_key', coalesce(s.cache_key, ''), "
    " 'cached_from', s.cached_from) ORDER BY s.id) FROM step_runs s WHERE s.run_id = r.id), "
    " '[]'), "
    // What started it (trigger batches), as lineage_queries.h's run_events_json.
    "'events', coalesce((SELECT json_agg(CASE WHEN e.kind = 'document' THEN json_build_object("
    " 'event_id', e.id, 'kind', e.kind, 'created_at', " RFC("e.created_at") ", "
    " 'consumed_at', " RFC("c.consumed_at") ", 'document_id', coalesce(e.document_id, 0), "
    " 'document_version', coalesce(d.version, 0), 'platform', coalesce(e.platform, ''), "
    " 'url', coalesce(d.url, ''), 'producer_step_run_id', ps.id, 'producer_run_id', ps.run_id) "
    " ELSE json_build_object('event_id', e.id, 'kind', e.kind, "
    " 'created_at', " RFC("e.created_at") ", 'consumed_at', " RFC("c.consumed_at") ", "
    " 'artifact', coalesce(e.artifact, ''), 'version', coalesce(e.version, 0), "
    " 'artifact_version_id', coalesce(e.artifact_version_id, 0), "
    " 'producer_step_run_id', ps.id, 'producer_run_id', ps.run_id) END ORDER BY e.id) "
    " FROM event_consumptions c JOIN outbox_events e ON e.id = c.event_id "
    " LEFT JOIN documents d ON d.id = e.document_id "
    " LEFT JOIN artifact_versions av ON av.id = e.artifact_version_id "
    " LEFT JOIN step_runs ps ON ps.id = coalesce(d.step_run_id, av.producer_step_run_id) "
    " WHERE c.run_id = r.id), '[]'))";

#undef TWINFLOW_EDGES_SQL
#undef RFC

}  // namespace

std::optional<DashboardQueries::RunDocument> DashboardQueries::run_document(
    int64_t run_id, const std::string& known_fingerprint) {
  // The document is built only when the fingerprint is not the caller's (a
  // SubPlan under CASE runs only when reached). OFFSET 0 keeps the
  // fingerprint's subquery from being pulled up into both places it is used
  // (and so computed twice).
  if (!is_prepared("twinflow_run_document"))
    prepare_once("twinflow_run_document",
                 std::string("SELECT f.fp, CASE WHEN f.fp = $2::text THEN NULL ELSE ") +
                     kRunDocument +
                     "::text END, r.dag_hash, r.dag_file, r.params::text FROM runs r JOIN "
                     "pipelines p ON p.id = r.pipeline_id CROSS JOIN LATERAL (SELECT " +
                     kRunFingerprint + " AS fp OFFSET 0) f WHERE r.id = $1");
  pqxx::nontransaction tx(store_.impl().connection);
  const auto rows = tx.exec_prepared("twinflow_run_document", run_id, known_fingerprint);
  if (rows.empty()) return std::nullopt;
  RunDocument doc{rows[0][0].as<std::string>(), "",
                  rows[0][2].as<std::string>(), rows[0][3].as<std::string>(),
                  rows[0][4].as<std::string>(), rows[0][1].is_null()};
  if (!doc.unchanged) doc.json = rows[0][1].as<std::string>();
  return doc;
}

std::optional<std::string> DashboardQueries::run_fingerprint(int64_t run_id) {
  if (!is_prepared("twinflow_run_fingerprint"))
    prepare_once("twinflow_run_fingerprint",
                 std::string("SELECT ") + kRunFingerprint + " FROM runs r WHERE r.id = $1");
  pqxx::nontransaction tx(store_.impl().connection);
  const auto rows = tx.exec_prepared("twinflow_run_fingerprint", run_id);
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<std::string>();
}

}  // namespace twinflow
