// `twinflow runs [--pipeline P] [--status S] [--limit N]`: the newest runs.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "cli/render.h"
#include "scheduler/execution/executor.h"
#include "scheduler/execution/recovery.h"
#include "store/run_ledger.h"

namespace twinflow {

void add_runs_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("runs", "List runs, newest first");
  auto filter = std::make_shared<RunFilter>();
  cmd->add_option("--pipeline", filter->pipeline, "Only runs of this pipeline");
  cmd->add_option("--status", filter->status, "Only runs with this status")
      ->check(
          CLI::IsMember({"queued", "running", "succeeded", "failed", "cancelled", "interrupted"}));
  cmd->add_option("--trigger", filter->trigger, "Only runs started this way");
  cmd->add_option("--limit", filter->limit, "How many (default 20)")->check(whole_number(1, 10000));
  cmd->add_option("--before", filter->before_id, "Only runs older than this run id (paging)")
      ->check(positive_id());
  cmd->callback([&ctx, exit_code, filter] {
    recover_interrupted_runs(ctx.store(), host_name());
    auto runs = ctx.store().runs().list_runs(*filter);
    if (ctx.json) {
      nlohmann::json doc = nlohmann::json::array();
      for (const auto& r : runs) doc.push_back(to_json(r));
      std::cout << doc.dump(2) << "\n";
    } else {
      print_runs_table(std::cout, runs);
    }
    *exit_code = kExitOk;
  });
}

}  // namespace twinflow
