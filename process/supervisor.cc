// See supervisor.h.
#include "process/supervisor.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "process/process_tree.h"

extern char** environ;

namespace twinflow {
namespace {

using Clock = std::chrono::steady_clock;

// Killing what is left should take milliseconds; a process stuck in the
// kernel (state D) may take longer, and is waited for this long.
constexpr std::chrono::seconds kKillLimit{30};
// How often the parent is checked when no signal comes.
constexpr long kTickNanos = 200'000'000;

void say(const char* what, const char* detail) {
  fprintf(stderr, "twinflow supervisor: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
}

// Reaps every child that ended; notes the command's status.
void reap_children(pid_t command, bool* command_done, int* command_status) {
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (pid == command) {
      *command_done = true;
      *command_status = status;
    }
  }
}

// SIGKILLs every descendant and reaps them: they are ours (subreaper) once
// their parents die.
void kill_everything(pid_t command, bool* command_done, int* command_status) {
  const auto give_up = Clock::now() + kKillLimit;
  for (;;) {
    reap_children(command, command_done, command_status);
    std::vector<pid_t> left = process_descendants(getpid());
    if (left.empty()) {
      // Zombies of direct children may still wait to be reaped.
      reap_children(command, command_done, command_status);
      return;
    }
    for (pid_t pid : left) kill(pid, SIGKILL);
    if (Clock::now() >= give_up) {
      say("some processes of the step would not die", nullptr);
      return;
    }
    struct timespec pause = {0, 2'000'000};
    nanosleep(&pause, nullptr);
  }
}

// SIGTERM to the step's group and to each descendant that left it.
void terminate_everything() {
  const pid_t group = getpgrp();
  kill(-group, SIGTERM);  // we block SIGTERM: it only wakes us
  for (pid_t pid : process_descendants(getpid()))
    if (getpgid(pid) != group) kill(pid, SIGTERM);
}

// Leaves the way the command did: its exit code, or its signal.
[[noreturn]] void exit_like(int status) {
  if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);  // the command's core, if any, was its own
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    kill(getpid(), sig);
    _exit(128 + sig);
  }
  _exit(1);
}

}  // namespace

int supervise_main(int argc, char** argv) {
  if (argc < 6) {
    say("usage: twinflow __supervise PARENT_PID GRACE_MS PROGRAM ARGV0 [ARGS...]", nullptr);
    return 2;
  }
  const pid_t parent = static_cast<pid_t>(atol(argv[2]));
  const auto grace = std::chrono::milliseconds(atol(argv[3]));
  const char* program = argv[4];
  char** command_argv = argv + 5;

  sigset_t watched;
  sigemptyset(&watched);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD, kOwnerGoneSignal}) sigaddset(&watched, sig);
  sigprocmask(SIG_BLOCK, &watched, nullptr);
  prctl(PR_SET_PDEATHSIG, kOwnerGoneSignal);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  // The parent may have died before PR_SET_PDEATHSIG took effect.
  if (getppid() != parent) return 137;

  const pid_t command = fork();
  if (command < 0) {
    say("cannot fork", strerror(errno));
    return 127;
  }
  if (command == 0) {
    prctl(PR_SET_PDEATHSIG, 0);
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(program, command_argv, environ);
    fprintf(stderr, "twinflow: cannot run '%s': %s\n", program, strerror(errno));
    _exit(127);
  }
  // The step's output is the command's: our copy of the pipe must not keep it open.
  if (!freopen("/dev/null", "w", stdout)) close(STDOUT_FILENO);

  bool command_done = false, stopping = false;
  int command_status = 0;
  Clock::time_point kill_at{};
  for (;;) {
    struct timespec tick = {0, kTickNanos};
    siginfo_t info;
    const int sig = sigtimedwait(&watched, &info, &tick);
    reap_children(command, &command_done, &command_status);
    if (sig == kOwnerGoneSignal || getppid() != parent) {
      kill_everything(command, &command_done, &command_status);
      return 137;
    }
    if ((sig == SIGTERM || sig == SIGINT || sig == SIGHUP) && !stopping) {
      stopping = true;
      kill_at = Clock::now() + grace;
      terminate_everything();
    }
    if (stopping && Clock::now() >= kill_at)
      kill_everything(command, &command_done, &command_status);
    if (command_done) {
      // Whatever the command left behind ends with it.
      kill_everything(command, &command_done, &command_status);
      exit_like(command_status);
    }
  }
}

}  // namespace twinflow
