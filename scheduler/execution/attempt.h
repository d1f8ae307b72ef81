// Attempt: what executing one attempt of a step takes, shared by the two
// places that do it: the Executor (the steps of the run it owns) and the
// StepHelper (one step another scheduler's run offered, step_helper.h).
//
// Both must launch an attempt the same way, store its outputs the same way,
// and, when it fails, reach the same retry decision: the helper records the
// step's state with the attempt's end, and the owner, reading that end from
// the database, schedules the retry from the decision it computes itself.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "scheduler/definition/dag.h"
#include "scheduler/execution/executor.h"
#include "scheduler/execution/run_recorder.h"
#include "scheduler/execution/step_protocol.h"
#include "scheduler/launchers/step_launcher.h"
#include "store/blob_store.h"
#include "store/records.h"

namespace twinflow {

// Interruptions (a preempted Slurm job, a failed node, a helper that stopped
// heartbeating) are retried without consuming a retry, but not forever.
inline constexpr int kMaxInterruptions = 5;

// Why an attempt did not succeed: the attempt status to record, and words.
std::pair<std::string, std::string> describe_failure(const LaunchEnd& end, const Step& step);

// `reason` followed by "; the disk holding DIR is full (N bytes free)" for the
// first of the attempt's directory and its log's directory whose file system
// is full (util/files.h: full_disk_note): a step whose writes failed for want
// of space (its log often empty, for the same reason) says why.
std::string with_full_disk_note(std::string reason, const AttemptPaths& paths);

// What follows an unsuccessful attempt.
struct RetryDecision {
  bool counts_as_interruption = false;  // free: not one of the step's retries
  bool will_retry = false;
  Millis delay{0};         // before the next attempt
  std::string step_state;  // step_status::kRetrying, kFailed or kCancelled
};
// `interruptions` counts the step's earlier free attempts; `cancelling`: the
// run is being cancelled.
RetryDecision decide_after_failure(const Step& step, int attempt, int interruptions,
                                   const std::string& attempt_status, bool cancelling);

// The launch of an attempt whose context was written to `paths`.
AttemptLaunch make_attempt_launch(const Step& step, const AttemptContext& context,
                                  const AttemptPaths& paths, const ExecutorOptions& options,
                                  const std::vector<std::string>& base_env, uint64_t tag);

// Puts a succeeded attempt's outputs in the blob store; returns what to record.
std::vector<OutputToRecord> store_outputs(const AttemptResult& result, const AttemptPaths& paths,
                                          BlobStore& blobs);

// Where an attempt is recorded: its run, step and attempt, and its row.
struct AttemptRecord {
  int64_t run_id = 0;
  const Step* step = nullptr;
  int attempt = 0;
  int64_t step_run_id = 0;
};

// The one way an attempt that exited 0 is finished: its result read from
// `paths`, its outputs put in the blob store, its final metrics and its end
// recorded (outputs, lineage, the step succeeded: one transaction). Returns
// the output versions. Throws when the result is unreadable or an output is
// missing; the caller then finishes the attempt as failed.
std::vector<NamedVersion> finish_succeeded_attempt(RunRecorder& recorder, BlobStore& blobs,
                                                   const AttemptRecord& attempt,
                                                   const AttemptPaths& paths,
                                                   const std::vector<NamedVersion>& inputs);

// The one way an attempt that did not succeed is finished: the retry decision
// (decide_after_failure) and, with `record`, the attempt's end and the step's
// state recorded. `record` false: the scheduler that ran it recorded it.
RetryDecision finish_unsuccessful_attempt(RunRecorder& recorder, const AttemptRecord& attempt,
                                          int interruptions, const AttemptEnd& end, bool cancelling,
                                          bool record = true);

// This process's environment without another step's protocol variables.
std::vector<std::string> inherited_environment();

// The last `max_lines` lines of a log, read from its end.
std::string log_tail(const std::filesystem::path& path, int max_lines);

}  // namespace twinflow
