// SubprocessSet: runs many child processes at once and reports when each ends.
//
// The executor starts one child per running step and then calls wait() in its
// loop. The set is passive: nothing happens between calls. wait() is the one
// place that blocks, in a single poll() over every child's exit (a pidfd) and
// stdout (a pipe), so a thousand running steps cost no threads.
//
// Each child leads its own process group, so a timeout or terminate() stops
// everything the step started (shell pipelines, background jobs), not just
// the program we ran. A spec with a `supervisor` runs its command under
// `twinflow __supervise` (supervisor.h): the child we see is the supervisor,
// which stops the command's whole tree, descendants that left the group
// included, when told to or when we die, and ends only once all of it has. Its stderr goes straight
// to the log file; its stdout comes through us, so we can hand complete lines to the caller (the
// step protocol speaks JSON lines) while appending the bytes to the same log.
//
// Not thread-safe: one thread owns a SubprocessSet.
#pragma once

#include <sys/types.h>
#include "util/duration.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twinflow {

struct ProcessSpec {
  uint64_t tag = 0;               // caller's id, returned in the result
  std::vector<std::string> argv;  // argv[0] looked up in PATH (of `env`, else ours) if no '/'
  std::vector<std::string> env;   // the complete environment, "K=V" entries
  std::string cwd;                // empty: inherit ours
  std::string log_path;           // created/appended: gets stdout and stderr; empty: discard
  std::optional<Millis> timeout;  // wall-clock limit
  Millis kill_grace{5000};        // SIGTERM -> wait this long -> SIGKILL
  // A twinflow binary to run the command under (`twinflow __supervise`,
  // supervisor.h), so that none of its processes, setsid'd ones included,
  // outlives us or the command; empty: the command is our child itself.
  std::string supervisor;
};

struct ProcessResult {
  enum class Outcome { kExited, kSignaled, kTimedOut, kTerminated, kSpawnFailed };

  uint64_t tag = 0;
  pid_t pid = -1;
  Outcome outcome = Outcome::kExited;
  int exit_code = -1;  // when it exited of its own accord (also after a SIGTERM it handled)
  int signal = 0;      // kSignaled / kTimedOut / kTerminated: the signal that ended it, if any
  // kSpawnFailed: why (e.g. "cannot run 'nosuchprog': No such file or directory").
  // Otherwise non-empty only when we failed the child, e.g. its log could not be written.
  std::string error;
  std::chrono::steady_clock::time_point started, finished;
  uint64_t output_bytes = 0;  // stdout bytes written to the log
};

class SubprocessSet {
 public:
  // on_stdout_line gets every complete stdout line (without '\n') of every
  // child, as it arrives. It may call terminate() but not wait() or start().
  explicit SubprocessSet(
      std::function<void(uint64_t tag, std::string_view line)> on_stdout_line = {});
  ~SubprocessSet();  // SIGKILLs the group of, and reaps, every child still running
  SubprocessSet(const SubprocessSet&) = delete;
  SubprocessSet& operator=(const SubprocessSet&) = delete;

  // Returns the child's pid, or -1 when it could not be started; that failure
  // (e.g. no such program) comes back as a kSpawnFailed result from wait().
  // Throws SystemError only for failures of our own, e.g. the log file cannot
  // be created.
  pid_t start(const ProcessSpec& spec);

  // Blocks up to max_wait until at least one child has ended and returns all
  // that have, or until the wake fd is readable or max_wait has passed (then
  // the result may be empty). Enforces timeouts and kill graces meanwhile.
  std::vector<ProcessResult> wait(Millis max_wait);

  // A fd (e.g. a self-pipe a signal handler writes to) that makes wait()
  // return early when readable. wait() does not drain it. -1: none.
  void set_wake_fd(int fd) { wake_fd_ = fd; }

  // SIGTERM to the child's process group, SIGKILL after its kill_grace; its
  // result then says kTerminated. Does nothing for an unknown tag.
  void terminate(uint64_t tag);
  void terminate_all();

  size_t running() const { return children_.size(); }
  pid_t pid_of(uint64_t tag) const;  // -1 when no child with that tag is running

 private:
  struct Child;
  using Clock = std::chrono::steady_clock;

  void fail_spawn(const ProcessSpec& spec, std::string error);
  void enforce_deadlines(Clock::time_point now);
  Clock::time_point next_deadline(Clock::time_point limit) const;
  void stop(Child& child, ProcessResult::Outcome reason, Clock::time_point now);
  void read_stdout(Child& child);
  void drain_stdout(Child& child);
  void consume(Child& child, std::string_view data);
  void append_to_log(Child& child, std::string_view data);
  void split_lines(Child& child, std::string_view data);
  void keep_line_part(Child& child, std::string_view part);
  void close_stdout(Child& child);
  ProcessResult reap(Child& child);

  std::function<void(uint64_t, std::string_view)> on_stdout_line_;
  std::vector<std::unique_ptr<Child>> children_;  // started, not yet reported
  std::vector<ProcessResult> spawn_failures_;     // for the next wait()
  std::vector<char> buffer_;                      // one stdout chunk
  int wake_fd_ = -1;
};

}  // namespace twinflow
