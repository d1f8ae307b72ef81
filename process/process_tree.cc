// See process_tree.h.
#include "process/process_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>

#include "process/supervisor.h"

namespace twinflow {
namespace {

using Clock = std::chrono::steady_clock;

struct StatLine {
  char state = '?';
  pid_t ppid = 0;
  int64_t start = 0;
};

// Parses /proc/PID/stat; false when the process is gone.
bool read_stat(pid_t pid, StatLine* out) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  // The command name may hold spaces and parentheses: fields resume after the last ')'.
  const char* p = strrchr(buf, ')');
  if (!p) return false;
  ++p;
  // Fields 3 (state) to 22 (starttime).
  for (int field = 3; field <= 22; ++field) {
    while (*p == ' ') ++p;
    if (!*p) return false;
    char* end = nullptr;
    if (field == 3) {
      out->state = *p;
      end = const_cast<char*>(p + 1);
    } else {
      long long value = strtoll(p, &end, 10);
      if (field == 4) out->ppid = static_cast<pid_t>(value);
      if (field == 22) out->start = value;
    }
    p = end;
  }
  return true;
}

bool is_zombie(char state) {
  return state == 'Z' || state == 'X' || state == 'x';
}

}  // namespace

int64_t process_start_time(pid_t pid) {
  StatLine stat;
  if (pid <= 0 || !read_stat(pid, &stat)) return 0;
  return stat.start;
}

ProcessState process_state(pid_t pid, int64_t start) {
  StatLine stat;
  if (pid <= 0 || !read_stat(pid, &stat)) return ProcessState::kGone;
  if (start != 0 && stat.start != start) return ProcessState::kGone;
  if (is_zombie(stat.state)) return ProcessState::kGone;
  if (stat.state == 'T' || stat.state == 't') return ProcessState::kStopped;
  return ProcessState::kRunning;
}

std::vector<pid_t> process_descendants(pid_t root) {
  std::multimap<pid_t, pid_t> children;  // parent -> child, live ones only
  if (DIR* dir = opendir("/proc")) {
    while (dirent* entry = readdir(dir)) {
      char* end = nullptr;
      long pid = strtol(entry->d_name, &end, 10);
      if (*end != '\0' || pid <= 0) continue;
      StatLine stat;
      if (read_stat(static_cast<pid_t>(pid), &stat) && !is_zombie(stat.state))
        children.emplace(stat.ppid, static_cast<pid_t>(pid));
    }
    closedir(dir);
  }
  std::vector<pid_t> found;
  std::vector<pid_t> frontier = {root};
  while (!frontier.empty()) {
    pid_t parent = frontier.back();
    frontier.pop_back();
    auto [begin, end] = children.equal_range(parent);
    for (auto it = begin; it != end; ++it) {
      found.push_back(it->second);
      frontier.push_back(it->second);
    }
  }
  return found;
}

bool kill_process_tree(pid_t root, bool including_root, std::chrono::milliseconds limit) {
  const auto give_up = Clock::now() + limit;
  for (;;) {
    std::vector<pid_t> left = process_descendants(root);
    if (including_root && process_state(root, 0) != ProcessState::kGone) left.push_back(root);
    if (left.empty()) return true;
    for (pid_t pid : left) ::kill(pid, SIGKILL);
    if (Clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool wait_process_gone(pid_t pid, int64_t start, std::chrono::milliseconds limit) {
  const auto give_up = Clock::now() + limit;
  while (process_state(pid, start) != ProcessState::kGone) {
    if (Clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

bool ensure_attempt_dead(pid_t pid, int64_t start, std::chrono::milliseconds limit) {
  if (pid <= 0 || process_state(pid, start) == ProcessState::kGone) return true;
  // A supervisor kills its tree and exits; a stopped one must be woken for it.
  ::kill(pid, kOwnerGoneSignal);
  ::kill(pid, SIGCONT);
  if (wait_process_gone(pid, start, limit / 2)) return true;
  // No supervisor (an older attempt), or a stuck one: kill its group and tree
  // from here, as long as it is still the process recorded.
  if (process_state(pid, start) == ProcessState::kGone) return true;
  ::kill(-pid, SIGKILL);
  kill_process_tree(pid, true, limit / 2);
  return wait_process_gone(pid, start, std::chrono::milliseconds(100));
}

}  // namespace twinflow
