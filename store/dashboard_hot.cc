// DashboardQueries: the reads the dashboard serves most (the runs list and
// the pipelines grid), each one prepared statement that reads a validator of
// the rows it shows and builds their JSON only when the caller's copy is not
// current (see dashboard_queries.h).
#include <algorithm>

#include "store/dashboard_queries.h"
#include "store/store_impl.h"

namespace twinflow {

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

DashboardQueries::RunsJson DashboardQueries::runs_page_json(const RunFilter& filter,
                                                            int64_t after_id,
                                                            const std::string& known_validator) {
  RunsStatement st = runs_statement("twinflow_runs_page_", filter, after_id);
  // One run more than the page is read, to know whether there are more.
  const std::string limit = "$" + std::to_string(st.params.size());
  st.params.push_back(known_validator);
  const std::string known = "$" + std::to_string(st.params.size());
  const char* order = after_id > 0 ? "" : " DESC";
  // The page's rows (with their row versions, xmin) are read once; the
  // validator is made of their ids and versions, and the JSON is built only
  // when it is not the one the caller already has (an InitPlan under CASE is
  // run only when reached).
  if (!is_prepared(st.name))
    prepare_once(
        st.name,
        "WITH page AS MATERIALIZED (SELECT q.*, row_number() OVER (ORDER BY q.id" +
            std::string(order) + ") AS n FROM (SELECT r.*, r.xmin AS x FROM runs r" + st.where +
            " ORDER BY " + (st.lead.empty() ? "" : st.lead + (after_id > 0 ? " DESC, " : ", ")) +
            "r.id" + order + " LIMIT " + limit + "::int + 1) q), "
            "tag AS MATERIALIZED (SELECT md5(coalesce(string_agg(id::text || ':' || x::text, ',' ORDER BY "
            "id), '')) AS v, count(*) AS c, min(id) FILTER (WHERE n <= " + limit +
            ") AS lo, max(id) FILTER (WHERE n <= " + limit + ") AS hi, coalesce(bool_or("
            "finished_at IS NULL) FILTER (WHERE n <= " + limit + "), false) AS live FROM page) "
            "SELECT tag.v, tag.c, tag.lo, tag.hi, tag.live, CASE WHEN tag.v = " + known +
            "::text THEN NULL ELSE (SELECT coalesce(json_agg(json_build_object('id', r.id, "
            "'pipeline', p.name, 'dag_file', r.dag_file, 'parent_run_id', r.parent_run_id, "
            "'trigger', r.trigger, 'params', r.params, 'status', r.status, 'cancel_requested', "
            "r.cancel_requested, 'host', coalesce(r.host, ''), "
            "'created_at', " TWINFLOW_RFC3339_SQL("r.created_at") ", "
            "'started_at', " TWINFLOW_RFC3339_SQL("r.started_at") ", "
            "'finished_at', " TWINFLOW_RFC3339_SQL("r.finished_at") ", "
            "'heartbeat_at', " TWINFLOW_RFC3339_SQL("r.heartbeat_at") ", 'duration_seconds', "
            "extract(epoch from coalesce(r.finished_at, now()) - coalesce(r.started_at, "
            "r.created_at)), 'error', coalesce(r.error, ''), 'logical_time', "
            TWINFLOW_RFC3339_SQL("r.logical_time") ") ORDER BY r.id DESC), '[]')::text "
            "FROM page r JOIN pipelines p ON p.id = r.pipeline_id WHERE r.n <= " + limit +
            ") END FROM tag");
  pqxx::nontransaction tx(store_.impl().connection);
  const auto row = tx.exec_prepared(st.name, pqxx::prepare::make_dynamic_params(st.params))[0];
  RunsJson out;
  out.validator = row[0].as<std::string>();
  const int rows = row[1].as<int>();
  out.count = std::min(rows, filter.limit);
  out.more = rows > filter.limit;
  out.oldest_id = optional_field<int64_t>(row[2]).value_or(0);
  out.newest_id = optional_field<int64_t>(row[3]).value_or(0);
  out.live = row[4].as<bool>();
  out.unchanged = row[5].is_null();
  if (!out.unchanged) out.json = row[5].as<std::string>();
  return out;
}

DashboardQueries::PipelinesJson DashboardQueries::pipelines_json(
    int recent, const std::string& known_validator) {
  // A pipeline's run count is the settled count remembered for its runs up to
  // an id (counted once) plus a count of the few index entries above it, so
  // a pipeline with 100k runs is not counted again on every request.
  std::vector<int64_t> ids, settled, upto;
  for (const auto& [id, count] : run_counts_) {
    ids.push_back(id);
    settled.push_back(count.settled);
    upto.push_back(count.upto);
  }
  // pl: the pipelines with their counts; recent: each one's newest runs
  // (at least one, for the last status) through runs_by_pipeline
  // (pipeline_id, id DESC), the pipeline a range rather than an equality so
  // that only that index gives the order (with an equality the planner may
  // walk the primary key backwards through every newer run of the others);
  // cells: their steps through run_steps' primary key (OFFSET 0 keeps the
  // planner from hashing all of run_steps). The validator is made of every
  // row's id and version (xmin) and the counts; the JSON, one aggregation
  // per level, is built only when the caller's validator is not it.
  if (!is_prepared("twinflow_pipelines_json"))
    prepare_once(
        "twinflow_pipelines_json",
        "WITH pl AS MATERIALIZED (SELECT p.id, p.xmin AS x, p.name, p.dag_file, c.upto, "
        " coalesce(c.settled, 0) + (SELECT count(*) FROM runs r WHERE r.pipeline_id = p.id "
        " AND r.id > coalesce(c.upto, 0)) AS runs, EXISTS (SELECT 1 FROM pipeline_pauses pp "
        " WHERE pp.pipeline = p.name) AS paused FROM pipelines p "
        " LEFT JOIN unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS c(pipeline_id, "
        " settled, upto) ON c.pipeline_id = p.id), "
        "recent AS MATERIALIZED (SELECT pl.id AS pipeline_id, r.*, row_number() OVER "
        " (PARTITION BY pl.id ORDER BY r.id DESC) AS n FROM pl CROSS JOIN LATERAL ("
        " SELECT id, xmin AS x, status, trigger, created_at, started_at, finished_at FROM runs "
        " WHERE pipeline_id >= pl.id AND pipeline_id <= pl.id ORDER BY pipeline_id, id DESC "
        " LIMIT greatest($4::int, 1)) r), "
        "cells AS MATERIALIZED (SELECT x.pipeline_id, rs.* FROM recent x CROSS JOIN LATERAL ("
        " SELECT rs.run_id, rs.step_id, rs.status, rs.attempts, rs.started_at, rs.xmin AS x "
        " FROM run_steps rs WHERE rs.run_id = x.id OFFSET 0) rs WHERE x.n <= $4), "
        "tag AS MATERIALIZED (SELECT md5(concat_ws('|', "
        " (SELECT string_agg(concat_ws(':', id, x, runs, paused), ',' ORDER BY id) FROM pl), "
        " (SELECT string_agg(id || ':' || x, ',' ORDER BY id) FROM recent), "
        " (SELECT string_agg(run_id || ':' || x, ',' ORDER BY run_id, step_id) FROM cells))) "
        " AS v, (SELECT coalesce(bool_or(finished_at IS NULL), false) FROM recent "
        " WHERE n <= $4) AS live), "
        "by_run AS (SELECT run_id, json_object_agg(step_id, json_build_array(status, attempts)) "
        " AS steps FROM cells GROUP BY run_id), "
        "step_order AS (SELECT pipeline_id, json_agg(step_id ORDER BY first NULLS LAST, "
        " step_id) AS steps FROM (SELECT pipeline_id, step_id, min(started_at) AS first "
        " FROM cells GROUP BY pipeline_id, step_id) s GROUP BY pipeline_id), "
        "by_pipeline AS (SELECT x.pipeline_id, json_agg(json_build_object('id', x.id, "
        " 'status', x.status, 'trigger', x.trigger, "
        " 'created_at', " TWINFLOW_RFC3339_SQL("x.created_at") ", "
        " 'duration_seconds', extract(epoch from coalesce(x.finished_at, now()) - "
        " coalesce(x.started_at, x.created_at)), 'steps', coalesce(b.steps, '{}')) "
        " ORDER BY x.id DESC) AS runs FROM recent x LEFT JOIN by_run b ON b.run_id = x.id "
        " WHERE x.n <= $4 GROUP BY x.pipeline_id) "
        "SELECT tag.v, tag.live, CASE WHEN tag.v = $5::text THEN NULL ELSE (SELECT "
        " coalesce(json_agg(CASE WHEN $4 > 0 THEN json_build_object('name', pl.name, "
        " 'dag_file', pl.dag_file, 'runs', pl.runs, 'last_status', coalesce(l.status, ''), "
        " 'last_run_id', l.id, 'paused', pl.paused, 'steps', coalesce(o.steps, '[]'), "
        " 'recent_runs', coalesce(g.runs, '[]')) ELSE json_build_object('name', pl.name, "
        " 'dag_file', pl.dag_file, 'runs', pl.runs, 'last_status', coalesce(l.status, ''), "
        " 'last_run_id', l.id, 'paused', pl.paused) END ORDER BY pl.name), '[]')::text "
        " FROM pl LEFT JOIN recent l ON l.pipeline_id = pl.id AND l.n = 1 "
        " LEFT JOIN by_pipeline g ON g.pipeline_id = pl.id "
        " LEFT JOIN step_order o ON o.pipeline_id = pl.id) END, "
        // Pipelines whose count is worth settling: id and newest run id.
        " (SELECT string_agg(pl.id || ':' || l.id, ',') FROM pl JOIN recent l ON "
        " l.pipeline_id = pl.id AND l.n = 1 WHERE l.id - coalesce(pl.upto, 0) > $6) FROM tag");
  pqxx::nontransaction tx(store_.impl().connection);
  const auto row = tx.exec_prepared1("twinflow_pipelines_json", to_pg_bigint_array(ids),
                                     to_pg_bigint_array(settled), to_pg_bigint_array(upto), recent,
                                     known_validator, 2 * kUnsettledRuns);
  PipelinesJson out;
  out.validator = row[0].as<std::string>();
  out.live = row[1].as<bool>();
  out.unchanged = row[2].is_null();
  if (!out.unchanged) out.json = row[2].as<std::string>();
  // Settle what is far enough below the newest run that no transaction still
  // open could add a run there (ids are taken at insert, visible at commit).
  const std::string unsettled = text_field(row[3]);
  for (size_t start = 0; start < unsettled.size();) {
    size_t comma = unsettled.find(',', start);
    if (comma == std::string::npos) comma = unsettled.size();
    const std::string item = unsettled.substr(start, comma - start);
    start = comma + 1;
    const size_t colon = item.find(':');
    if (colon == std::string::npos) continue;
    const int64_t pipeline_id = std::stoll(item.substr(0, colon));
    const int64_t bound = std::stoll(item.substr(colon + 1)) - kUnsettledRuns;
    run_counts_[pipeline_id] = {
        tx.exec_params1("SELECT count(*) FROM runs WHERE pipeline_id = $1 AND id <= $2",
                        pipeline_id, bound)[0]
            .as<int64_t>(),
        bound};
  }
  return out;
}

}  // namespace twinflow
