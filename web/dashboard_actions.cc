// The dashboard's actions: rerun a run's failed steps, cancel a run, trigger a
// DAG, promote or roll back a model. They reuse what the CLI does: a rerun or
// a trigger is queued for the scheduler daemon (Store::enqueue_run), the rest
// are the registry's and the runs' own transactions. Dashboard::Impl::route
// has already checked the token and the origin.
#include <algorithm>

#include "scheduler/definition/dag_loader.h"
#include "scheduler/execution/runner.h"
#include "store/model_registry.h"
#include "store/run_ledger.h"
#include "store/run_queue.h"
#include "util/error.h"
#include "util/sha256.h"
#include "web/dashboard_impl.h"

namespace twinflow {

using Json = nlohmann::json;

namespace {

// The request body as a JSON object ({} when empty).
Json body_object(const HttpRequest& request) {
  if (request.body.empty()) return Json::object();
  Json body = Json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    throw ApiError{400, "the body must be a JSON object"};
  return body;
}

std::string string_field(const Json& body, const char* name, size_t max_length = 500) {
  if (!body.contains(name)) return "";
  if (!body[name].is_string()) throw ApiError{400, std::string("'") + name + "' must be a string"};
  std::string value = body[name];
  if (value.size() > max_length) throw ApiError{400, std::string("'") + name + "' is too long"};
  return value;
}

StageChangeRequest web_change(const Json& body) {
  return {string_field(body, "reason"), "dashboard", std::nullopt, Json::object()};
}

Json version_json(const ModelVersionRecord& v) {
  return {{"model", v.model}, {"version", v.version}, {"stage", v.stage}};
}

}  // namespace

HttpResponse Dashboard::Impl::rerun(DashboardSession& s, const HttpRequest& request,
                                    const PathParams& p) {
  body_object(request);
  const int64_t parent_id = parse_id(p[0], "run id");
  PreparedRun prepared;
  try {
    // Checks what `twinflow rerun --failed` checks: the run exists, has
    // ended, and its DAG snapshot still loads.
    prepared = prepare_rerun(s.store, parent_id);
  } catch (const Error& e) {
    const bool missing = !s.store.runs().find_run(parent_id);
    throw ApiError{missing ? 404 : 409, e.what()};
  }
  bool anything = false;
  for (bool wanted : prepared.seed.wanted) anything |= wanted;
  if (!anything) throw ApiError{409, "every step of run " + p[0] + " succeeded: nothing to rerun"};
  // Queued for the daemon, which re-derives the reused steps when it claims
  // the run (SchedulerDaemon::execute_claimed). A second click while that
  // rerun is queued or running gets the same run, not another.
  NewRun run = new_run_of(prepared.dag, "rerun");
  run.parent_run_id = parent_id;
  const RunQueue::QueuedRerun queued = s.store.queue().enqueue_rerun_once(run);
  return json_response(queued.created ? 202 : 200, {{"run_id", queued.run_id},
                                                    {"status", queued.status},
                                                    {"parent_run_id", parent_id},
                                                    {"existing", !queued.created}});
}

HttpResponse Dashboard::Impl::cancel(DashboardSession& s, const HttpRequest& request,
                                     const PathParams& p) {
  body_object(request);
  const int64_t run_id = parse_id(p[0], "run id");
  if (!s.store.runs().find_run(run_id)) throw ApiError{404, "no run " + p[0]};
  if (!s.store.runs().request_cancel(run_id))
    throw ApiError{409, "run " + p[0] + " has already finished"};
  return json_response(202, {{"run_id", run_id}, {"cancel_requested", true}});
}

HttpResponse Dashboard::Impl::trigger(DashboardSession& s, const HttpRequest& request,
                                      const PathParams& p) {
  const Json body = body_object(request);
  auto pipeline = s.queries.find_pipeline(p[0]);
  if (!pipeline) throw ApiError{404, "no pipeline '" + p[0] + "'"};
  LoadOptions load;
  if (body.contains("params")) {
    if (!body["params"].is_object()) throw ApiError{400, "'params' must be an object"};
    for (const auto& [key, value] : body["params"].items())
      load.param_overrides[key] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  // The DAG as its latest run recorded it: the server needs no DAG files.
  LoadResult loaded =
      load_dag_string(s.store.runs().dag_content(pipeline->dag_hash), pipeline->dag_file, load);
  if (!loaded.ok()) throw ApiError{400, format_diagnostics(loaded.diagnostics)};
  const auto id = s.store.queue().enqueue_run(new_run_of(*loaded.dag, "api"), {});
  return json_response(202, {{"run_id", *id}, {"status", "queued"}, {"pipeline", p[0]}});
}

HttpResponse Dashboard::Impl::promote(DashboardSession& s, const HttpRequest& request,
                                      const PathParams& p) {
  const Json body = body_object(request);
  if (!body.contains("version") || !body["version"].is_number_integer())
    throw ApiError{400, "'version' must be an integer"};
  std::string stage = string_field(body, "stage", 20);
  if (stage.empty()) stage = "production";
  if (!is_model_stage(stage)) throw ApiError{400, "unknown stage '" + stage + "'"};
  const int version = body["version"];
  if (!s.store.models().find_model_version(p[0], version))
    throw ApiError{404, "no version " + std::to_string(version) + " of model '" + p[0] + "'"};
  try {
    return json_response(200, version_json(s.store.models().set_model_stage(p[0], version, stage,
                                                                            web_change(body))));
  } catch (const Error& e) {
    throw ApiError{409, e.what()};
  }
}

HttpResponse Dashboard::Impl::rollback(DashboardSession& s, const HttpRequest& request,
                                       const PathParams& p) {
  const Json body = body_object(request);
  if (s.store.models().model_versions(p[0]).empty()) throw ApiError{404, "no model '" + p[0] + "'"};
  // A rollback repeated by a double click would go back two versions: with
  // "from_version" it happens only while that version is in production.
  if (body.contains("from_version")) {
    if (!body["from_version"].is_number_integer())
      throw ApiError{400, "'from_version' must be an integer"};
    const auto current = s.store.models().production_model(p[0]);
    if (!current || current->version != body["from_version"].get<int>())
      throw ApiError{409, "version " + body["from_version"].dump() + " of model '" + p[0] +
                              "' is not in production (now: " +
                              (current ? std::to_string(current->version) : "none") + ")"};
  }
  try {
    return json_response(200,
                         version_json(s.store.models().rollback_model(p[0], web_change(body))));
  } catch (const Error& e) {
    throw ApiError{409, e.what()};
  }
}

HttpResponse Dashboard::Impl::idempotent(DashboardSession& s, const HttpRequest& request,
                                         const std::string& key,
                                         const std::function<HttpResponse()>& action) {
  const bool printable = std::all_of(key.begin(), key.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (key.size() > 255 || !printable)
    throw ApiError{400, "the Idempotency-Key must be 1 to 255 printable ASCII characters"};
  const std::string scope = "dashboard";
  const std::string fingerprint =
      sha256_hex(request.method + " " + request.path + "\n" + request.body);
  const RunQueue::IdempotencyClaim claim =
      s.store.queue().claim_idempotency_key(scope, key, fingerprint, 24);
  switch (claim.state) {
    case RunQueue::IdempotencyClaim::kReplay:
      return json_text_response(claim.status, claim.body).header("Idempotent-Replayed", "true");
    case RunQueue::IdempotencyClaim::kInProgress:
      throw ApiError{409, "a request with this Idempotency-Key is still being answered"};
    case RunQueue::IdempotencyClaim::kMismatch:
      throw ApiError{422, "this Idempotency-Key was used for a different request"};
    case RunQueue::IdempotencyClaim::kClaimed:
      break;
  }
  HttpResponse response;
  try {
    response = action();
  } catch (const ApiError& e) {
    response = json_response(e.status, {{"error", e.message}});
  } catch (...) {
    s.store.queue().release_idempotency_key(scope, key);  // the next try may succeed
    throw;
  }
  if (response.status >= 500)
    s.store.queue().release_idempotency_key(scope, key);
  else
    s.store.queue().complete_idempotency_key(scope, key, response.status, response.body);
  return response;
}

}  // namespace twinflow
