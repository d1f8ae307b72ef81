// SlurmLauncher: the `slurm` executor, each step attempt a Slurm batch job.
//
// start() writes the attempt's batch script (slurm_batch_script.h) into its
// directory and submits it with `sbatch --parsable`. wait() polls the
// controller with one `squeue` for all of its jobs (slurm_queue.h), maps their
// states (slurm_state.h) and, when a job has ended, reads the exit status the
// script left in the attempt directory. Between polls it hands the caller the
// new lines of each job's log, so streamed metrics arrive while a job runs.
// terminate() and the step's timeout (counted from when the job starts
// running, not while it waits in the queue) cancel with `scancel`.
//
// The launcher keeps no state of its own beyond the job ids: after a
// scheduler restart, adopt() re-attaches to a job by id. For that reason its
// destructor does not cancel anything: a scheduler that stops without
// cancelling its run leaves the jobs to the run that resumes it.
//
// Failed commands are noted in one log (`log_path`), for when the cluster
// misbehaves. Polling starts fast after a change and slows to
// `poll_interval` while nothing happens.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/launchers/slurm_queue.h"
#include "scheduler/launchers/step_launcher.h"

namespace twinflow {

struct SlurmLauncherOptions {
  Millis poll_interval{1000};  // the slowest poll
  Millis first_poll{50};       // the fastest, right after a submission or a change
  std::string log_path;        // what went wrong with sbatch, squeue or scancel
  Millis command_timeout{60000};
};

// A command's output.
struct CommandOutput {
  int exit_code = -1;
  std::string out;
  std::string err;  // all it printed (stderr and stdout), or why it could not run
};

// Runs a Slurm client command to the end (argv[0] looked up in PATH).
CommandOutput run_slurm_command(const std::vector<std::string>& argv,
                                const std::vector<std::string>& env,
                                const SlurmLauncherOptions& options);

class SlurmLauncher : public StepLauncher {
 public:
  SlurmLauncher(StdoutLineHandler on_stdout_line, SlurmLauncherOptions options);

  LaunchedAttempt start(const AttemptLaunch& launch) override;
  void adopt(const AdoptedAttempt& attempt) override;
  std::vector<LaunchEnd> wait(Millis max_wait) override;
  void terminate(uint64_t tag) override;
  void terminate_all() override;
  size_t running() const override { return jobs_.size(); }

  // How long until the next poll is due (0: now).
  Millis time_to_next_poll() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Job {
    uint64_t tag = 0;
    std::string id;
    std::string log_path;
    std::string exit_file;
    std::optional<Millis> timeout;
    std::optional<Clock::time_point> running_since;
    std::string last_state;
    uint64_t log_offset = 0;  // of the first log byte not yet handed out as lines
    std::string partial_line;
    bool cancel_requested = false;
    bool timed_out = false;
  };

  Job& track(uint64_t tag, std::string id, std::string log_path, std::string exit_file,
             std::optional<Millis> timeout);
  void poll(std::vector<LaunchEnd>& ended);
  bool query(std::vector<SlurmJobStatus>& statuses);
  std::optional<LaunchEnd> observe(Job& job, const SlurmJobStatus* status, Clock::time_point now);
  LaunchEnd end_from_exit_file(const Job& job, const std::string& state);
  void stream_log(Job& job);
  void cancel(const std::vector<Job*>& jobs);
  void speed_up();

  StdoutLineHandler on_stdout_line_;
  SlurmLauncherOptions options_;
  std::map<uint64_t, Job> jobs_;  // by tag
  Clock::time_point next_poll_ = Clock::now();
  Millis interval_;
};

}  // namespace twinflow
