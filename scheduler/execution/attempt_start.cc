#include "scheduler/execution/attempt_start.h"

#include "util/error.h"

namespace twinflow {

namespace {

bool recorded_before_start(const std::string& executor) {
  return executor == "slurm";
}

}  // namespace

StartedAttempt start_and_record(LauncherSet& launchers, RunRecorder& recorder,
                                const std::string& executor, const AttemptLaunch& launch,
                                const AttemptIdentity& who) {
  const ProcessSpec& spec = launch.process;
  auto record = [&](int pid, int64_t pid_start) {
    return recorder.start_attempt(who.run_id, who.step->id, who.attempt, who.host, pid,
                                  spec.log_path, who.cache_key, pid_start);
  };
  StartedAttempt started;
  const bool first = recorded_before_start(executor);
  if (first) started.step_run_id = record(0, 0);
  LaunchedAttempt launched;
  try {
    launched = launchers.start(executor, launch);
  } catch (const Error& e) {
    if (!first) started.step_run_id = record(0, 0);
    started.error = e.what();
    return started;
  }
  if (first)
    recorder.set_slurm_job_id(started.step_run_id, launched.slurm_job_id);
  else
    started.step_run_id = record(launched.pid, launched.pid_start);
  return started;
}

std::optional<AdoptedJob> adopt_interrupted_job(LauncherSet& launchers, RunRecorder& recorder,
                                                int64_t resumed_run_id, const AttemptIdentity& who,
                                                const std::filesystem::path& home, uint64_t tag) {
  const Step& step = *who.step;
  auto interrupted = recorder.adoptable_slurm_attempt(resumed_run_id, step.id);
  if (!interrupted) return std::nullopt;
  AdoptedJob job;
  job.paths = attempt_paths(home, interrupted->run_id, step.id, interrupted->attempt);
  job.step_run_id = recorder.start_attempt(who.run_id, step.id, who.attempt, who.host, 0,
                                           job.paths.log.string(), who.cache_key);
  if (!recorder.adopt_slurm_attempt(interrupted->step_run_id, job.step_run_id)) {
    job.error = "Slurm job " + interrupted->slurm_job_id + " was re-attached by another run first";
    return job;
  }
  launchers.adopt({tag, interrupted->slurm_job_id, job.paths.log.string(),
                   (job.paths.dir / "exit_status").string(), step.timeout});
  return job;
}

}  // namespace twinflow
