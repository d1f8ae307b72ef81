// `twinflow cancel RUN`: asks a running run to stop. Its twinflow process
// sees the request at its next heartbeat, terminates the running steps and
// records the run cancelled. A run whose process is gone is recorded
// interrupted instead.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "scheduler/execution/executor.h"
#include "scheduler/execution/recovery.h"
#include "store/run_ledger.h"

namespace twinflow {

void add_cancel_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("cancel", "Cancel a running run");
  auto run_id = std::make_shared<int64_t>(0);
  cmd->add_option("run", *run_id, "Run id")->required()->check(positive_id());
  cmd->callback([&ctx, exit_code, run_id] {
    recover_interrupted_runs(ctx.store(), host_name());
    if (ctx.store().runs().request_cancel(*run_id)) {
      std::cout << "asked run " << *run_id << " to cancel\n";
      *exit_code = kExitOk;
      return;
    }
    auto run = ctx.store().runs().find_run(*run_id);
    std::cerr << "twinflow: run " << *run_id
              << (run ? " is already " + run->status : std::string(" does not exist")) << "\n";
    *exit_code = kExitFailed;
  });
}

}  // namespace twinflow
