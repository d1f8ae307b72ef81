// Processes as /proc shows them: who a pid is (its start time, so that a
// reused pid is not mistaken for the process recorded), whether it still
// runs, its descendants, and killing a whole tree. Linux only.
//
// A process is identified by (pid, start): `start` is field 22 of
// /proc/PID/stat, clock ticks after boot, which a reused pid cannot share
// with the process recorded before it (short of a reboot at the same tick).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <vector>

namespace twinflow {

// The start time of `pid` (clock ticks after boot), or 0 when there is no
// such process.
int64_t process_start_time(pid_t pid);

enum class ProcessState {
  kGone,     // no such process, or one with another start time, or a zombie
  kRunning,  // alive (running or sleeping)
  kStopped,  // alive but stopped (SIGSTOP, a debugger): frozen
};

// The state of the process (pid, start); start 0: any process with that pid.
ProcessState process_state(pid_t pid, int64_t start);

// Every live descendant of `root` (children, their children, ...), parents
// before their children. Zombies are left out.
std::vector<pid_t> process_descendants(pid_t root);

// SIGKILLs every descendant of `root` until none is left (new ones forked
// meanwhile included), and `root` itself when `including_root`. Returns
// false when some were still there after `limit`.
bool kill_process_tree(pid_t root, bool including_root, std::chrono::milliseconds limit);

// Waits until (pid, start) is gone, up to `limit`; true when it is.
bool wait_process_gone(pid_t pid, int64_t start, std::chrono::milliseconds limit);

// Makes sure an attempt's process (a step supervisor, supervisor.h, or an
// unsupervised process group leader) and everything it started is dead:
// asks the supervisor to kill its tree, then kills what is left. Does
// nothing when (pid, start) is no longer there. True when all is dead.
bool ensure_attempt_dead(pid_t pid, int64_t start, std::chrono::milliseconds limit);

}  // namespace twinflow
