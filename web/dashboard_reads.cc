// The dashboard's read routes: runs, steps, logs, artifacts, lineage, metrics,
// models, schedules, prompts, search, documents (see docs/DASHBOARD.md).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>

#include "http/confined_path.h"
#include "http/static_files.h"
#include "scheduler/daemon/schedule_policy.h"
#include "scheduler/definition/cron.h"
#include "scheduler/definition/dag_directory.h"
#include "scheduler/definition/dag_loader.h"
#include "scheduler/execution/runner.h"
#include "store/feature_store.h"
#include "store/lineage_queries.h"
#include "store/model_registry.h"
#include "store/run_ledger.h"
#include "store/run_queue.h"
#include "util/build_info.h"
#include "util/error.h"
#include "web/dashboard_impl.h"

namespace twinflow {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

const std::vector<std::string> kRunStatuses = {"queued", "running",   "succeeded",
                                               "failed", "cancelled", "interrupted"};
const std::vector<std::string> kTriggers = {"manual", "rerun", "schedule", "event", "api"};

Json optional_json(const std::optional<int64_t>& v) {
  return v ? Json(*v) : Json();
}

Json to_json(const RunRecord& r) {
  return {{"id", r.id},
          {"pipeline", r.pipeline},
          {"dag_file", r.dag_file},
          {"parent_run_id", optional_json(r.parent_run_id)},
          {"trigger", r.trigger},
          {"params", r.params},
          {"status", r.status},
          {"cancel_requested", r.cancel_requested},
          {"host", r.host},
          {"created_at", rfc3339(r.created_at)},
          {"started_at", rfc3339(r.started_at)},
          {"finished_at", rfc3339(r.finished_at)},
          {"heartbeat_at", rfc3339(r.heartbeat_at)},
          {"duration_seconds", r.duration_seconds},
          {"error", r.error},
          {"logical_time", rfc3339(r.logical_time)}};
}

Json to_json(const ArtifactVersionRecord& v) {
  return {{"id", v.id},
          {"artifact", v.artifact},
          {"type", v.type},
          {"version", v.version},
          {"sha256", v.content_hash},
          {"size_bytes", v.size_bytes},
          {"metadata", v.metadata},
          {"producer_step_run_id", optional_json(v.producer_step_run_id)},
          {"created_at", rfc3339(v.created_at)}};
}

Json to_json(const ModelVersionRecord& v) {
  return {{"model", v.model},
          {"version", v.version},
          {"stage", v.stage},
          {"artifact", v.artifact},
          {"artifact_version", v.artifact_version},
          {"artifact_version_id", v.artifact_version_id},
          {"sha256", v.content_hash},
          {"run_id", optional_json(v.run_id)},
          {"step_run_id", optional_json(v.step_run_id)},
          {"metrics", v.metrics},
          {"created_at", rfc3339(v.created_at)}};
}

RunRecord require_run(DashboardSession& s, const std::string& id_text) {
  auto run = s.store.runs().find_run(parse_id(id_text, "run id"));
  if (!run) throw ApiError{404, "no run " + id_text};
  return *run;
}

ArtifactVersionRecord require_version(DashboardSession& s, const PathParams& p) {
  const int version = static_cast<int>(parse_id(p[1], "version"));
  auto v = s.store.runs().find_artifact_version(p[0], version);
  if (!v) throw ApiError{404, "no version " + p[1] + " of artifact '" + p[0] + "'"};
  return *v;
}

// ?before= and ?after= of a keyset list (DashboardQueries::PageRequest),
// and ?limit=: in an id list (newest first) `before` goes on to older rows
// and `after` back to newer ones; in a name list `after` goes on, `before`
// back. One of them at most.
DashboardQueries::PageRequest page_request(const QueryArgs& args, bool by_id, int fallback_limit,
                                           int max_limit) {
  DashboardQueries::PageRequest page;
  page.limit = static_cast<int>(args.integer("limit", fallback_limit, 1, max_limit));
  std::string before, after;
  if (by_id) {
    const int64_t b = args.integer("before", 0, 0, INT64_MAX);
    const int64_t a = args.integer("after", 0, 0, INT64_MAX);
    if (b > 0) before = std::to_string(b);
    if (a > 0) after = std::to_string(a);
  } else {
    before = args.text("before");
    after = args.text("after");
  }
  if (!before.empty() && !after.empty())
    throw ApiError{400, "give either 'before' or 'after', not both"};
  page.backward = by_id ? !after.empty() : !before.empty();
  page.cursor = before.empty() ? after : before;
  return page;
}

// The cursors of the pages beside `page` as JSON members: "next_before" and
// "prev_after" (id lists) or "next_after" and "prev_before" (name lists),
// each null when there is nothing that way.
std::string page_cursors(const DashboardQueries::PageRequest& request,
                         const DashboardQueries::PageJson& page, bool by_id) {
  std::string next, prev;
  if (!request.backward) {
    if (page.more) next = page.last;
    if (!request.cursor.empty()) prev = page.first;
  } else {
    if (page.more) prev = page.first;
    next = page.last;
  }
  auto json = [&](const std::string& cursor) {
    return cursor.empty() ? std::string("null") : by_id ? cursor : Json(cursor).dump();
  };
  return by_id ? "\"next_before\":" + json(next) + ",\"prev_after\":" + json(prev)
               : "\"next_after\":" + json(next) + ",\"prev_before\":" + json(prev);
}

HttpResponse svg_response(std::string svg) {
  HttpResponse r = HttpResponse::text(200, std::move(svg));
  r.header("Content-Type", "image/svg+xml").header("Cache-Control", "no-store");
  return r;
}

// The attempt of a step a log request names (?attempt=N, default the latest)
// and its log file, confined to $TWINFLOW_HOME/logs.
struct LogFile {
  StepRunRecord attempt;
  fs::path path;
};

LogFile require_log(DashboardSession& s, const fs::path& home, const HttpRequest& request,
                    const PathParams& p) {
  const int64_t run_id = parse_id(p[0], "run id");
  const int attempt = static_cast<int>(QueryArgs(request).integer("attempt", 0, 0, 100000));
  auto step_run = s.store.runs().find_step_run(run_id, p[1], attempt);
  if (!step_run) throw ApiError{404, "no attempt of step '" + p[1] + "' in run " + p[0]};
  if (step_run->log_path.empty()) throw ApiError{404, "this attempt has no log (cached)"};
  Confinement c = confine(home / "logs", step_run->log_path);
  if (!c.refusal.empty()) throw ApiError{c.missing ? 404 : 403, "log refused: " + c.refusal};
  return {*step_run, c.resolved};
}

std::string read_range(const fs::path& path, uint64_t offset, uint64_t length) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ApiError{404, "cannot open the file"};
  in.seekg(static_cast<std::streamoff>(offset));
  std::string data(length, '\0');
  in.read(data.data(), static_cast<std::streamsize>(length));
  data.resize(static_cast<size_t>(in.gcount()));
  return data;
}

}  // namespace

HttpResponse Dashboard::Impl::info(DashboardSession&, const HttpRequest&, const PathParams&) {
  return json_response(200,
                       {{"version", twinflow_build_id()}, {"read_only", options.token.empty()}});
}

HttpResponse Dashboard::Impl::runs(DashboardSession& s, const HttpRequest& request,
                                   const PathParams&) {
  QueryArgs args(request);
  RunFilter filter;
  filter.pipeline = args.text("pipeline");
  filter.status = args.choice("status", kRunStatuses);
  filter.trigger = args.choice("trigger", kTriggers);
  const auto wanted = page_request(args, true, 50, options.max_page_size);
  filter.limit = wanted.limit;
  if (!wanted.backward && !wanted.cursor.empty()) filter.before_id = std::stoll(wanted.cursor);
  const int64_t after = wanted.backward ? std::stoll(wanted.cursor) : 0;
  // PostgreSQL builds the page's JSON (the hottest route does no per-row work
  // here), and only when the page's rows changed since the body kept for
  // these arguments was built.
  const std::string key = "runs\n" + filter.pipeline + "\n" + filter.status + "\n" +
                          filter.trigger + "\n" + std::to_string(filter.limit) + "\n" +
                          std::to_string(filter.before_id) + "\n" + std::to_string(after);
  const auto kept = responses.find(key);
  const auto page = s.queries.runs_page_json(filter, after, kept ? kept->validator : "");
  if (page.unchanged && kept) return json_escaped_response(200, *kept->body);
  // Keyset pagination: older runs are below the oldest shown, newer above the newest.
  DashboardQueries::PageJson cursors{"", page.count, page.more,
                                     page.count ? std::to_string(page.newest_id) : "",
                                     page.count ? std::to_string(page.oldest_id) : ""};
  HttpResponse response = json_text_response(
      200, "{" + page_cursors(wanted, cursors, true) + ",\"runs\":" + page.json + "}");
  // A running run's duration follows the clock: such a page is kept a second at most.
  responses.store(key, page.validator, response.body,
                  page.live ? std::chrono::seconds(1) : std::chrono::milliseconds(0));
  return response;
}

HttpResponse Dashboard::Impl::run_graph(DashboardSession& s, const HttpRequest&,
                                        const PathParams& p) {
  const RunRecord run = require_run(s, p[0]);
  Dag dag = dag_of_run(s.store, run);
  std::map<std::string, RunStepRecord> states;
  for (auto& step : s.store.runs().run_steps(run.id)) states[step.step_id] = step;
  GraphSpec graph;
  for (const Step& step : dag.steps) {
    const auto it = states.find(step.id);
    const std::string status = it == states.end() ? "pending" : it->second.status;
    std::string label = step.id + "\n" + status;
    if (it != states.end() && it->second.attempts > 1)
      label += " (" + std::to_string(it->second.attempts) + " attempts)";
    graph.nodes.push_back({step.id, label, status_colour(status), "box"});
    for (const std::string& need : step.needs) graph.edges.push_back({need, step.id});
  }
  return svg_response(graphs.render(graph));
}

HttpResponse Dashboard::Impl::step_log(DashboardSession& s, const HttpRequest& request,
                                       const PathParams& p) {
  const LogFile log = require_log(s, options.home, request, p);
  QueryArgs args(request);
  const uint64_t size = fs::file_size(log.path);
  const auto max = static_cast<int64_t>(options.max_log_chunk);
  // ?offset=N follows a growing log from N; without it, the tail.
  const int64_t offset_arg = args.integer("offset", -1, -1, INT64_MAX);
  const int64_t tail = args.integer("tail", 64 << 10, 1, max);
  const uint64_t start = offset_arg >= 0 ? std::min<uint64_t>(offset_arg, size)
                                         : size - std::min<uint64_t>(size, tail);
  const uint64_t length = std::min<uint64_t>(size - start, max);
  const std::string text = read_range(log.path, start, length);
  const bool running = log.attempt.status == "running";
  return json_response(200, {{"step_run_id", log.attempt.id},
                             {"attempt", log.attempt.attempt},
                             {"status", log.attempt.status},
                             {"size", size},
                             {"offset", start},
                             {"next_offset", start + text.size()},
                             {"complete", !running && start + text.size() >= size},
                             {"text", text}});
}

HttpResponse Dashboard::Impl::step_log_raw(DashboardSession& s, const HttpRequest& request,
                                           const PathParams& p) {
  const LogFile log = require_log(s, options.home, request, p);
  const uint64_t size = fs::file_size(log.path);
  HttpResponse r = HttpResponse::text(200, read_range(log.path, 0, size));
  r.header("Content-Type", "text/plain; charset=utf-8")
      .header("Content-Disposition",
              "attachment; filename=\"" + p[0] + "-" + std::to_string(log.attempt.id) + ".log\"");
  return r;
}

namespace {

Json metric_series(DashboardSession& s, int64_t run_id) {
  std::map<int64_t, std::string> step_of;
  for (const auto& a : s.store.runs().step_runs(run_id))
    step_of[a.id] = a.step_id + "#" + std::to_string(a.attempt);
  std::map<std::pair<std::string, std::string>, Json> series;
  for (const auto& m : s.store.runs().metrics_of_run(run_id)) {
    Json& points = series[{step_of[m.step_run_id], m.key}];
    if (points.is_null()) points = Json::array();
    points.push_back({m.step ? Json(*m.step) : Json(points.size()), m.value});
  }
  Json out = Json::array();
  for (auto& [key, points] : series)
    out.push_back({{"step", key.first}, {"key", key.second}, {"points", points}});
  return out;
}

}  // namespace

HttpResponse Dashboard::Impl::run_metrics(DashboardSession& s, const HttpRequest&,
                                          const PathParams& p) {
  const RunRecord run = require_run(s, p[0]);
  return json_response(200, {{"run_id", run.id}, {"series", metric_series(s, run.id)}});
}

HttpResponse Dashboard::Impl::compare_metrics(DashboardSession& s, const HttpRequest& request,
                                              const PathParams&) {
  const std::string list = QueryArgs(request).text("runs", 400);
  if (list.empty()) throw ApiError{400, "say which runs: ?runs=12,13"};
  Json runs = Json::array();
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    const RunRecord run = require_run(s, list.substr(start, end - start));
    runs.push_back({{"run", to_json(run)}, {"series", metric_series(s, run.id)}});
    if (runs.size() > 10) throw ApiError{400, "compare at most 10 runs"};
    start = end + 1;
  }
  return json_response(200, {{"runs", runs}});
}

HttpResponse Dashboard::Impl::pipelines(DashboardSession& s, const HttpRequest& request,
                                        const PathParams&) {
  const int recent = static_cast<int>(QueryArgs(request).integer("recent", 0, 0, 50));
  // One statement; the JSON is built only when the rows it shows changed
  // since the body kept for this `recent` was built.
  const std::string key = "pipelines\n" + std::to_string(recent);
  const auto kept = responses.find(key);
  const auto list = s.queries.pipelines_json(recent, kept ? kept->validator : "");
  if (list.unchanged && kept) return json_escaped_response(200, *kept->body);
  HttpResponse response = json_text_response(200, "{\"pipelines\":" + list.json + "}");
  // A running run's duration follows the clock: such a grid is kept a second at most.
  responses.store(key, list.validator, response.body,
                  list.live ? std::chrono::seconds(1) : std::chrono::milliseconds(0));
  return response;
}

HttpResponse Dashboard::Impl::artifacts(DashboardSession& s, const HttpRequest& request,
                                        const PathParams&) {
  const auto wanted = page_request(QueryArgs(request), false, 100, options.max_page_size);
  const auto page = s.queries.artifacts_page_json(wanted);
  return json_text_response(
      200, "{" + page_cursors(wanted, page, false) + ",\"artifacts\":" + page.json + "}");
}

HttpResponse Dashboard::Impl::artifact_versions(DashboardSession& s, const HttpRequest& request,
                                                const PathParams& p) {
  // Paged like an id list, by version number: ?before= older, ?after= newer.
  const auto wanted = page_request(QueryArgs(request), true, 100, options.max_page_size);
  const auto page = s.queries.artifact_versions_page(p[0], wanted);
  if (page.versions.empty() &&
      (wanted.cursor.empty() || !s.store.runs().find_artifact_version(p[0], 0)))
    throw ApiError{404, "no artifact '" + p[0] + "'"};
  Json out = Json::array();
  for (const auto& v : page.versions) out.push_back(to_json(v));
  const bool any = !page.versions.empty();
  const DashboardQueries::PageJson cursors{"", static_cast<int>(page.versions.size()), page.more,
                                           any ? std::to_string(page.versions.front().version) : "",
                                           any ? std::to_string(page.versions.back().version) : ""};
  return json_text_response(200, "{\"artifact\":" + Json(p[0]).dump() + "," +
                                     page_cursors(wanted, cursors, true) +
                                     ",\"versions\":" + out.dump() + "}");
}

HttpResponse Dashboard::Impl::artifact_version(DashboardSession& s, const HttpRequest&,
                                               const PathParams& p) {
  const ArtifactVersionRecord v = require_version(s, p);
  Json files = Json::array();
  std::error_code ec;
  const fs::path root = v.uri;
  if (fs::is_directory(root, ec)) {
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator() && files.size() < 1000; it.increment(ec))
      if (it->is_regular_file(ec))
        files.push_back(
            {{"path", fs::relative(it->path(), root).string()}, {"size_bytes", it->file_size(ec)}});
  } else if (fs::is_regular_file(root, ec)) {
    files.push_back({{"path", root.filename().string()}, {"size_bytes", fs::file_size(root, ec)}});
  }
  Json consumers = Json::array();
  for (const auto& e : s.store.runs().edges_of_version(v.id))
    consumers.push_back({{"direction", e.direction},
                         {"name", e.name},
                         {"run_id", e.run_id},
                         {"step_id", e.step_id},
                         {"step_run_id", e.step_run_id}});
  return json_response(200, {{"version", to_json(v)},
                             {"files", files},
                             {"is_directory", fs::is_directory(root, ec)},
                             {"edges", consumers}});
}

HttpResponse Dashboard::Impl::artifact_file(DashboardSession& s, const HttpRequest&,
                                            const PathParams& p) {
  const ArtifactVersionRecord v = require_version(s, p);
  Confinement blob = confine(options.home / "artifacts", v.uri);
  if (!blob.refusal.empty())
    throw ApiError{blob.missing ? 404 : 403, "artifact content refused: " + blob.refusal};
  fs::path file;
  if (fs::is_directory(blob.resolved)) {
    Confinement c = confine_relative(blob.resolved, p[2]);
    if (!c.refusal.empty()) throw ApiError{c.missing ? 404 : 403, "file refused: " + c.refusal};
    file = c.resolved;
  } else {
    // A single-file artifact: only its own name.
    if (p[2] != blob.resolved.filename().string() && p[2] != "content")
      throw ApiError{404, "this version is one file: ask for files/content"};
    file = blob.resolved;
  }
  if (!fs::is_regular_file(file)) throw ApiError{404, "not a file"};
  const uint64_t size = fs::file_size(file);
  if (size > (256u << 20)) throw ApiError{413, "file too large for the dashboard"};
  HttpResponse r = HttpResponse::text(200, read_range(file, 0, size));
  // Served as a download, never rendered: a crawled HTML page stays inert.
  r.header("Content-Type", "application/octet-stream")
      .header("Content-Disposition", "attachment; filename=\"" + file.filename().string() + "\"");
  return r;
}

HttpResponse Dashboard::Impl::lineage(DashboardSession& s, const HttpRequest& request,
                                      const PathParams& p) {
  const int64_t id = parse_id(p[0], "artifact version id");
  if (!s.queries.find_version_by_id(id)) throw ApiError{404, "no artifact version " + p[0]};
  QueryArgs args(request);
  const int depth = static_cast<int>(args.integer("depth", 10, 1, 50));
  Json doc = s.queries.lineage(id, depth, 50);
  doc["sources"] = lineage_sources_json(s.store, id);  // down to the documents (feature store)
  return json_response(200, doc);
}

HttpResponse Dashboard::Impl::lineage_graph(DashboardSession& s, const HttpRequest& request,
                                            const PathParams& p) {
  const int64_t id = parse_id(p[0], "artifact version id");
  if (!s.queries.find_version_by_id(id)) throw ApiError{404, "no artifact version " + p[0]};
  const int depth = static_cast<int>(QueryArgs(request).integer("depth", 10, 1, 50));
  const Json graph = s.queries.lineage(id, depth, 50);
  GraphSpec spec;
  for (const Json& n : graph["nodes"]) {
    const std::string kind = n["kind"];
    GraphNode node{n["id"], "", "#ffffff", "box"};
    if (kind == "version") {
      node.label =
          n["artifact"].get<std::string>() + " v" + std::to_string(n["version"].get<int>());
      node.shape = "note";
      node.fill = n["side"] == "root" ? "#ffe08a" : "#eef3ff";
    } else if (kind == "step_run") {
      node.label = n["step_id"].get<std::string>() + "\nrun " +
                   std::to_string(n["run_id"].get<int64_t>()) + " #" +
                   std::to_string(n["attempt"].get<int>());
      node.fill = status_colour(n["status"]);
    } else if (kind == "document") {
      std::string url = n["url"];
      node.label = url.size() > 60 ? url.substr(0, 57) + "..." : url;
      node.shape = "ellipse";
      node.fill = "#f5f5f5";
    } else {
      node.label = n["model"].get<std::string>() + " v" + std::to_string(n["version"].get<int>()) +
                   "\n" + n["stage"].get<std::string>();
      node.shape = "cylinder";
      node.fill = "#d8f3dc";
    }
    spec.nodes.push_back(node);
  }
  for (const Json& e : graph["edges"]) spec.edges.push_back({e["from"], e["to"]});
  return svg_response(graphs.render(spec));
}

HttpResponse Dashboard::Impl::models(DashboardSession& s, const HttpRequest& request,
                                     const PathParams&) {
  const auto wanted = page_request(QueryArgs(request), false, 100, options.max_page_size);
  const auto page = s.queries.models_page_json(wanted);
  return json_text_response(
      200, "{" + page_cursors(wanted, page, false) + ",\"models\":" + page.json + "}");
}

HttpResponse Dashboard::Impl::model(DashboardSession& s, const HttpRequest&, const PathParams& p) {
  const auto versions = s.store.models().model_versions(p[0]);
  if (versions.empty()) throw ApiError{404, "no model '" + p[0] + "'"};
  Json doc = {{"name", p[0]}, {"versions", Json::array()}, {"history", Json::array()}};
  for (const auto& v : versions) doc["versions"].push_back(to_json(v));
  for (const auto& c : s.store.models().stage_history(p[0]))
    doc["history"].push_back({{"version", c.version},
                              {"from", c.from_stage},
                              {"to", c.to_stage},
                              {"reason", c.reason},
                              {"actor", c.actor},
                              {"step_run_id", optional_json(c.step_run_id)},
                              {"evaluation", c.evaluation},
                              {"changed_at", rfc3339(c.changed_at)}});
  return json_response(200, doc);
}

HttpResponse Dashboard::Impl::schedules(DashboardSession& s, const HttpRequest& request,
                                        const PathParams&) {
  const int count = static_cast<int>(QueryArgs(request).integer("count", 3, 1, 50));
  Json out = Json::array();
  for (const DagFile& dag_file : load_dag_directory(options.dags_dir, nullptr)) {
    const fs::path& file = dag_file.path;
    const LoadResult& loaded = dag_file.loaded;
    if (!loaded.ok() || !loaded.dag->schedule) continue;
    const ScheduleSpec& spec = *loaded.dag->schedule;
    Json entry = {{"pipeline", loaded.dag->name},
                  {"file", file.string()},
                  {"cron", spec.cron},
                  {"timezone", spec.timezone},
                  {"catchup", spec.catchup},
                  {"paused", s.store.queue().is_paused(loaded.dag->name)},
                  {"next", Json::array()}};
    try {
      for (auto t : schedule_of(spec).next_n(std::chrono::system_clock::now(), count))
        entry["next"].push_back(format_iso8601_utc(t));
    } catch (const Error& e) {
      entry["error"] = e.what();
    }
    out.push_back(entry);
  }
  return json_response(200, {{"dags_dir", options.dags_dir}, {"schedules", out}});
}

HttpResponse Dashboard::Impl::prompts(DashboardSession& s, const HttpRequest& request,
                                      const PathParams&) {
  const auto wanted = page_request(QueryArgs(request), true, 50, options.max_page_size);
  const auto page = s.queries.prompts_page_json(wanted);
  return json_text_response(
      200, "{" + page_cursors(wanted, page, true) + ",\"prompts\":" + page.json + "}");
}

HttpResponse Dashboard::Impl::search(DashboardSession& s, const HttpRequest& request,
                                     const PathParams&) {
  QueryArgs args(request);
  SearchQuery query;
  query.text = args.text("q", 2000);
  if (query.text.empty()) throw ApiError{400, "say what to search for: ?q=..."};
  query.k = static_cast<size_t>(args.integer("k", 10, 1, 100));
  const std::string mode = args.choice("mode", {"vector", "text", "hybrid"});
  query.mode = parse_search_mode(mode.empty() ? "hybrid" : mode);
  query.filter.author = args.text("author");
  if (!s.retriever)
    s.retriever = std::make_unique<Retriever>(s.store.features(), options.home / "artifacts",
                                              std::chrono::seconds(10));
  std::vector<SearchHit> hits;
  try {
    hits = s.retriever->search(query);
  } catch (const Error& e) {
    throw ApiError{409, e.what()};  // no embedding model yet, for instance
  }
  Json out = Json::array();
  for (const auto& h : hits)
    out.push_back({{"chunk_id", h.chunk.id},
                   {"document_id", h.chunk.document_id},
                   {"url", h.chunk.url},
                   {"title", h.chunk.title},
                   {"platform", h.chunk.platform},
                   {"author", h.chunk.author},
                   {"score", h.score},
                   {"content", h.chunk.content}});
  return json_response(200, {{"hits", out}});
}

HttpResponse Dashboard::Impl::documents(DashboardSession& s, const HttpRequest& request,
                                        const PathParams&) {
  const auto wanted = page_request(QueryArgs(request), true, 50, options.max_page_size);
  const auto page = s.queries.documents_page_json(wanted);
  return json_text_response(
      200, "{" + page_cursors(wanted, page, true) + ",\"documents\":" + page.json + "}");
}

HttpResponse Dashboard::Impl::document(DashboardSession& s, const HttpRequest&,
                                       const PathParams& p) {
  auto d = s.store.features().find_document(parse_id(p[0], "document id"));
  if (!d) throw ApiError{404, "no document " + p[0]};
  return json_response(200, {{"id", d->id},
                             {"author", d->author},
                             {"platform", d->platform},
                             {"kind", d->kind},
                             {"url", d->url},
                             {"version", d->version},
                             {"title", d->title},
                             {"subtitle", d->subtitle},
                             {"byline", d->byline},
                             {"published_at", rfc3339(d->published_at)},
                             {"content", d->content},
                             {"sha256", d->content_sha256},
                             {"fetched_at", rfc3339(d->fetched_at)},
                             {"step_run_id", d->step_run_id},
                             {"versions", s.queries.document_versions(d->id, 100)}});
}

}  // namespace twinflow
