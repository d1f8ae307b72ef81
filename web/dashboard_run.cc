// The dashboard's run document (GET /api/v1/runs/ID): built by PostgreSQL in
// one statement, with each step's type and needs from the run's DAG snapshot
// (parsed once per snapshot), and an ETag from the run's fingerprint so that a
// page polling an unchanged run costs one small query and a 304.
#include <cstdio>

#include "scheduler/execution/runner.h"
#include "util/build_info.h"
#include "util/error.h"
#include "util/hash.h"
#include "web/dashboard_impl.h"

namespace twinflow {

using Json = nlohmann::json;

namespace {

// The ETag of a run's fingerprint under this build (a new build may shape the
// document differently, so its tags differ).
std::string etag_of(const std::string& fingerprint) {
  const uint64_t hash = fnv1a(fingerprint, fnv1a(twinflow_build_id()));
  char tag[24];
  std::snprintf(tag, sizeof tag, "\"%016llx\"", static_cast<unsigned long long>(hash));
  return tag;
}

}  // namespace

std::shared_ptr<const DagSteps> Dashboard::Impl::dag_steps_of(
    DashboardSession& s, int64_t run_id, const DashboardQueries::RunDocument& doc) {
  const std::string key = doc.dag_hash + '\n' + doc.params;
  {
    std::lock_guard lock(dag_mutex);
    if (auto it = dag_cache.find(key); it != dag_cache.end()) return it->second;
  }
  auto steps = std::make_shared<DagSteps>();
  RunRecord run;
  run.id = run_id;
  run.dag_hash = doc.dag_hash;
  run.dag_file = doc.dag_file;
  try {
    run.params = Json::parse(doc.params);
    for (const Step& step : dag_of_run(s.store, run).steps)
      steps->steps[step.id] = {step.type, step.needs};
  } catch (const std::exception& e) {
    steps->error = e.what();
  }
  std::lock_guard lock(dag_mutex);
  if (dag_cache.size() >= 256) dag_cache.clear();  // bounded: many snapshots, few polled at once
  dag_cache[key] = steps;
  return steps;
}

HttpResponse Dashboard::Impl::run(DashboardSession& s, const HttpRequest& request,
                                  const PathParams& p) {
  const int64_t id = parse_id(p[0], "run id");
  const std::string asked = request.header("if-none-match");
  auto not_modified = [](const std::string& tag) {
    HttpResponse unchanged;
    unchanged.status = 304;
    unchanged.header("ETag", tag).header("Cache-Control", "no-cache");
    return unchanged;
  };
  auto with_tag = [](HttpResponse response, const std::string& tag) {
    for (auto& [name, value] : response.headers)
      if (name == "Cache-Control") value = "no-cache";
    response.header("ETag", tag);
    return response;
  };
  if (!asked.empty()) {
    // The page's poll: the fingerprint alone (one small indexed statement)
    // tells whether its copy is still current.
    const auto fingerprint = s.queries.run_fingerprint(id);
    if (!fingerprint) throw ApiError{404, "no run " + p[0]};
    const std::string tag = etag_of(*fingerprint);
    if (asked == tag) return not_modified(tag);
  }
  const std::string key = "run\n" + std::to_string(id);
  const auto kept = responses.find(key);
  // The fingerprint is read with the document, so the tag never names a newer
  // state than the body it comes with; the document is built only when the
  // fingerprint is not that of the body kept for this run.
  const auto doc = s.queries.run_document(id, kept ? kept->validator : "");
  if (!doc) throw ApiError{404, "no run " + p[0]};
  const std::string tag = etag_of(doc->fingerprint);
  if (asked == tag) return not_modified(tag);
  if (doc->unchanged && kept) return with_tag(json_escaped_response(200, *kept->body), tag);
  Json body = Json::parse(doc->json);
  const auto dag = dag_steps_of(s, id, *doc);
  if (!dag->error.empty()) body["dag_error"] = dag->error;
  for (Json& step : body["steps"]) {
    const auto it = dag->steps.find(step["step_id"].get<std::string>());
    if (it == dag->steps.end()) continue;
    step["type"] = it->second.type;
    step["needs"] = it->second.needs;
  }
  HttpResponse response = json_response(200, body);
  responses.store(key, doc->fingerprint, response.body);
  return with_tag(std::move(response), tag);
}

}  // namespace twinflow
