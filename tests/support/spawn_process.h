// Starting a program from a test: posix_spawn in a process group of its own,
// stdin from /dev/null, stdout to `out_path` and stderr to `err_path` (the
// same file when they are equal). Returns the pid, or -1 when it could not
// start. Defined in twinflow_fixture.cc, whose twinflow() and
// spawn_twinflow() use it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace twinflow {

pid_t spawn_with_files(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       const std::string& out_path, const std::string& err_path);

}  // namespace twinflow
