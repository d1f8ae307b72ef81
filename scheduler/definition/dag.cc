#include "scheduler/definition/dag.h"

#include <algorithm>

namespace twinflow {

Millis RetryPolicy::delay_before(int retry_number) const {
  Millis delay = backoff_base;
  for (int i = 1; i < retry_number && delay < backoff_cap; ++i) delay *= 2;
  return std::min(delay, backoff_cap);
}

int Dag::find_step(const std::string& id) const {
  for (size_t i = 0; i < steps.size(); ++i)
    if (steps[i].id == id) return static_cast<int>(i);
  return -1;
}

}  // namespace twinflow
