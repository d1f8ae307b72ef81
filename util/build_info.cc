// See build_info.h. TWINFLOW_VERSION and TWINFLOW_BUILD_ID come from CMake,
// for this file only.
#include "util/build_info.h"

namespace twinflow {

const char* twinflow_version() {
  return TWINFLOW_VERSION;
}

const char* twinflow_build_id() {
  return TWINFLOW_BUILD_ID;
}

}  // namespace twinflow
