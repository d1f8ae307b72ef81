// InterruptPipe: turns SIGINT and SIGTERM into a readable fd and a flag, so
// the executor's poll loop notices Ctrl-C and stops its children cleanly.
//
// A signal handler can only touch async-signal-safe state, so the pipe's
// write end and the flag are the one piece of process-wide state in twinflow:
// there is at most one InterruptPipe alive at a time, and it restores the old
// handlers when destroyed.
#pragma once

#include <csignal>

namespace twinflow {

class InterruptPipe {
 public:
  InterruptPipe();
  ~InterruptPipe();
  InterruptPipe(const InterruptPipe&) = delete;
  InterruptPipe& operator=(const InterruptPipe&) = delete;

  int read_fd() const { return fds_[0]; }
  bool interrupted() const;
  int signal_number() const;

 private:
  int fds_[2] = {-1, -1};
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

}  // namespace twinflow
