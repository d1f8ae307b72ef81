// The cache key of a step: equal keys mean the step would compute the same
// outputs, so the outputs of an earlier attempt with that key can be reused.
//
// The key is a sha256 over the step's id and type, its code (twinflow's build id for
// built-in steps; for command steps the command line, its environment and the
// content of the files listed under cache.files), its resolved params, the
// content hashes of its inputs and the names of its outputs. Editing a helper
// script therefore invalidates the cache only when it is listed in
// cache.files: docs/DAG_FORMAT.md says so.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "scheduler/definition/dag.h"
#include "store/records.h"

namespace twinflow {

// `base_dir` resolves relative cache.files paths (the DAG file's directory).
// Throws Error when a listed file cannot be read.
std::string compute_cache_key(const Step& step, const std::string& build_id,
                              const std::vector<NamedVersion>& inputs,
                              const std::filesystem::path& base_dir);

}  // namespace twinflow
