// `twinflow web [--bind 127.0.0.1:8080]`: the web dashboard (web/dashboard.h)
// on loopback until SIGINT or SIGTERM. Actions (rerun, cancel, trigger,
// promote, rollback) are allowed only when TWINFLOW_WEB_TOKEN is set; the
// browser sends it as `Authorization: Bearer TOKEN`.
#include <poll.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/http_options.h"
#include "cli/interrupt.h"
#include "scheduler/execution/executor.h"
#include "scheduler/execution/recovery.h"
#include "web/dashboard.h"

namespace twinflow {
namespace {

struct WebArgs {
  std::string bind = "127.0.0.1:8080", dags_dir = "dags";
  int threads = 4;
  HttpGuardArgs guards;
};

int serve_dashboard(AppContext& ctx, const WebArgs& args) {
  InterruptPipe interrupt;
  ctx.store();  // creates the database and applies migrations before the first request
  DashboardOptions options;
  options.conninfo = ctx.database_url();
  options.home = ctx.home();
  options.dags_dir = args.dags_dir;
  if (const char* token = std::getenv("TWINFLOW_WEB_TOKEN")) options.token = token;
  Dashboard dashboard(options);
  HttpServerOptions http;
  http.bind = args.bind;
  http.threads = args.threads;
  http.max_body_bytes = 64 << 10;
  http.max_header_bytes = 16 << 10;
  http.read_timeout = std::chrono::seconds(15);
  apply_http_guard_options(args.guards, http);
  HttpServer server([&dashboard](const HttpRequest& r) { return dashboard.handle(r); }, http);
  server.start();
  std::cout << "twinflow web: listening on " << server.base_url() << " ("
            << (options.token.empty() ? "read-only: set TWINFLOW_WEB_TOKEN to allow actions"
                                      : "actions need the token")
            << ")" << std::endl;
  // Runs whose twinflow process died are recorded interrupted within seconds.
  OwnerReaper reaper(
      options.conninfo, host_name(), std::chrono::seconds(60),
      [](const std::string& line) { std::cerr << "twinflow web: " << line << "\n"; });
  pollfd fd{interrupt.read_fd(), POLLIN, 0};
  while (!interrupt.interrupted()) poll(&fd, 1, -1);
  server.stop();
  return kExitOk;
}

}  // namespace

void add_web_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("web", "The web dashboard: runs, DAGs, logs, lineage, models");
  auto args = std::make_shared<WebArgs>();
  cmd->add_option("--bind", args->bind,
                  "host:port to listen on (loopback unless told otherwise; port 0: any free)")
      ->capture_default_str();
  add_http_guard_options(cmd, args->guards);
  cmd->add_option("--dags-dir", args->dags_dir, "Where the DAG files with schedules are")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "HTTP threads (each with its database connection)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->callback([&ctx, exit_code, args] { *exit_code = serve_dashboard(ctx, *args); });
}

}  // namespace twinflow
