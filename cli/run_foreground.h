// Running a prepared run in this process with live progress: what `twinflow
// run` and `twinflow rerun` share.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/execution/runner.h"

namespace twinflow {

class AppContext;

struct ForegroundOptions {
  int jobs = 0;  // 0: the number of cores
  bool no_cache = false;
};

// Records the run, executes it, prints progress and the recorded summary.
// Returns the exit code (0 succeeded, 1 failed, 130 cancelled).
int run_in_foreground(AppContext& ctx, const PreparedRun& run, const ForegroundOptions& options);

// "key=value" strings to overrides; prints an error and returns nullopt for a
// string without '='.
std::optional<std::map<std::string, std::string>> parse_param_overrides(
    const std::vector<std::string>& params);

// Loads a DAG file with `-p key=value` overrides, as `run` and `trigger` take
// them. Prints what is wrong (bad -p, the file's diagnostics) and returns
// nullopt: the command's exit code is then kExitUsage.
std::optional<Dag> load_dag_with_params(const std::string& dag_file,
                                        const std::vector<std::string>& params);

}  // namespace twinflow
