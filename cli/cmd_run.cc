// `twinflow run DAG [-p k=v]... [--jobs N] [--no-cache]`: runs a DAG in the
// foreground with live progress, records everything, and exits non-zero when
// the run fails.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/run_foreground.h"

namespace twinflow {

void add_run_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("run", "Run a DAG file now, in the foreground");
  auto options = std::make_shared<ForegroundOptions>();
  auto dag_file = std::make_shared<std::string>();
  auto params = std::make_shared<std::vector<std::string>>();
  cmd->add_option("dag", *dag_file, "The DAG file (YAML)")->required();
  cmd->add_option("-p,--param", *params, "Override a DAG param: -p key=value (repeatable)");
  cmd->add_option("-j,--jobs", options->jobs, "Steps to run at once (default: cores)");
  cmd->add_flag("--no-cache", options->no_cache, "Run every step even when its cache key matches");
  cmd->callback([&ctx, exit_code, options, dag_file, params] {
    std::optional<Dag> dag = load_dag_with_params(*dag_file, *params);
    if (!dag) {
      *exit_code = kExitUsage;
      return;
    }
    *exit_code = run_in_foreground(ctx, prepare_fresh_run(std::move(*dag)), *options);
  });
}

}  // namespace twinflow
