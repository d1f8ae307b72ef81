// run_builtin_step: the body of `twinflow step TYPE`, the process the executor
// starts for a typed step. Reads the step protocol's context, connects to the
// database, runs the step and writes result.json.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace twinflow {

// Returns the exit code. Throws Error (the CLI prints it and exits 1) when the
// type is unknown, the context unreadable, or the step fails.
// The types `twinflow step` runs, sorted. scheduler/definition/dag.h's known_step_types()
// is this list plus "command" (a test holds the two together, since the
// scheduler does not depend on the tasks module).
std::vector<std::string> builtin_step_types();

int run_builtin_step(const std::string& type, const std::filesystem::path& context_file);

}  // namespace twinflow
