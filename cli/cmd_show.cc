// `twinflow show RUN`: a run with its steps, attempts, outputs and metrics.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "cli/render.h"
#include "scheduler/executor.h"
#include "scheduler/recovery.h"

namespace twinflow {

void add_show_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("show", "Show a run: steps, attempts, outputs, metrics");
  auto run_id = std::make_shared<int64_t>(0);
  cmd->add_option("run", *run_id, "Run id")->required()->check(positive_id());
  cmd->callback([&ctx, exit_code, run_id] {
    recover_interrupted_runs(ctx.store(), host_name());
    auto run = ctx.store().find_run(*run_id);
    if (!run) {
      std::cerr << "twinflow: run " << *run_id << " does not exist\n";
      *exit_code = kExitFailed;
      return;
    }
    if (ctx.json)
      std::cout << run_details_json(ctx.store(), *run).dump(2) << "\n";
    else
      print_run_details(std::cout, ctx.store(), *run);
    *exit_code = kExitOk;
  });
}

}  // namespace twinflow
