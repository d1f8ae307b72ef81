#include "util/error.h"

#include <cstring>

namespace twinflow {

SystemError::SystemError(const std::string& what, int err)
    : Error(what + ": " + std::strerror(err)), err_(err) {}

}  // namespace twinflow
