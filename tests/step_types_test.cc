// The DAG loader (scheduler) accepts the step types that `twinflow step`
// (tasks) runs. The scheduler module does not depend on the tasks module, so
// the two lists meet only here.
#include <gtest/gtest.h>

#include <algorithm>

#include "scheduler/definition/dag.h"
#include "tasks/steps/step_dispatch.h"

namespace twinflow {
namespace {

TEST(StepTypes, LoaderAcceptsExactlyTheBuiltinStepsAndCommand) {
  std::vector<std::string> expected = builtin_step_types();
  expected.push_back("command");
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> known = known_step_types();
  std::sort(known.begin(), known.end());
  EXPECT_EQ(known, expected);
}

}  // namespace
}  // namespace twinflow
