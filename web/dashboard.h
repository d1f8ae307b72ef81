// Dashboard: the web dashboard behind `twinflow web`, as an HttpHandler.
//
//   GET  /, /assets/...      the pages (web/assets/, compiled in)
//   GET  /api/v1/...         JSON: runs, steps, logs, artifacts, lineage,
//                            metrics, models, schedules, prompts, search
//   POST /api/v1/...         actions: rerun, cancel, trigger, promote, rollback
//   GET  /metrics            Prometheus text format
//
// docs/DASHBOARD.md lists every route. Reads go through a small pool of
// sessions (a Store connection each: neither Store nor Retriever is
// thread-safe), so each I/O thread works on its own connection.
//
// Actions need the token given in DashboardOptions (from TWINFLOW_WEB_TOKEN)
// as `Authorization: Bearer TOKEN`; a POST must also carry JSON and, when the
// browser says where it comes from (Origin, Sec-Fetch-Site), come from this
// origin. That header cannot be sent cross-site without a CORS preflight this
// server never answers, so a page elsewhere cannot make a user's browser act.
// Without a token the dashboard is read-only: every action gets 403. A rerun
// or a trigger is queued for the scheduler daemon, never executed here.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "http/http_server.h"

namespace twinflow {

struct DashboardOptions {
  std::string conninfo;
  std::filesystem::path home;     // $TWINFLOW_HOME: logs/ and artifacts/ are read from here
  std::string token;              // empty: read-only
  std::string dags_dir = "dags";  // where the schedules come from
  int max_page_size = 500;
  size_t max_log_chunk = 256 << 10;  // bytes of log per request
};

class Dashboard {
 public:
  explicit Dashboard(DashboardOptions options);
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  HttpResponse handle(const HttpRequest& request);

  // For web/dashboard*.cc: the routes' handlers live on it.
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace twinflow
