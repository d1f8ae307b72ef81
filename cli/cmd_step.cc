// `twinflow step TYPE`: runs a built-in typed step inside a step process,
// through the step protocol (docs/STEP_PROTOCOL.md). The executor starts it;
// people rarely call it by hand.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/app_context.h"
#include "cli/commands.h"
#include "scheduler/dag.h"

namespace twinflow {

void add_step_command(CLI::App& app, AppContext& /*ctx*/, int* exit_code) {
  auto* cmd = app.add_subcommand("step", "Run a built-in step (used by the executor)");
  auto type = std::make_shared<std::string>();
  cmd->add_option("type", *type, "Step type")->required();
  cmd->callback([exit_code, type] {
    // The typed steps land with the data and training issues; until then the
    // file format accepts them and running one fails clearly.
    std::cerr << "twinflow step " << *type << ": this step type is not implemented yet\n";
    *exit_code = kExitFailed;
  });
}

}  // namespace twinflow
