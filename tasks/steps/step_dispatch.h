// run_builtin_step: the body of `twinflow step TYPE`, the process the executor
// starts for a typed step. Reads the step protocol's context, connects to the
// database, runs the step and writes result.json.
#pragma once

#include <filesystem>
#include <string>

namespace twinflow {

// Returns the exit code. Throws Error (the CLI prints it and exits 1) when the
// type is unknown, the context unreadable, or the step fails.
int run_builtin_step(const std::string& type, const std::filesystem::path& context_file);

}  // namespace twinflow
