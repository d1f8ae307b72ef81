// `twinflow rerun RUN --failed | --from STEP`: a new run linked to RUN that
// re-executes what did not succeed (or STEP and what follows it) and reuses
// the recorded outputs of everything else.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "cli/run_foreground.h"
#include "scheduler/execution/executor.h"
#include "scheduler/execution/recovery.h"

namespace twinflow {

void add_rerun_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("rerun", "Re-execute a run from its failure or from a step");
  auto run_id = std::make_shared<int64_t>(0);
  auto failed = std::make_shared<bool>(false);
  auto from = std::make_shared<std::string>();
  auto options = std::make_shared<ForegroundOptions>();
  cmd->add_option("run", *run_id, "The run to re-execute")->required()->check(positive_id());
  auto* failed_flag = cmd->add_flag("--failed", *failed,
                                    "Re-execute failed, interrupted and never-started steps and "
                                    "their descendants; reuse the rest");
  auto* from_opt = cmd->add_option("--from", *from, "Re-execute this step and its descendants");
  failed_flag->excludes(from_opt);
  cmd->add_option("-j,--jobs", options->jobs, "Steps to run at once (default: cores)");
  cmd->add_flag("--no-cache", options->no_cache, "Run every step even when its cache key matches");
  cmd->callback([&ctx, exit_code, run_id, failed, from, options] {
    if (!*failed && from->empty()) {
      std::cerr << "twinflow rerun: say --failed or --from STEP\n";
      *exit_code = kExitUsage;
      return;
    }
    recover_interrupted_runs(ctx.store(), host_name());
    auto run = prepare_rerun(ctx.store(), *run_id, *from);
    *exit_code = run_in_foreground(ctx, run, *options);
  });
}

}  // namespace twinflow
