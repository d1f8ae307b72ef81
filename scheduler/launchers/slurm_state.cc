#include "scheduler/launchers/slurm_state.h"

#include <array>
#include <utility>

namespace twinflow {
namespace {

// The state's name alone: "CANCELLED by 0" and "CANCELLED+" are CANCELLED.
std::string_view base_state(std::string_view state) {
  size_t end = state.find_first_of(" +");
  return state.substr(0, end);
}

}  // namespace

SlurmStateMeaning interpret_slurm_state(std::string_view state, bool cancelled_by_us) {
  using O = LaunchEnd::Outcome;
  const std::string_view name = base_state(state);
  static constexpr std::array<std::string_view, 8> kWaiting = {
      "PENDING",   "REQUEUED", "REQUEUE_FED",   "REQUEUE_HOLD",
      "SUSPENDED", "STOPPED",  "RESV_DEL_HOLD", "CONFIGURING"};
  static constexpr std::array<std::string_view, 5> kRunning = {"RUNNING", "COMPLETING", "SIGNALING",
                                                               "STAGE_OUT", "RESIZING"};
  for (std::string_view w : kWaiting)
    if (name == w) return {SlurmPhase::kWaiting, O::kExited, ""};
  for (std::string_view r : kRunning)
    if (name == r) return {SlurmPhase::kRunning, O::kExited, ""};
  if (name == "COMPLETED" || name == "FAILED") return {SlurmPhase::kEnded, O::kExited, ""};
  if (name == "TIMEOUT" || name == "DEADLINE")
    return {SlurmPhase::kEnded, O::kTimedOut, "hit its Slurm time limit"};
  if (name == "CANCELLED") {
    if (cancelled_by_us) return {SlurmPhase::kEnded, O::kTerminated, ""};
    return {SlurmPhase::kEnded, O::kFailed, "its Slurm job was cancelled outside twinflow"};
  }
  if (name == "OUT_OF_MEMORY")
    return {SlurmPhase::kEnded, O::kFailed, "ran out of memory (Slurm OUT_OF_MEMORY)"};
  if (name == "PREEMPTED")
    return {SlurmPhase::kEnded, O::kInterrupted, "its Slurm job was preempted"};
  if (name == "NODE_FAIL")
    return {SlurmPhase::kEnded, O::kInterrupted, "the node running its Slurm job failed"};
  if (name == "BOOT_FAIL")
    return {SlurmPhase::kEnded, O::kInterrupted, "the node for its Slurm job failed to boot"};
  return {SlurmPhase::kEnded, O::kFailed,
          "its Slurm job ended in state " + std::string(state) + ", which twinflow does not know"};
}

}  // namespace twinflow
