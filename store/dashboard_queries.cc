// DashboardQueries: the dashboard's read models (see dashboard_queries.h).
#include "store/dashboard_queries.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "store/store_impl.h"
#include "util/error.h"

namespace twinflow {
namespace {

bool read_digits(const std::string& s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

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

nlohmann::json rfc3339(const std::string& s) {
  int year, month, day, hour, minute, second;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
      s[13] != ':' || s[16] != ':' || !read_digits(s, 0, 4, year) || !read_digits(s, 5, 2, month) ||
      !read_digits(s, 8, 2, day) || !read_digits(s, 11, 2, hour) ||
      !read_digits(s, 14, 2, minute) || !read_digits(s, 17, 2, second) || month < 1 || month > 12 ||
      day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return nullptr;
  size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    int scale = 100;
    for (++pos; pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])); ++pos) {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
    }
  }
  int offset_seconds = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    int oh = 0, om = 0, os = 0;
    if (!read_digits(s, pos + 1, 2, oh)) return nullptr;
    pos += 3;
    for (int* part : {&om, &os}) {
      if (pos < s.size() && s[pos] == ':') ++pos;
      if (pos >= s.size()) break;
      if (!read_digits(s, pos, 2, *part)) return nullptr;
      pos += 2;
    }
    offset_seconds = sign * (oh * 3600 + om * 60 + os);
  }
  if (pos != s.size()) return nullptr;
  const int64_t ms =
      (days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
       hour * 3600 + minute * 60 + second - offset_seconds) *
          1000 +
      millis;
  const int64_t day_ms = 86400000;
  const int64_t days = (ms >= 0 ? ms : ms - day_ms + 1) / day_ms;
  const int64_t in_day = ms - days * day_ms;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char out[96];
  std::snprintf(out, sizeof out, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(in_day / 3600000),
                static_cast<long long>(in_day / 60000 % 60),
                static_cast<long long>(in_day / 1000 % 60), static_cast<long long>(in_day % 1000));
  return std::string(out);
}

bool DashboardQueries::connected() {
  return store_.impl().connection.is_open();
}

namespace {

// A prepared statement of the runs page for the filters that are set: its
// name, its WHERE clause (parameters $1..), the index column its ORDER BY
// leads with, and the parameters, limit last.
//
// The first filter (pipeline, status, trigger) is written as a range of one
// value and ordered by, so that only its index (runs_by_pipeline,
// runs_by_status, runs_by_trigger: (column, id DESC)) gives the order: with
// an equality the planner may walk the primary key backwards instead,
// through every newer run (100k index entries for a pipeline that ran once
// long ago, or a status no run has).
struct RunsStatement {
  std::string name, where, lead;
  std::vector<std::string> params;
};

RunsStatement runs_statement(const std::string& prefix, const RunFilter& filter, int64_t after_id) {
  RunsStatement st{prefix, "", "", {}};
  auto add = [&](bool used, const char* key, const std::string& column, const std::string& op,
                 std::string value) {
    st.name += used ? key : "_";
    if (!used) return;
    st.params.push_back(std::move(value));
    std::string param = "$" + std::to_string(st.params.size());
    if (op == "<" || op == ">") param += "::bigint";
    std::string condition = column + " " + op + " " + param;
    if (column == "r.pipeline_id") param = "(SELECT id FROM pipelines WHERE name = " + param + ")";
    if (op == "=" && st.lead.empty()) {
      st.lead = column;
      condition = column + " >= " + param + " AND " + column + " <= " + param;
    } else if (op == "=") {
      condition = column + " = " + param;
    }
    st.where += (st.where.empty() ? " WHERE " : " AND ") + condition;
  };
  add(!filter.pipeline.empty(), "p", "r.pipeline_id", "=", filter.pipeline);
  add(!filter.status.empty(), "s", "r.status", "=", filter.status);
  add(!filter.trigger.empty(), "t", "r.trigger", "=", filter.trigger);
  add(filter.before_id > 0, "b", "r.id", "<", std::to_string(filter.before_id));
  add(after_id > 0, "a", "r.id", ">", std::to_string(after_id));
  st.params.push_back(std::to_string(filter.limit));
  return st;
}

}  // namespace

void DashboardQueries::ready() {
  if (configured_ && prepared_generation_ == store_.impl().connection.generation()) return;
  prepared_.clear();  // a new connection after a lost one: nothing is prepared on it
  // The dashboard's statements read a few index entries each; the planner's
  // estimates for the small tables (pipelines) are often far too high and
  // then put a plan over jit_above_cost: JIT compiling took 175 ms of a
  // pipelines grid that runs in 1 ms.
  pqxx::nontransaction(store_.impl().connection).exec("SET jit = off");
  prepared_generation_ = store_.impl().connection.generation();
  configured_ = true;
}

void DashboardQueries::prepare_once(const std::string& name, const std::string& sql) {
  ready();
  if (prepared_.count(name)) return;
  store_.impl().connection.get().prepare(name, sql);
  prepared_.insert(name);
}

DashboardQueries::RunsJson DashboardQueries::runs_page_json(const RunFilter& filter,
                                                            int64_t after_id) {
  const RunsStatement st = runs_statement("twinflow_runs_json_", filter, after_id);
  // One run more than the page is read, to know whether there are more.
  const std::string last = std::to_string(st.params.size());
  const char* order = after_id > 0 ? "" : " DESC";
  // The fields and formats of a RunRecord as the API shows it.
  prepare_once(st.name,
 std::string("SELECT coalesce(json_agg(j ORDER BY id DESC) FILTER (WHERE n <= $") + last +
            "), '[]')::text, count(*), min(id) FILTER (WHERE n <= $" + last +
            "), max(id) FILTER (WHERE n <= $" + last + ") FROM (SELECT id, j, row_number() OVER "
            "(ORDER BY id" + order + ") AS n FROM ("
        "SELECT r.id, json_build_object('id', r.id, 'pipeline', p.name, 'dag_file', r.dag_file, "
        "'parent_run_id', r.parent_run_id, 'trigger', r.trigger, 'params', r.params, "
        "'status', r.status, 'cancel_requested', r.cancel_requested, "
        "'host', coalesce(r.host, ''), 'created_at', " TWINFLOW_RFC3339_SQL("r.created_at") ", "
        "'started_at', " TWINFLOW_RFC3339_SQL("r.started_at") ", "
        "'finished_at', " TWINFLOW_RFC3339_SQL("r.finished_at") ", "
        "'heartbeat_at', " TWINFLOW_RFC3339_SQL("r.heartbeat_at") ", 'duration_seconds', "
        "extract(epoch from coalesce(r.finished_at, now()) - coalesce(r.started_at, "
        "r.created_at)), 'error', coalesce(r.error, ''), 'logical_time', "
        TWINFLOW_RFC3339_SQL("r.logical_time") ") AS j "
        "FROM runs r JOIN pipelines p ON p.id = r.pipeline_id" +
            st.where + " ORDER BY " +
            (st.lead.empty() ? "" : st.lead + (after_id > 0 ? " DESC, " : ", ")) + "r.id" +
            order + " LIMIT $" + last + "::int + 1) x) page");
  pqxx::nontransaction tx(store_.impl().connection);
  const auto row = tx.exec_prepared(st.name, pqxx::prepare::make_dynamic_params(st.params))[0];
  const int rows = row[1].as<int>();
  return {row[0].as<std::string>(), std::min(rows, filter.limit), rows > filter.limit,
          optional_field<int64_t>(row[2]).value_or(0), optional_field<int64_t>(row[3]).value_or(0)};
}

std::vector<PipelineSummary> DashboardQueries::pipelines() {
  ready();
  // A pipeline's run count is the settled count remembered for its runs up to
  // an id (counted once) plus a count of the few index entries above it, so
  // a pipeline with 100k runs is not counted again on every request.
  std::vector<int64_t> ids, settled, upto;
  for (const auto& [id, count] : run_counts_) {
    ids.push_back(id);
    settled.push_back(count.settled);
    upto.push_back(count.upto);
  }
  std::vector<PipelineSummary> out;
  std::vector<std::pair<int64_t, int64_t>> unsettled;  // pipeline id, newest run id
  prepare_once(
      "twinflow_pipelines",
      "SELECT p.name, p.dag_file, p.dag_hash, coalesce(c.settled, 0) + (SELECT count(*) "
      "FROM runs r WHERE r.pipeline_id = p.id AND r.id > coalesce(c.upto, 0)), "
      "l.status, l.id, EXISTS (SELECT 1 FROM pipeline_pauses pp WHERE pp.pipeline = p.name), "
      "p.id, c.upto FROM pipelines p "
      "LEFT JOIN unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS c(pipeline_id, "
      "settled, upto) ON c.pipeline_id = p.id "
      // The newest run through runs_by_pipeline (see pipeline_grid_json).
      "LEFT JOIN LATERAL (SELECT r.id, r.status FROM runs r WHERE r.pipeline_id >= p.id "
      "AND r.pipeline_id <= p.id ORDER BY r.pipeline_id, r.id DESC LIMIT 1) l ON true "
      "ORDER BY p.name");
  pqxx::nontransaction tx(store_.impl().connection);
  for (const auto& row : tx.exec_prepared("twinflow_pipelines", to_pg_bigint_array(ids),
                                          to_pg_bigint_array(settled), to_pg_bigint_array(upto))) {
    out.push_back(read_pipeline(row));
    const int64_t newest = out.back().last_run_id.value_or(0);
    const int64_t counted_upto = optional_field<int64_t>(row[8]).value_or(0);
    if (newest - counted_upto > 2 * kUnsettledRuns)
      unsettled.emplace_back(row[7].as<int64_t>(), newest);
  }
  // Settle what is far enough below the newest run that no transaction still
  // open could add a run there (ids are taken at insert, visible at commit).
  for (const auto& [pipeline_id, newest] : unsettled) {
    const int64_t bound = newest - kUnsettledRuns;
    run_counts_[pipeline_id] = {
        tx.exec_params1("SELECT count(*) FROM runs WHERE pipeline_id = $1 AND id <= $2",
                        pipeline_id, bound)[0]
            .as<int64_t>(),
        bound};
  }
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

std::vector<ArtifactVersionRecord> DashboardQueries::artifact_versions_page(const std::string& name,
                                                                            int limit, int before) {
  pqxx::nontransaction tx(store_.impl().connection);
  std::vector<ArtifactVersionRecord> out;
  for (const auto& row :
       tx.exec_params(std::string("SELECT ") + kVersionColumns +
                          " FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact_id "
                          "WHERE a.name = $1 AND ($2 = 0 OR v.version < $2) "
                          "ORDER BY v.version DESC LIMIT $3",
                      name, before, limit))
    out.push_back(read_version(row));
  return out;
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

nlohmann::json DashboardQueries::document_versions(int64_t document_id, int limit) {
  pqxx::nontransaction tx(store_.impl().connection);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& row : tx.exec_params(
           "SELECT d.id, d.version, " TWINFLOW_RFC3339_SQL(
               "d.fetched_at") ", d.content_sha256, d.title, d.is_latest, length(d.content) "
                               "FROM documents me JOIN documents d ON d.author = me.author AND "
                               "d.url = me.url WHERE me.id = $1 ORDER BY d.version DESC LIMIT $2",
           document_id, limit)) {
    out.push_back({{"id", row[0].as<int64_t>()},
                   {"version", row[1].as<int>()},
                   {"fetched_at", rfc3339(text_field(row[2]))},
                   {"sha256", text_field(row[3])},
                   {"title", text_field(row[4])},
                   {"is_latest", row[5].as<bool>()},
                   {"content_length", optional_field<int64_t>(row[6]).value_or(0)}});
  }
  return out;
}

std::string DashboardQueries::pipeline_grid_json(int runs) {
  // The newest runs of each pipeline through runs_by_pipeline (pipeline_id,
  // id DESC), materialised once; their step rows through run_steps' primary
  // key (a nested loop: OFFSET 0 keeps the planner from hashing all of
  // run_steps when it overestimates the pipelines); then one aggregation per
  // level. The pipeline is a range, not an equality, so that ORDER BY
  // pipeline_id, id DESC stays and only runs_by_pipeline gives it: with an
  // equality the planner may walk the primary key backwards, through every
  // newer run of other pipelines (100k index entries for a pipeline that ran
  // once long ago). Prepared: the plan is made once per connection.
  prepare_once(
      "twinflow_pipeline_grid",
      "WITH recent AS MATERIALIZED ("
      " SELECT p.id AS pipeline_id, r.id, r.status, r.trigger, r.created_at, r.started_at, "
      " r.finished_at FROM pipelines p CROSS JOIN LATERAL ("
      "  SELECT id, status, trigger, created_at, started_at, finished_at FROM runs "
      "  WHERE pipeline_id >= p.id AND pipeline_id <= p.id ORDER BY pipeline_id, id DESC "
      "  LIMIT $1) r), "
      "cells AS MATERIALIZED ("
      " SELECT x.pipeline_id, rs.run_id, rs.step_id, rs.status, rs.attempts, rs.started_at "
      " FROM recent x CROSS JOIN LATERAL (SELECT rs.run_id, rs.step_id, rs.status, rs.attempts, "
      " rs.started_at FROM run_steps rs WHERE rs.run_id = x.id OFFSET 0) rs), "
      "by_run AS (SELECT run_id, json_object_agg(step_id, json_build_array(status, attempts)) "
      " AS steps FROM cells GROUP BY run_id), "
      "step_order AS (SELECT pipeline_id, json_agg(step_id ORDER BY first NULLS LAST, step_id) "
      " AS steps FROM (SELECT pipeline_id, step_id, min(started_at) AS first FROM cells "
      " GROUP BY pipeline_id, step_id) s GROUP BY pipeline_id), "
      "by_pipeline AS (SELECT x.pipeline_id, json_agg(json_build_object('id', x.id, "
      " 'status', x.status, 'trigger', x.trigger, "
      " 'created_at', " TWINFLOW_RFC3339_SQL("x.created_at") ", "
      " 'duration_seconds', extract(epoch from coalesce(x.finished_at, now()) - "
      " coalesce(x.started_at, x.created_at)), 'steps', coalesce(b.steps, '{}')) "
      " ORDER BY x.id DESC) AS runs FROM recent x LEFT JOIN by_run b ON b.run_id = x.id "
      " GROUP BY x.pipeline_id) "
      "SELECT coalesce(json_object_agg(p.name, json_build_object('steps', "
      " coalesce(o.steps, '[]'), 'runs', coalesce(g.runs, '[]'))), '{}')::text "
      "FROM pipelines p LEFT JOIN by_pipeline g ON g.pipeline_id = p.id "
      "LEFT JOIN step_order o ON o.pipeline_id = p.id");
  pqxx::nontransaction tx(store_.impl().connection);
  return tx.exec_prepared1("twinflow_pipeline_grid", runs)[0].as<std::string>();
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
  tx.commit();
  // As autovacuum would leave a table this size: statistics and the
  // visibility map (index-only scans) up to date.
  pqxx::nontransaction(store_.impl().connection).exec("VACUUM ANALYZE runs, run_steps");
  return row[0].as<int64_t>();
}

}  // namespace twinflow
