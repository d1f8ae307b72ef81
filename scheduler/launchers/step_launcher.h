// StepLauncher: what the Executor needs from "the place steps run".
//
// The Executor decides what runs and records everything; a launcher only
// starts attempts, reports how they ended, and stops them. Two kinds:
//   local (local_launcher.h)  a subprocess of this process (SubprocessSet);
//   slurm (slurm_launcher.h)  a batch job on a Slurm cluster.
// The Executor owns one LauncherSet (below), which routes each attempt to the
// kind its step asks for and waits on all of them at once.
//
// Like SubprocessSet, a launcher is passive and single-threaded: nothing
// happens between calls, and wait() is the one place that blocks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "process/subprocess.h"
#include "scheduler/definition/dag.h"

namespace twinflow {

// One attempt to start: the program and its protocol context (as for a local
// subprocess), plus what a cluster needs to place it.
struct AttemptLaunch {
  ProcessSpec process;    // tag, argv, env, cwd (the attempt dir), log_path, timeout
  SlurmResources slurm;   // the step's `slurm:` keys (slurm only)
  std::string job_name;   // a name for the cluster's queue, e.g. "twinflow-12-train-1"
  std::string exit_file;  // where the job writes its exit status (slurm only)
};

// Where a started attempt runs, to record on its step run.
struct LaunchedAttempt {
  int pid = 0;               // local: the process group leader; slurm: 0
  std::string slurm_job_id;  // slurm: the job id sbatch gave
  int64_t pid_start = 0;     // local: its start time (process_tree.h), to tell a reused pid
};

// An attempt a launcher of an earlier scheduler started and that may still
// run (re-attach after a restart; slurm only).
struct AdoptedAttempt {
  uint64_t tag = 0;
  std::string slurm_job_id;
  std::string log_path;
  std::string exit_file;
  std::optional<Millis> timeout;
};

// How an attempt ended.
struct LaunchEnd {
  enum class Outcome {
    kExited,       // of its own accord, with exit_code (0 = success)
    kSignaled,     // killed by `signal`
    kTimedOut,     // the step's timeout, or its Slurm time limit
    kTerminated,   // stopped by terminate() (cancellation)
    kStartFailed,  // could not be started: `detail` says why
    kInterrupted,  // not the step's doing (preempted, node failure): retried for free
    kFailed,       // ended otherwise unsuccessfully (out of memory, cancelled by someone else)
  };
  uint64_t tag = 0;
  Outcome outcome = Outcome::kExited;
  int exit_code = -1;
  int signal = 0;
  std::string detail;  // words for the outcomes that need them
};

using StdoutLineHandler = std::function<void(uint64_t tag, std::string_view line)>;

class StepLauncher {
 public:
  virtual ~StepLauncher() = default;

  // Starts an attempt. A failure of the step's own making (no such program)
  // comes back from wait() as kStartFailed; throws Error for failures of the
  // launcher (the log cannot be created, sbatch refused the job).
  virtual LaunchedAttempt start(const AttemptLaunch& launch) = 0;
  // Tracks an attempt started elsewhere (an earlier scheduler) as if started
  // here. Throws Error when this launcher cannot re-attach.
  virtual void adopt(const AdoptedAttempt& attempt) = 0;
  // Blocks up to max_wait for ended attempts and returns them (maybe none).
  virtual std::vector<LaunchEnd> wait(Millis max_wait) = 0;
  // Stops one attempt (its end says kTerminated) / all of them.
  virtual void terminate(uint64_t tag) = 0;
  virtual void terminate_all() = 0;
  virtual size_t running() const = 0;
};

class SlurmLauncher;

// The launchers of one run, by step executor. The local one always exists;
// the slurm one is made when a step first needs it.
class LauncherSet {
 public:
  LauncherSet(StdoutLineHandler on_stdout_line, int wake_fd, Millis slurm_poll_interval,
              std::string slurm_log_path);
  ~LauncherSet();

  LaunchedAttempt start(const std::string& executor, const AttemptLaunch& launch);
  void adopt(const AdoptedAttempt& attempt);  // always slurm
  // Waits on the local children and polls the cluster, up to max_wait.
  std::vector<LaunchEnd> wait(Millis max_wait);
  void terminate(uint64_t tag);
  void terminate_all();
  size_t running() const;

 private:
  SlurmLauncher& slurm();

  StdoutLineHandler on_stdout_line_;
  Millis slurm_poll_interval_;
  std::string slurm_log_path_;
  std::unique_ptr<StepLauncher> local_;
  std::unique_ptr<SlurmLauncher> slurm_;
  std::vector<uint64_t> slurm_tags_;  // attempts the slurm launcher runs
};

// $TWINFLOW_EXECUTOR, or "local" when unset.
std::string executor_from_environment();

// Throws Error unless `executor` is one of known_executors().
void check_executor_name(const std::string& executor, const std::string& where);

}  // namespace twinflow
