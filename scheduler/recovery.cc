#include "scheduler/recovery.h"

#include <signal.h>

#include <fstream>
#include <sstream>

namespace twinflow {
namespace {

// The process group of `pid` as /proc says, or -1.
int process_group_of(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return -1;
  // Fields after the parenthesised command: state ppid pgrp ...
  auto close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 1));
  std::string state;
  int ppid = 0, pgrp = -1;
  rest >> state >> ppid >> pgrp;
  return pgrp;
}

}  // namespace

bool is_live_twinflow_process(int pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
  std::string argv0;
  std::getline(cmdline, argv0, '\0');
  if (process_group_of(pid) < 0) return false;  // a zombie or gone
  return argv0.ends_with("twinflow");
}

int recover_interrupted_runs(Store& store, const std::string& host,
                             std::chrono::seconds stale_after) {
  int orphaned = 0;
  auto orphans = store.reap_interrupted_runs(host, is_live_twinflow_process,
                                             static_cast<int>(stale_after.count()));
  for (const auto& attempt : orphans) {
    ++orphaned;
    // Each step leads its own process group (pgid == pid); only kill a group
    // that still has that leader, so a recycled pid is left alone.
    if (attempt.host == host && attempt.pid > 0 && process_group_of(attempt.pid) == attempt.pid)
      ::kill(-attempt.pid, SIGKILL);
  }
  return orphaned;
}

}  // namespace twinflow
