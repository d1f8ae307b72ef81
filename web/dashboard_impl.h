// Internals of the dashboard shared by web/dashboard*.cc: the session pool,
// request argument parsing, the route handlers. Not for use elsewhere.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "store/dashboard_queries.h"
#include "store/store.h"
#include "tasks/search/retriever.h"
#include "web/dashboard.h"
#include "web/graph_svg.h"
#include "web/response_cache.h"

namespace twinflow {

// What one request works with: a connection and what is built on it.
struct DashboardSession {
  explicit DashboardSession(const std::string& conninfo) : store(conninfo), queries(store) {}
  Store store;
  DashboardQueries queries;
  std::unique_ptr<Retriever> retriever;  // made on the first search
};

// A request the dashboard refuses, with the HTTP status that says why.
struct ApiError {
  int status;
  std::string message;
};

// The query string of a request, read with bounds: anything malformed or
// out of range is an ApiError 400 naming the parameter.
class QueryArgs {
 public:
  explicit QueryArgs(const HttpRequest& request);
  std::string text(const std::string& name, size_t max_length = 200) const;
  int64_t integer(const std::string& name, int64_t fallback, int64_t min, int64_t max) const;
  // One of `allowed`, or "" when absent.
  std::string choice(const std::string& name, const std::vector<std::string>& allowed) const;

 private:
  std::map<std::string, std::string> values_;
};

// A positive id from a path segment; ApiError 400 otherwise.
int64_t parse_id(const std::string& text, const char* what);
HttpResponse json_response(int status, const nlohmann::json& body);
// The same for JSON text made elsewhere (PostgreSQL's json_agg).
HttpResponse json_text_response(int status, const std::string& json);
// The same for JSON text json_text_response already escaped (a cached body).
HttpResponse json_escaped_response(int status, std::string escaped);

using PathParams = std::vector<std::string>;

// What the run page shows of a DAG snapshot: each step's type and needs (or
// why the snapshot no longer loads).
struct DagSteps {
  struct Step {
    std::string type;
    std::vector<std::string> needs;
  };
  std::map<std::string, Step> steps;
  std::string error;
};

struct Dashboard::Impl {
  explicit Impl(DashboardOptions options_) : options(std::move(options_)) {}

  DashboardOptions options;
  GraphSvgRenderer graphs;
  // The hot lists' bodies (runs, pipelines grid, run documents), each used
  // again only while the validator its statement reads is unchanged.
  ResponseCache responses{512, 32u << 20};
  OutageLog outages{"twinflow web"};  // requests that failed for want of the database
  std::mutex pool_mutex;
  std::vector<std::unique_ptr<DashboardSession>> pool;  // idle sessions

  template <typename Fn>
  HttpResponse with_session(Fn fn) {
    std::unique_ptr<DashboardSession> session;
    {
      std::lock_guard lock(pool_mutex);
      if (!pool.empty()) {
        session = std::move(pool.back());
        pool.pop_back();
      }
    }
    if (!session) session = std::make_unique<DashboardSession>(options.conninfo);
    HttpResponse response;
    try {
      response = fn(*session);
    } catch (...) {
      release(std::move(session));
      throw;
    }
    release(std::move(session));
    return response;
  }
  void release(std::unique_ptr<DashboardSession> session) {
    // A connection that broke is dropped; the next request opens a new one.
    if (!session->queries.connected()) return;
    std::lock_guard lock(pool_mutex);
    pool.push_back(std::move(session));
  }

  // DAG snapshots parsed for the run page, by snapshot hash and params.
  std::mutex dag_mutex;
  std::map<std::string, std::shared_ptr<const DagSteps>> dag_cache;
  std::shared_ptr<const DagSteps> dag_steps_of(DashboardSession& s, int64_t run_id,
                                               const DashboardQueries::RunDocument& doc);

  HttpResponse route(const HttpRequest& request);
  HttpResponse asset(const HttpRequest& request);
  // Refuses a mutation (403, 401) unless it carries the token, JSON and
  // comes from this origin; nullopt when it may go on.
  std::optional<HttpResponse> refuse_mutation(const HttpRequest& request) const;

  // --- reads (dashboard_reads.cc) ---
  HttpResponse info(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse runs(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse run(DashboardSession&, const HttpRequest&, const PathParams&);  // dashboard_run.cc
  HttpResponse run_graph(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse step_log(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse step_log_raw(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse run_metrics(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse compare_metrics(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse pipelines(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse artifacts(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse artifact_versions(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse artifact_version(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse artifact_file(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse lineage(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse lineage_graph(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse models(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse model(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse schedules(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse prompts(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse search(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse documents(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse document(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse prometheus(DashboardSession&, const HttpRequest&, const PathParams&);

  // --- actions (dashboard_actions.cc) ---
  // Runs `action` once per Idempotency-Key (docs/DASHBOARD.md): a repeat gets
  // the first answer again, with `Idempotent-Replayed: true`.
  HttpResponse idempotent(DashboardSession& s, const HttpRequest& request, const std::string& key,
                          const std::function<HttpResponse()>& action);
  HttpResponse rerun(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse cancel(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse trigger(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse promote(DashboardSession&, const HttpRequest&, const PathParams&);
  HttpResponse rollback(DashboardSession&, const HttpRequest&, const PathParams&);
};

}  // namespace twinflow
