#include "cli/interrupt.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "util/error.h"

namespace twinflow {
namespace {

// Written only by the handler and read by the loop: see the header.
volatile sig_atomic_t g_signal = 0;
int g_write_fd = -1;

void on_signal(int sig) {
  int saved = errno;
  g_signal = sig;
  char byte = 1;
  if (g_write_fd >= 0) (void)!::write(g_write_fd, &byte, 1);
  errno = saved;
}

}  // namespace

InterruptPipe::InterruptPipe() {
  if (::pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0) throw SystemError("cannot create a pipe", errno);
  g_signal = 0;
  g_write_fd = fds_[1];
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &old_int_);
  sigaction(SIGTERM, &action, &old_term_);
}

InterruptPipe::~InterruptPipe() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
  g_write_fd = -1;
  ::close(fds_[0]);
  ::close(fds_[1]);
}

bool InterruptPipe::interrupted() const {
  return g_signal != 0;
}
int InterruptPipe::signal_number() const {
  return g_signal;
}

}  // namespace twinflow
