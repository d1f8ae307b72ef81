// The build this binary is: its version and build id (the version plus the
// git commit it was built from, "dev" outside a git checkout). Cache keys of
// built-in steps include the build id, so a new twinflow never reuses an old
// one's results.
//
// Defined in util/build_info.cc alone, which CMake gives the values: a new
// commit then recompiles that one file, not every file of the tree.
#pragma once

namespace twinflow {

const char* twinflow_version();
const char* twinflow_build_id();

}  // namespace twinflow
