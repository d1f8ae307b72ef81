#include "scheduler/planning/plan.h"

#include <unordered_map>

#include "util/error.h"

namespace twinflow {
namespace {

std::unordered_map<std::string, int> index_by_id(const Dag& dag) {
  std::unordered_map<std::string, int> index;
  index.reserve(dag.steps.size());
  for (size_t i = 0; i < dag.steps.size(); ++i) index[dag.steps[i].id] = static_cast<int>(i);
  return index;
}

std::vector<std::vector<int>> build_dependents(const Dag& dag) {
  auto index = index_by_id(dag);
  std::vector<std::vector<int>> dependents(dag.steps.size());
  for (size_t i = 0; i < dag.steps.size(); ++i)
    for (const auto& need : dag.steps[i].needs) {
      auto it = index.find(need);
      if (it == index.end())
        throw Error("step '" + dag.steps[i].id + "' needs unknown step '" + need + "'");
      dependents[it->second].push_back(static_cast<int>(i));
    }
  return dependents;
}

std::vector<int> collect_descendants(const std::vector<std::vector<int>>& dependents, int step) {
  std::vector<int> out;
  std::vector<bool> seen(dependents.size(), false);
  std::vector<int> stack = {step};
  while (!stack.empty()) {
    int current = stack.back();
    stack.pop_back();
    for (int next : dependents[current])
      if (!seen[next]) {
        seen[next] = true;
        out.push_back(next);
        stack.push_back(next);
      }
  }
  return out;
}

}  // namespace

Plan::Plan(const Dag& dag, const std::vector<bool>& wanted)
    : states_(dag.steps.size(), State::kWaiting),
      dependents_(build_dependents(dag)),
      unmet_(dag.steps.size(), 0),
      pool_index_(dag.steps.size(), -1) {
  std::map<std::string, int> pool_ids;
  for (const auto& [name, slots] : dag.pools) {
    pool_ids[name] = static_cast<int>(pool_free_.size());
    pool_free_.push_back(slots);
  }
  auto is_wanted = [&](size_t i) { return wanted.empty() || wanted[i]; };
  for (size_t i = 0; i < dag.steps.size(); ++i) {
    const auto& pool = dag.steps[i].pool;
    if (!pool.empty()) {
      auto it = pool_ids.find(pool);
      if (it == pool_ids.end())
        throw Error("step '" + dag.steps[i].id + "' uses unknown pool '" + pool + "'");
      pool_index_[i] = it->second;
    }
    if (!is_wanted(i)) {
      states_[i] = State::kSucceeded;
      continue;
    }
    ++unfinished_;
  }
  for (size_t i = 0; i < dag.steps.size(); ++i)
    for (int dependent : dependents_[i])
      if (states_[i] != State::kSucceeded) ++unmet_[dependent];
  for (size_t i = 0; i < dag.steps.size(); ++i)
    if (states_[i] == State::kWaiting && unmet_[i] == 0) mark_ready(static_cast<int>(i));
}

void Plan::mark_ready(int step) {
  states_[step] = State::kReady;
  ready_.push_back(step);
}

std::optional<int> Plan::start_next() {
  for (auto it = ready_.begin(); it != ready_.end(); ++it) {
    int step = *it;
    int pool = pool_of(step);
    if (pool >= 0 && pool_free_[pool] == 0) continue;
    if (pool >= 0) --pool_free_[pool];
    ready_.erase(it);
    states_[step] = State::kRunning;
    ++running_;
    return step;
  }
  return std::nullopt;
}

std::vector<int> Plan::finish(int step, bool succeeded) {
  if (states_[step] != State::kRunning) throw Error("Plan::finish: step is not running");
  --running_;
  --unfinished_;
  if (pool_of(step) >= 0) ++pool_free_[pool_of(step)];
  std::vector<int> affected;
  if (succeeded) {
    states_[step] = State::kSucceeded;
    for (int dependent : dependents_[step])
      if (--unmet_[dependent] == 0 && states_[dependent] == State::kWaiting) {
        mark_ready(dependent);
        affected.push_back(dependent);
      }
    return affected;
  }
  states_[step] = State::kFailed;
  for (int descendant : collect_descendants(dependents_, step))
    if (states_[descendant] == State::kWaiting) {
      states_[descendant] = State::kSkipped;
      --unfinished_;
      affected.push_back(descendant);
    }
  return affected;
}

void Plan::release_for_retry(int step) {
  if (states_[step] != State::kRunning) throw Error("Plan::release_for_retry: step is not running");
  --running_;
  if (pool_of(step) >= 0) ++pool_free_[pool_of(step)];
  states_[step] = State::kWaiting;
}

void Plan::requeue(int step) {
  if (states_[step] == State::kWaiting) mark_ready(step);
}

std::vector<int> Plan::skip_unfinished() {
  std::vector<int> skipped;
  for (size_t i = 0; i < states_.size(); ++i)
    if (states_[i] == State::kWaiting || states_[i] == State::kReady) {
      states_[i] = State::kSkipped;
      --unfinished_;
      skipped.push_back(static_cast<int>(i));
    }
  ready_.clear();
  return skipped;
}

std::vector<int> Plan::descendants(int step) const {
  return collect_descendants(dependents_, step);
}

std::vector<bool> steps_to_rerun(const Dag& dag, const std::vector<bool>& succeeded,
                                 int from_step) {
  auto dependents = build_dependents(dag);
  std::vector<bool> rerun(dag.steps.size(), false);
  auto include_with_descendants = [&](int step) {
    rerun[step] = true;
    for (int d : collect_descendants(dependents, step)) rerun[d] = true;
  };
  for (size_t i = 0; i < dag.steps.size(); ++i)
    if (!succeeded[i]) include_with_descendants(static_cast<int>(i));
  if (from_step >= 0) include_with_descendants(from_step);
  return rerun;
}

}  // namespace twinflow
