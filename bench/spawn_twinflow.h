// Starting the twinflow binary from a benchmark: with its own home and
// database, the caller's TWINFLOW_* variables removed, output appended to a
// log. Shared by the benchmarks that drive `twinflow` as a user would.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)

extern char** environ;

namespace twinflow::bench {

// Returns the child's pid, or -1 when it could not be started.
inline pid_t spawn_twinflow(const std::vector<std::string>& args, const std::filesystem::path& home,
                            const std::string& url, const std::filesystem::path& log) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    if (std::string_view(*e).substr(0, 9) != "TWINFLOW_") env.emplace_back(*e);
  env.push_back("TWINFLOW_HOME=" + home.string());
  env.push_back("TWINFLOW_DATABASE_URL=" + url);
  std::vector<std::string> argv = {TWINFLOW_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> a, e;
  for (auto& s : argv) a.push_back(s.data());
  a.push_back(nullptr);
  for (auto& s : env) e.push_back(s.data());
  e.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t pid = -1;
  if (posix_spawn(&pid, a[0], &actions, nullptr, a.data(), e.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

}  // namespace twinflow::bench
