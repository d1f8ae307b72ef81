// twinflow: the command-line entry point. It only wires subcommands together;
// each lives in its own cli/cmd_*.cc.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "process/supervisor.h"
#include "store/reconnect.h"
#include "util/build_info.h"
#include "util/error.h"
#include "util/strings.h"

int main(int argc, char** argv) {
  using namespace twinflow;
  // A step's supervisor (supervisor.h): hidden, and before anything else.
  if (argc > 1 && std::string_view(argv[1]) == kSuperviseCommand) return supervise_main(argc, argv);
  // Before anything else: a byte string that is not text would otherwise
  // surface as a database or JSON-library error deep inside a subcommand.
  if (auto problem = non_utf8_argument(argc, argv)) {
    std::cerr << "twinflow: " << *problem << "\n";
    return kExitUsage;
  }
  AppContext ctx;
  CLI::App app{"twinflow: run LLM-twin pipelines (DAG files) as recorded, cached, retried steps",
               "twinflow"};
  app.require_subcommand(1);
  app.fallthrough();  // lets `twinflow runs --json` reach the app-wide --json flag
  app.set_version_flag("--version", twinflow_build_id());
  app.add_flag("--json", ctx.json, "Print machine-readable JSON");
  int exit_code = kExitOk;
  add_run_command(app, ctx, &exit_code);
  add_rerun_command(app, ctx, &exit_code);
  add_runs_command(app, ctx, &exit_code);
  add_show_command(app, ctx, &exit_code);
  add_logs_command(app, ctx, &exit_code);
  add_cancel_command(app, ctx, &exit_code);
  add_artifacts_command(app, ctx, &exit_code);
  add_lineage_command(app, ctx, &exit_code);
  add_validate_command(app, ctx, &exit_code);
  add_db_command(app, ctx, &exit_code);
  add_step_command(app, ctx, &exit_code);
  add_schedules_command(app, ctx, &exit_code);
  add_search_command(app, ctx, &exit_code);
  add_extract_command(app, ctx, &exit_code);
  add_serve_files_command(app, ctx, &exit_code);
  add_scheduler_commands(app, ctx, &exit_code);
  add_models_command(app, ctx, &exit_code);
  add_prompts_command(app, ctx, &exit_code);
  add_serve_command(app, ctx, &exit_code);
  add_web_command(app, ctx, &exit_code);
  check_common_options(app);
  // One line per bad argument: "twinflow: --limit: must be ..., got '-1'".
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "twinflow: " + std::string(e.what()) + " (see twinflow --help)\n";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  } catch (const Error& e) {
    // libpq's messages run over two lines; twinflow's own may list problems.
    std::cerr << "twinflow: " << (is_connection_loss(e) ? one_line(e.what()) : e.what()) << "\n";
    return kExitFailed;
  } catch (const std::exception& e) {
    // A database that went away mid-command is not a bug of twinflow's.
    std::cerr << "twinflow: "
              << (is_connection_loss(e) ? "lost the database: " : "unexpected error: ")
              << one_line(e.what()) << "\n";
    return kExitFailed;
  }
  return exit_code;
}
