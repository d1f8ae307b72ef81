// DashboardQueries: the dashboard's read models (see dashboard_queries.h).
#include "store/dashboard_queries.h"

#include <set>

#include "store/store_impl.h"
#include "util/error.h"

namespace twinflow {
namespace {

const char* const kPipelineColumns =
    "p.name, p.dag_file, p.dag_hash, "
    "(SELECT count(*) FROM runs r WHERE r.pipeline_id = p.id), "
    "(SELECT r.status FROM runs r WHERE r.pipeline_id = p.id ORDER BY r.id DESC LIMIT 1), "
    "(SELECT max(r.id) FROM runs r WHERE r.pipeline_id = p.id), "
    "EXISTS (SELECT 1 FROM pipeline_pauses pp WHERE pp.pipeline = p.name)";

PipelineSummary read_pipeline(const pqxx::row& row) {
  PipelineSummary p;
  p.name = row[0].as<std::string>();
  p.dag_file = row[1].as<std::string>();
  p.dag_hash = row[2].as<std::string>();
  p.runs = row[3].as<int64_t>();
  p.last_status = text_field(row[4]);
  p.last_run_id = optional_field<int64_t>(row[5]);
  p.paused = row[6].as<bool>();
  return p;
}

nlohmann::json version_node(const ArtifactVersionRecord& v, const std::string& side) {
  return {{"id", "v" + std::to_string(v.id)},
          {"kind", "version"},
          {"side", side},
          {"version_id", v.id},
          {"artifact", v.artifact},
          {"type", v.type},
          {"version", v.version},
          {"sha256", v.content_hash},
          {"size_bytes", v.size_bytes}};
}

}  // namespace

bool DashboardQueries::connected() {
  return store_.impl().connection.is_open();
}

namespace {

// A prepared statement of the runs page for the filters that are set: its
// name, its WHERE clause (parameters $1..) and the parameters, limit last.
struct RunsStatement {
  std::string name, where;
  std::vector<std::string> params;
};

RunsStatement runs_statement(const std::string& prefix, const RunFilter& filter) {
  RunsStatement st{prefix, "", {}};
  auto add = [&](bool used, const char* key, const std::string& condition, std::string value) {
    st.name += used ? key : "_";
    if (!used) return;
    st.params.push_back(std::move(value));
    st.where += (st.where.empty() ? " WHERE " : " AND ") + condition + "$" +
                std::to_string(st.params.size()) + (condition.ends_with("< ") ? "::bigint" : "");
  };
  add(!filter.pipeline.empty(), "p", "p.name = ", filter.pipeline);
  add(!filter.status.empty(), "s", "r.status = ", filter.status);
  add(!filter.trigger.empty(), "t", "r.trigger = ", filter.trigger);
  add(filter.before_id > 0, "b", "r.id < ", std::to_string(filter.before_id));
  st.params.push_back(std::to_string(filter.limit));
  return st;
}

}  // namespace

DashboardQueries::RunsJson DashboardQueries::runs_page_json(const RunFilter& filter) {
  const RunsStatement st = runs_statement("twinflow_runs_json_", filter);
  pqxx::connection& connection = store_.impl().connection.get();
  if (prepared_generation_ != store_.impl().connection.generation()) {
    prepared_.clear();  // a new connection after a lost one: nothing is prepared on it
    prepared_generation_ = store_.impl().connection.generation();
  }
  if (!prepared_.count(st.name)) {
    // The fields and formats of a RunRecord as the API shows it.
    connection.prepare(
        st.name,
        "SELECT coalesce(json_agg(j ORDER BY id DESC), '[]')::text, count(*), min(id) FROM ("
        "SELECT r.id, json_build_object('id', r.id, 'pipeline', p.name, 'dag_file', r.dag_file, "
        "'parent_run_id', r.parent_run_id, 'trigger', r.trigger, 'params', r.params, "
        "'status', r.status, 'cancel_requested', r.cancel_requested, "
        "'host', coalesce(r.host, ''), 'created_at', r.created_at::text, "
        "'started_at', coalesce(r.started_at::text, ''), "
        "'finished_at', coalesce(r.finished_at::text, ''), "
        "'heartbeat_at', coalesce(r.heartbeat_at::text, ''), 'duration_seconds', "
        "extract(epoch from coalesce(r.finished_at, now()) - coalesce(r.started_at, "
        "r.created_at)), 'error', coalesce(r.error, ''), 'logical_time', "
        "coalesce(to_char(r.logical_time AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')) AS j "
        "FROM runs r JOIN pipelines p ON p.id = r.pipeline_id" +
            st.where + " ORDER BY r.id DESC LIMIT $" + std::to_string(st.params.size()) +
            "::int) page");
    prepared_.insert(st.name);
  }
  pqxx::nontransaction tx(connection);
  const auto row = tx.exec_prepared(st.name, pqxx::prepare::make_dynamic_params(st.params))[0];
  return {row[0].as<std::string>(), row[1].as<int>(), optional_field<int64_t>(row[2]).value_or(0)};
}

std::vector<PipelineSummary> DashboardQueries::pipelines() {
  pqxx::nontransaction tx(store_.impl().connection);
  std::vector<PipelineSummary> out;
  for (const auto& row :
       tx.exec(std::string("SELECT ") + kPipelineColumns + " FROM pipelines p ORDER BY p.name"))
    out.push_back(read_pipeline(row));
  return out;
}

std::optional<PipelineSummary> DashboardQueries::find_pipeline(const std::string& name) {
  pqxx::nontransaction tx(store_.impl().connection);
  auto rows = tx.exec_params(
      std::string("SELECT ") + kPipelineColumns + " FROM pipelines p WHERE p.name = $1", name);
  if (rows.empty()) return std::nullopt;
  return read_pipeline(rows[0]);
}

std::optional<ArtifactVersionRecord> DashboardQueries::find_version_by_id(int64_t id) {
  pqxx::nontransaction tx(store_.impl().connection);
  auto rows = tx.exec_params(std::string("SELECT ") + kVersionColumns +
                                 " FROM artifact_versions v JOIN artifacts a ON a.id = "
                                 "v.artifact_id WHERE v.id = $1",
                             id);
  if (rows.empty()) return std::nullopt;
  return read_version(rows[0]);
}

nlohmann::json DashboardQueries::lineage(int64_t root, int depth, int max_documents) {
  pqxx::read_transaction tx(store_.impl().connection);
  // The versions reached upstream (through producers' inputs) and downstream
  // (through consumers' outputs), each with the side it was reached from.
  std::set<int64_t> up, down;
  for (const auto& row : tx.exec_params(
           "WITH RECURSIVE up(vid, depth) AS ("
           "  SELECT $1::bigint, 0 UNION "
           "  SELECT e.artifact_version_id, up.depth + 1 FROM up "
           "  JOIN artifact_versions v ON v.id = up.vid "
           "  JOIN lineage_edges e ON e.step_run_id = v.producer_step_run_id "
           "   AND e.direction = 'input' WHERE up.depth < $2), "
           "down(vid, depth) AS ("
           "  SELECT $1::bigint, 0 UNION "
           "  SELECT o.artifact_version_id, down.depth + 1 FROM down "
           "  JOIN lineage_edges i ON i.artifact_version_id = down.vid AND i.direction = 'input' "
           "  JOIN lineage_edges o ON o.step_run_id = i.step_run_id AND o.direction = 'output' "
           "  WHERE down.depth < $2) "
           "SELECT DISTINCT vid, true FROM up UNION SELECT DISTINCT vid, false FROM down",
           root, depth)) {
    (row[1].as<bool>() ? up : down).insert(row[0].as<int64_t>());
  }
  std::vector<int64_t> all(up.begin(), up.end());
  all.insert(all.end(), down.begin(), down.end());
  const std::string all_array = to_pg_bigint_array(all);

  nlohmann::json nodes = nlohmann::json::array(), edges = nlohmann::json::array();
  for (const auto& row : tx.exec_params(std::string("SELECT ") + kVersionColumns +
                                            " FROM artifact_versions v JOIN artifacts a ON "
                                            "a.id = v.artifact_id WHERE v.id = ANY($1::bigint[]) "
                                            "ORDER BY v.id",
                                        all_array)) {
    ArtifactVersionRecord v = read_version(row);
    nodes.push_back(version_node(v, v.id == root     ? "root"
                                    : up.count(v.id) ? "upstream"
                                                     : "downstream"));
  }
  // Edges touching the reached versions, kept when they are on a path through
  // the root: producers of upstream versions, consumers of downstream ones.
  struct Edge {
    int64_t step_run, version;
    bool output;
  };
  std::vector<Edge> candidates;
  std::set<int64_t> producers, consumers;
  std::map<int64_t, nlohmann::json> step_nodes;
  for (const auto& row : tx.exec_params(
           "SELECT e.step_run_id, e.direction, e.artifact_version_id, s.run_id, s.step_id, "
           "s.attempt, s.status FROM lineage_edges e JOIN step_runs s ON s.id = e.step_run_id "
           "WHERE e.artifact_version_id = ANY($1::bigint[]) ORDER BY e.step_run_id LIMIT 5000",
           all_array)) {
    Edge e{row[0].as<int64_t>(), row[2].as<int64_t>(), row[1].as<std::string>() == "output"};
    if (e.output && up.count(e.version)) producers.insert(e.step_run);
    if (!e.output && down.count(e.version)) consumers.insert(e.step_run);
    candidates.push_back(e);
    step_nodes[e.step_run] = {{"id", "s" + std::to_string(e.step_run)},
                              {"kind", "step_run"},
                              {"step_run_id", e.step_run},
                              {"run_id", row[3].as<int64_t>()},
                              {"step_id", row[4].as<std::string>()},
                              {"attempt", row[5].as<int>()},
                              {"status", row[6].as<std::string>()}};
  }
  std::set<int64_t> kept_steps;
  for (const Edge& e : candidates) {
    const bool producer = producers.count(e.step_run) > 0;
    const bool consumer = consumers.count(e.step_run) > 0;
    if (!producer && !consumer) continue;
    if (!e.output && !producer && !down.count(e.version)) continue;
    kept_steps.insert(e.step_run);
    const std::string s = "s" + std::to_string(e.step_run), v = "v" + std::to_string(e.version);
    edges.push_back(e.output ? nlohmann::json{{"from", s}, {"to", v}}
                             : nlohmann::json{{"from", v}, {"to", s}});
  }
  for (int64_t id : kept_steps) nodes.push_back(step_nodes[id]);

  // Upstream ends: the documents the producing attempts (crawls) wrote.
  const std::string producer_array =
      to_pg_bigint_array(std::vector<int64_t>(producers.begin(), producers.end()));
  for (const auto& row :
       tx.exec_params("SELECT id, url, title, platform, version, step_run_id FROM documents "
                      "WHERE step_run_id = ANY($1::bigint[]) ORDER BY id LIMIT $2",
                      producer_array, max_documents)) {
    const std::string id = "d" + row[0].as<std::string>();
    nodes.push_back({{"id", id},
                     {"kind", "document"},
                     {"document_id", row[0].as<int64_t>()},
                     {"url", row[1].as<std::string>()},
                     {"title", row[2].as<std::string>()},
                     {"platform", row[3].as<std::string>()},
                     {"version", row[4].as<int>()}});
    edges.push_back({{"from", id}, {"to", "s" + row[5].as<std::string>()}});
  }
  // Downstream ends: models registered from a reached version.
  for (const auto& row :
       tx.exec_params("SELECT mv.id, m.name, mv.version, mv.stage, mv.artifact_version_id FROM "
                      "model_versions mv JOIN models m ON m.id = mv.model_id "
                      "WHERE mv.artifact_version_id = ANY($1::bigint[]) ORDER BY mv.id",
                      all_array)) {
    const std::string id = "m" + row[0].as<std::string>();
    nodes.push_back({{"id", id},
                     {"kind", "model"},
                     {"model", row[1].as<std::string>()},
                     {"version", row[2].as<int>()},
                     {"stage", row[3].as<std::string>()}});
    edges.push_back({{"from", "v" + row[4].as<std::string>()}, {"to", id}});
  }
  return {{"root", "v" + std::to_string(root)}, {"nodes", nodes}, {"edges", edges}};
}

nlohmann::json DashboardQueries::documents(int limit, int64_t before_id) {
  pqxx::nontransaction tx(store_.impl().connection);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& row :
       tx.exec_params("SELECT id, author, platform, kind, url, version, title, fetched_at::text, "
                      "step_run_id FROM documents WHERE is_latest AND ($2 = 0 OR id < $2) "
                      "ORDER BY id DESC LIMIT $1",
                      limit, before_id)) {
    out.push_back({{"id", row[0].as<int64_t>()},
                   {"author", row[1].as<std::string>()},
                   {"platform", row[2].as<std::string>()},
                   {"kind", row[3].as<std::string>()},
                   {"url", row[4].as<std::string>()},
                   {"version", row[5].as<int>()},
                   {"title", row[6].as<std::string>()},
                   {"fetched_at", row[7].as<std::string>()},
                   {"step_run_id", optional_field<int64_t>(row[8]).value_or(0)}});
  }
  return out;
}

DashboardFigures DashboardQueries::figures() {
  pqxx::read_transaction tx(store_.impl().connection);
  DashboardFigures f;
  for (const auto& row : tx.exec("SELECT status, count(*) FROM runs GROUP BY status ORDER BY 1")) {
    f.runs_by_status.emplace_back(row[0].as<std::string>(), row[1].as<int64_t>());
    if (row[0].as<std::string>() == run_status::kQueued) f.queue_depth = row[1].as<int64_t>();
  }
  f.duration_bounds = {0.1, 0.5, 1, 5, 30, 120, 600, 3600};
  const auto h = tx.exec_params1(
      "SELECT count(*) FILTER (WHERE d <= ($1::float8[])[1]), count(*) FILTER (WHERE d <= "
      "($1::float8[])[2]), "
      "count(*) FILTER (WHERE d <= ($1::float8[])[3]), count(*) FILTER (WHERE d <= "
      "($1::float8[])[4]), "
      "count(*) FILTER (WHERE d <= ($1::float8[])[5]), count(*) FILTER (WHERE d <= "
      "($1::float8[])[6]), "
      "count(*) FILTER (WHERE d <= ($1::float8[])[7]), count(*) FILTER (WHERE d <= "
      "($1::float8[])[8]), "
      "coalesce(sum(d), 0), count(*) FROM (SELECT extract(epoch from finished_at - started_at) "
      "AS d FROM step_runs WHERE finished_at IS NOT NULL AND status <> 'cached') t",
      "{0.1,0.5,1,5,30,120,600,3600}");
  for (size_t i = 0; i < f.duration_bounds.size(); ++i)
    f.duration_cumulative.push_back(h[static_cast<int>(i)].as<int64_t>());
  f.duration_sum = h[8].as<double>();
  f.duration_count = h[9].as<int64_t>();
  for (const auto& row : tx.exec("SELECT id, host, pid, extract(epoch from heartbeat_at), "
                                 "extract(epoch from now() - heartbeat_at) FROM schedulers "
                                 "WHERE stopped_at IS NULL ORDER BY id")) {
    f.schedulers.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<int>(),
                            row[3].as<double>(), row[4].as<double>()});
  }
  return f;
}

int64_t DashboardQueries::seed_synthetic_runs(const NewRun& run, int64_t count) {
  pqxx::work tx(store_.impl().connection);
  const int64_t pipeline_id = record_pipeline(tx, run);
  // One statement: the runs and their step rows; every tenth run failed.
  auto row = tx.exec_params1(
      "WITH r AS (INSERT INTO runs (pipeline_id, dag_hash, dag_file, trigger, params, status, "
      "host, pid, created_at, started_at, finished_at) "
      "SELECT $1, $2, $3, 'manual', $4::jsonb, "
      "CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'succeeded' END, 'bench', 0, "
      "now() - make_interval(secs => $5 - g), now() - make_interval(secs => $5 - g), "
      "now() - make_interval(secs => $5 - g) + interval '2 seconds' "
      "FROM generate_series(1, $5::bigint) g RETURNING id, status), "
      "s AS (INSERT INTO run_steps (run_id, step_id, status, attempts) "
      "SELECT r.id, step, r.status, 1 FROM r, unnest($6::text[]) step RETURNING run_id) "
      "SELECT max(id) FROM r",
      pipeline_id, run.dag_hash, run.dag_file, run.params.dump(), count,
      to_pg_text_array(run.step_ids));
  tx.exec("ANALYZE runs");
  tx.commit();
  return row[0].as<int64_t>();
}

}  // namespace twinflow
