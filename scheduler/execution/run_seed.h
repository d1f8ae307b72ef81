// RunSeed: what a run starts from. Light on purpose: the run requests
// (runner.h), the dashboard and the executor share it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/records.h"

namespace twinflow {

// What a run starts from: in a rerun, the steps not to execute again and the
// outputs they had in the parent run.
struct RunSeed {
  std::vector<bool> wanted;  // empty: every step
  std::map<std::string, std::vector<NamedVersion>> reused_outputs;
  // A rerun of this run re-attaches to the Slurm jobs its interrupted
  // attempts left running instead of submitting them again.
  std::optional<int64_t> resumes_run_id;
};

}  // namespace twinflow
