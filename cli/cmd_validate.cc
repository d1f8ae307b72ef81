// `twinflow validate FILE...`: checks DAG files and reports every problem as
// file:line:col. Touches no database. Exit 2 when any file is invalid.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/app_context.h"
#include "cli/commands.h"
#include "scheduler/definition/dag_loader.h"

namespace twinflow {

void add_validate_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("validate", "Check DAG files without running them");
  auto files = std::make_shared<std::vector<std::string>>();
  cmd->add_option("files", *files, "DAG files")->required();
  cmd->callback([&ctx, exit_code, files] {
    bool all_ok = true;
    nlohmann::json doc = nlohmann::json::array();
    for (const auto& file : *files) {
      auto result = load_dag_file(file);
      nlohmann::json entry = {
          {"file", file}, {"ok", result.ok()}, {"errors", nlohmann::json::array()}};
      for (const auto& d : result.diagnostics)
        entry["errors"].push_back({{"line", d.line}, {"column", d.column}, {"message", d.message}});
      doc.push_back(entry);
      if (result.ok()) {
        if (!ctx.json)
          std::cout << file << ": ok (" << result.dag->name << ", " << result.dag->steps.size()
                    << " steps)\n";
      } else {
        all_ok = false;
        if (!ctx.json) std::cerr << format_diagnostics(result.diagnostics);
      }
    }
    if (ctx.json) std::cout << doc.dump(2) << "\n";
    *exit_code = all_ok ? kExitOk : kExitUsage;
  });
}

}  // namespace twinflow
