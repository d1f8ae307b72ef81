// twinflow-supervise: the step supervisor (process/supervisor.h) as a small
// static program of its own, next to `twinflow`. Every local attempt starts
// one, so it must start in a millisecond, not in the tens of milliseconds the
// full `twinflow` binary (libpq, curl, gumbo, ...) takes to load.
//
// argv: twinflow-supervise __supervise PARENT_PID GRACE_MS PROGRAM ARGV0 [ARGS...]
// (the same as `twinflow __supervise ...`, which still works).
#include "process/supervisor.h"

int main(int argc, char** argv) {
  return twinflow::supervise_main(argc, argv);
}
