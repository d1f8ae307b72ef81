// Plan: the ready set, pools, failure propagation and rerun selection,
// without any I/O.
#include "scheduler/planning/plan.h"

#include <gtest/gtest.h>

namespace twinflow {
namespace {

Step make_step(const std::string& id, std::vector<std::string> needs = {}, std::string pool = "") {
  Step step;
  step.id = id;
  step.needs = std::move(needs);
  step.pool = std::move(pool);
  return step;
}

// a -> {b, c, d} -> e
Dag diamond() {
  Dag dag;
  dag.name = "diamond";
  dag.steps = {make_step("a"), make_step("b", {"a"}), make_step("c", {"a"}), make_step("d", {"a"}),
               make_step("e", {"b", "c", "d"})};
  return dag;
}

std::vector<int> start_all(Plan& plan) {
  std::vector<int> started;
  while (auto s = plan.start_next()) started.push_back(*s);
  return started;
}

TEST(PlanTest, OnlyRootsAreReadyAtFirst) {
  Dag dag = diamond();
  Plan plan(dag);
  EXPECT_EQ(start_all(plan), std::vector<int>({0}));
  EXPECT_EQ(plan.running(), 1u);
}

TEST(PlanTest, FanOutBecomesReadyTogetherAndFanInWaitsForAll) {
  Dag dag = diamond();
  Plan plan(dag);
  start_all(plan);
  EXPECT_EQ(plan.finish(0, true), std::vector<int>({1, 2, 3}));
  EXPECT_EQ(start_all(plan), std::vector<int>({1, 2, 3}));
  EXPECT_TRUE(plan.finish(1, true).empty());
  EXPECT_TRUE(plan.finish(2, true).empty());
  EXPECT_EQ(plan.finish(3, true), std::vector<int>({4}));
  EXPECT_EQ(start_all(plan), std::vector<int>({4}));
  plan.finish(4, true);
  EXPECT_TRUE(plan.finished());
}

TEST(PlanTest, PoolLimitsStepsRunningAtOnce) {
  Dag dag;
  dag.pools = {{"gpu", 1}};
  dag.steps = {make_step("t1", {}, "gpu"), make_step("t2", {}, "gpu"), make_step("cpu")};
  Plan plan(dag);
  // t2 waits for the one gpu slot; cpu jumps ahead of it.
  EXPECT_EQ(start_all(plan), std::vector<int>({0, 2}));
  plan.finish(0, true);
  EXPECT_EQ(start_all(plan), std::vector<int>({1}));
}

TEST(PlanTest, PoolSlotIsFreedForRetryAndTakenAgainOnRequeue) {
  Dag dag;
  dag.pools = {{"p", 1}};
  dag.steps = {make_step("x", {}, "p"), make_step("y", {}, "p")};
  Plan plan(dag);
  EXPECT_EQ(start_all(plan), std::vector<int>({0}));
  plan.release_for_retry(0);
  EXPECT_EQ(start_all(plan), std::vector<int>({1}));
  plan.requeue(0);
  EXPECT_FALSE(plan.start_next().has_value());  // pool still held by y
  plan.finish(1, true);
  EXPECT_EQ(start_all(plan), std::vector<int>({0}));
}

TEST(PlanTest, FailureSkipsDescendantsButNotIndependentBranches) {
  Dag dag;
  dag.steps = {make_step("a"), make_step("b", {"a"}), make_step("c", {"b"}), make_step("x"),
               make_step("y", {"x"})};
  Plan plan(dag);
  EXPECT_EQ(start_all(plan), std::vector<int>({0, 3}));
  EXPECT_EQ(plan.finish(0, false), std::vector<int>({1, 2}));
  EXPECT_EQ(plan.state(2), Plan::State::kSkipped);
  EXPECT_EQ(plan.finish(3, true), std::vector<int>({4}));
  EXPECT_EQ(start_all(plan), std::vector<int>({4}));
  plan.finish(4, true);
  EXPECT_TRUE(plan.finished());
}

TEST(PlanTest, UnwantedStepsCountAsSucceeded) {
  Dag dag = diamond();
  Plan plan(dag, {false, true, false, false, true});
  EXPECT_EQ(start_all(plan), std::vector<int>({1}));
  EXPECT_EQ(plan.finish(1, true), std::vector<int>({4}));
}

TEST(PlanTest, RerunFromFailureTakesFailedAndDescendants) {
  Dag dag = diamond();
  auto rerun = steps_to_rerun(dag, {true, true, false, true, false});
  EXPECT_EQ(rerun, std::vector<bool>({false, false, true, false, true}));
}

TEST(PlanTest, RerunFromStepTakesItsDescendants) {
  Dag dag = diamond();
  auto rerun = steps_to_rerun(dag, {true, true, true, true, true}, 1);
  EXPECT_EQ(rerun, std::vector<bool>({false, true, false, false, true}));
}

TEST(PlanTest, SkipUnfinishedLeavesRunningStepsToTheCaller) {
  Dag dag = diamond();
  Plan plan(dag);
  start_all(plan);
  auto skipped = plan.skip_unfinished();
  EXPECT_EQ(skipped, std::vector<int>({1, 2, 3, 4}));
  EXPECT_FALSE(plan.finished());
  plan.finish(0, false);
  EXPECT_TRUE(plan.finished());
}

TEST(PlanTest, TenThousandStepChainPlansInOrder) {
  Dag dag;
  for (int i = 0; i < 10000; ++i)
    dag.steps.push_back(
        make_step("s" + std::to_string(i), i ? std::vector<std::string>{"s" + std::to_string(i - 1)}
                                             : std::vector<std::string>{}));
  Plan plan(dag);
  for (int i = 0; i < 10000; ++i) {
    auto next = plan.start_next();
    ASSERT_TRUE(next.has_value());
    ASSERT_EQ(*next, i);
    plan.finish(i, true);
  }
  EXPECT_TRUE(plan.finished());
}

}  // namespace
}  // namespace twinflow
