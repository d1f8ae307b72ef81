// `twinflow show RUN`: a run with its steps, attempts, outputs and metrics,
// and the trigger events it consumed.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "cli/render.h"
#include "scheduler/execution/executor.h"
#include "scheduler/execution/recovery.h"
#include "store/lineage_queries.h"
#include "store/run_ledger.h"
#include "store/run_queue.h"

namespace twinflow {

void add_show_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("show", "Show a run: steps, attempts, outputs, metrics");
  auto run_id = std::make_shared<int64_t>(0);
  cmd->add_option("run", *run_id, "Run id")->required()->check(positive_id());
  cmd->callback([&ctx, exit_code, run_id] {
    recover_interrupted_runs(ctx.store(), host_name());
    auto run = ctx.store().runs().find_run(*run_id);
    if (!run) {
      std::cerr << "twinflow: run " << *run_id << " does not exist\n";
      *exit_code = kExitFailed;
      return;
    }
    const std::vector<ConsumedEvent> events = ctx.store().queue().run_events(run->id);
    if (ctx.json) {
      nlohmann::json doc = run_details_json(ctx.store(), *run);
      doc["events"] = run_events_json(events);
      std::cout << doc.dump(2) << "\n";
    } else {
      print_run_details(std::cout, ctx.store(), *run);
      print_run_events(std::cout, events);
    }
    *exit_code = kExitOk;
  });
}

}  // namespace twinflow
