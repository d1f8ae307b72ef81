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

void DashboardQueries::ready() {
  if (configured_ && prepared_generation_ == store_.impl().connection.generation()) return;
  prepared_.clear();  // a new connection after a lost one: nothing is prepared on it
  // The dashboard's statements read a few index entries each; the planner's
  // estimates for the small tables (pipelines) are often far too high and
  // then put a plan over jit_above_cost: JIT compiling took 175 ms of a
  // pipelines grid that runs in 1 ms.
  //
  // Every statement is written so that its generic plan walks the right
  // index (see runs_statement), and the planner's estimates for them are far
  // off (550 pipelines for one), so that a custom plan looks cheaper than the
  // generic one and a prepared statement was planned again on every
  // execution: 1 ms of planning for a 0.3 ms pipelines grid. The generic
  // plan is made once per connection and kept.
  pqxx::nontransaction(store_.impl().connection)
      .exec("SET jit = off; SET plan_cache_mode = force_generic_plan");
  prepared_generation_ = store_.impl().connection.generation();
  configured_ = true;
}

bool DashboardQueries::is_prepared(const std::string& name) {
  ready();
  return prepared_.count(name) > 0;
}

void DashboardQueries::prepare_once(const std::string& name, const std::string& sql) {
  ready();
  if (prepared_.count(name)) return;
  store_.impl().connection.get().prepare(name, sql);
  prepared_.insert(name);
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

DashboardQueries::VersionsPage DashboardQueries::artifact_versions_page(const std::string& name,
                                                                        const PageRequest& page) {
  // One version more than the page, to know whether there are more that way.
  // A backward page is read oldest first from the cursor, then turned round.
  const std::string cursor = page.cursor.empty() ? "0" : page.cursor;
  const std::string where = page.backward ? "a.name = $1 AND v.version > $2::bigint"
                                          : "a.name = $1 AND ($2::bigint = 0 OR v.version < $2)";
  const std::string sql = std::string("SELECT ") + kVersionColumns +
                          " FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact_id "
                          "WHERE " +
                          where + " ORDER BY v.version" + (page.backward ? "" : " DESC") +
                          " LIMIT $3";
  pqxx::nontransaction tx(store_.impl().connection);
  VersionsPage out;
  for (const auto& row : tx.exec_params(sql, name, std::stoll(cursor), page.limit + 1))
    out.versions.push_back(read_version(row));
  out.more = static_cast<int>(out.versions.size()) > page.limit;
  if (out.more) out.versions.pop_back();
  if (page.backward) std::reverse(out.versions.begin(), out.versions.end());
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
