// Reading what Slurm's commands print: sbatch --parsable, squeue and
// scontrol show job -o. Pure text in, values out, so each is tested on its own.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twinflow {

// One job as the controller reports it.
struct SlurmJobStatus {
  std::string job_id;
  std::string state;   // JobState, e.g. "RUNNING"
  int restarts = 0;    // how often it was requeued
  std::string reason;  // why it waits or ended ("None", "Priority", "NonZeroExitCode", ...)
};

// The job id from `sbatch --parsable` output ("123" or "123;cluster").
// nullopt when the output holds none.
std::optional<std::string> parse_sbatch_job_id(std::string_view output);

// squeue's arguments that list `job_ids` (all states, so recently ended jobs
// too) in the format parse_squeue reads: one call for every job of a poll.
std::vector<std::string> squeue_arguments(const std::vector<std::string>& job_ids);

// Lines "ID|STATE|RESTARTS|REASON" as squeue_arguments asks for them.
// Lines that are not such are skipped.
std::vector<SlurmJobStatus> parse_squeue(std::string_view output);

// One line of `scontrol show job -o` ("JobId=12 JobName=x ... JobState=RUNNING
// Reason=None ... Restarts=0 ..."). nullopt when it has no JobId and JobState.
std::optional<SlurmJobStatus> parse_scontrol_job(std::string_view line);

// Whether squeue's complaint means "none of these jobs is known any more"
// (it says so, with exit code 1, when every listed job has been purged).
bool squeue_knows_none(std::string_view error_output);

}  // namespace twinflow
