// `twinflow step TYPE`: runs a built-in typed step inside a step process,
// through the step protocol (docs/STEP_PROTOCOL.md, docs/STEPS.md). The
// executor starts it; people rarely call it by hand.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "cli/app_context.h"
#include "cli/commands.h"
#include "tasks/steps/step_dispatch.h"

namespace twinflow {

void add_step_command(CLI::App& app, AppContext& /*ctx*/, int* exit_code) {
  auto* cmd = app.add_subcommand("step", "Run a built-in step (used by the executor)");
  auto type = std::make_shared<std::string>();
  auto context = std::make_shared<std::string>();
  cmd->add_option("type", *type, "Step type: crawl, clean, chunk, embed")->required();
  cmd->add_option("--context", *context,
                  "The step's context.json (default: $TWINFLOW_CONTEXT, set by the executor)");
  cmd->callback([exit_code, type, context] {
    std::string path = *context;
    if (path.empty())
      if (const char* env = std::getenv("TWINFLOW_CONTEXT")) path = env;
    if (path.empty()) {
      std::cerr << "twinflow step " << *type
                << ": no context: the executor sets TWINFLOW_CONTEXT; by hand, pass --context\n";
      *exit_code = kExitUsage;
      return;
    }
    *exit_code = run_builtin_step(*type, path);
  });
}

}  // namespace twinflow
