// The step supervisor: `twinflow __supervise`, a tiny process between a
// scheduler and every attempt it runs, so that no process of a step
// outlives the scheduler that launched it, including descendants that
// leave the step's process group with setsid.
//
//   scheduler ── twinflow __supervise (group leader, child subreaper)
//                   └── the step's command (same group) ── its descendants
//
// The supervisor
// - sets PR_SET_PDEATHSIG (kOwnerGoneSignal) on itself, and checks
//   getppid() against the scheduler's pid, so the scheduler's death (kill -9
//   included) reaches it at once;
// - makes itself a child subreaper (PR_SET_CHILD_SUBREAPER): a descendant
//   whose parent dies, or that daemonizes with setsid and a double fork, is
//   reparented to the supervisor, never lost to init;
// - on SIGTERM/SIGINT/SIGHUP (the scheduler stops the step: cancel, timeout)
//   sends SIGTERM to the step's group and to every descendant that left it,
//   and SIGKILLs them all once its grace is over;
// - on kOwnerGoneSignal (the scheduler died, or a reaper fences the attempt)
//   SIGKILLs the whole tree at once;
// - when the command ends, SIGKILLs whatever it left behind;
// - exits only once every descendant is gone, with the command's status
//   (its exit code, or dying of the same signal).
//
// SubprocessSet (subprocess.h) runs a ProcessSpec under it when the spec
// names a supervisor binary.
#pragma once

#include <csignal>

namespace twinflow {

// The hidden subcommand's name: argv[1] of the supervisor.
inline constexpr const char* kSuperviseCommand = "__supervise";

// The signal that says "the scheduler is gone: kill everything now".
inline constexpr int kOwnerGoneSignal = SIGUSR2;

// argv: twinflow __supervise PARENT_PID GRACE_MS PROGRAM ARGV0 [ARGS...]
// Returns the exit code when the command exited; dies of the command's
// signal when it was killed.
int supervise_main(int argc, char** argv);

}  // namespace twinflow
