// `twinflow logs RUN STEP [--attempt N]`: prints the log of a step's attempt
// (the latest by default).
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "store/run_ledger.h"

namespace twinflow {

void add_logs_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("logs", "Print the log of a step of a run");
  auto run_id = std::make_shared<int64_t>(0);
  auto step = std::make_shared<std::string>();
  auto attempt = std::make_shared<int>(0);
  cmd->add_option("run", *run_id, "Run id")->required()->check(positive_id());
  cmd->add_option("step", *step, "Step id")->required();
  cmd->add_option("--attempt", *attempt, "Attempt number (default: the latest)")
      ->check(whole_number(1, 1000000));
  cmd->callback([&ctx, exit_code, run_id, step, attempt] {
    auto record = ctx.store().runs().find_step_run(*run_id, *step, *attempt);
    if (!record) {
      std::cerr << "twinflow: run " << *run_id << " has no attempt of step '" << *step << "'\n";
      *exit_code = kExitFailed;
      return;
    }
    if (record->log_path.empty()) {
      std::cerr << "twinflow: attempt " << record->attempt << " of '" << *step << "' has no log ("
                << record->status << ")\n";
      *exit_code = kExitFailed;
      return;
    }
    std::ifstream log(record->log_path, std::ios::binary);
    if (!log) {
      std::cerr << "twinflow: cannot open " << record->log_path << "\n";
      *exit_code = kExitFailed;
      return;
    }
    std::cout << log.rdbuf();
    std::cout.flush();
    *exit_code = kExitOk;
  });
}

}  // namespace twinflow
