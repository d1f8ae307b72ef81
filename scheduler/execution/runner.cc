#include "scheduler/execution/runner.h"

#include <set>

#include "scheduler/definition/dag_loader.h"
#include "scheduler/planning/plan.h"
#include "store/run_ledger.h"
#include "util/error.h"

namespace twinflow {
namespace {

// Params recorded as JSON, turned back into `-p` overrides (YAML scalars; a
// JSON text is valid YAML, so lists and mappings survive too).
std::map<std::string, std::string> params_as_overrides(const nlohmann::json& params) {
  std::map<std::string, std::string> overrides;
  for (const auto& [key, value] : params.items())
    overrides[key] =
        value.is_string() ? nlohmann::json(value.get<std::string>()).dump() : value.dump();
  return overrides;
}

bool counts_as_done(const std::string& status) {
  return status == step_status::kSucceeded || status == step_status::kCached ||
         status == step_status::kReused;
}

}  // namespace

PreparedRun prepare_fresh_run(Dag dag, const std::string& trigger) {
  PreparedRun run;
  run.dag = std::move(dag);
  run.trigger = trigger;
  return run;
}

PreparedRun prepare_rerun(Store& store, int64_t parent_run_id, const std::string& from_step) {
  auto parent = store.runs().find_run(parent_run_id);
  if (!parent) throw Error("run " + std::to_string(parent_run_id) + " does not exist");
  if (parent->status == run_status::kRunning || parent->status == run_status::kQueued)
    throw Error("run " + std::to_string(parent_run_id) + " is still " + parent->status +
                ": cancel it first, or wait for it to end");
  PreparedRun run;
  run.dag = dag_of_run(store, *parent);
  run.trigger = "rerun";
  run.parent_run_id = parent_run_id;

  std::map<std::string, RunStepRecord> parent_steps;
  for (auto& s : store.runs().run_steps(parent_run_id)) parent_steps[s.step_id] = s;
  std::vector<bool> succeeded(run.dag.steps.size(), false);
  for (size_t i = 0; i < run.dag.steps.size(); ++i) {
    auto it = parent_steps.find(run.dag.steps[i].id);
    succeeded[i] = it != parent_steps.end() && counts_as_done(it->second.status) &&
                   it->second.result_step_run_id.has_value();
  }
  int from = -1;
  if (!from_step.empty()) {
    from = run.dag.find_step(from_step);
    if (from < 0)
      throw Error("run " + std::to_string(parent_run_id) + " has no step '" + from_step + "'");
  }
  run.seed.wanted = steps_to_rerun(run.dag, succeeded, from);
  run.seed.resumes_run_id = parent_run_id;
  auto parent_outputs = store.runs().step_outputs(parent_run_id);
  for (size_t i = 0; i < run.dag.steps.size(); ++i) {
    if (run.seed.wanted[i]) continue;
    const std::string& id = run.dag.steps[i].id;
    run.seed.reused_outputs[id] = parent_outputs[id];
    run.reused_step_ids.push_back(id);
    run.reused_result_step_runs.push_back(*parent_steps[id].result_step_run_id);
  }
  return run;
}

Dag dag_of_run(Store& store, const RunRecord& run) {
  LoadOptions options{params_as_overrides(run.params)};
  auto loaded = load_dag_string(store.runs().dag_content(run.dag_hash), run.dag_file, options);
  if (!loaded.ok())
    throw Error("the DAG snapshot of run " + std::to_string(run.id) + " no longer loads:\n" +
                format_diagnostics(loaded.diagnostics));
  return std::move(*loaded.dag);
}

NewRun new_run_of(const Dag& dag, const std::string& trigger) {
  NewRun record;
  record.pipeline = dag.name;
  record.dag_file = dag.file;
  record.dag_hash = dag.content_hash;
  record.dag_content = dag.content;
  record.trigger = trigger;
  record.params = dag.params;
  for (const auto& step : dag.steps) record.step_ids.push_back(step.id);
  return record;
}

int64_t record_run_start(Store& store, const PreparedRun& run, const std::string& host, int pid) {
  NewRun record = new_run_of(run.dag, run.trigger);
  record.parent_run_id = run.parent_run_id;
  record.host = host;
  record.pid = pid;
  int64_t run_id = store.runs().create_run(record);
  store.runs().set_steps_status(run_id, run.reused_step_ids, step_status::kReused,
                                run.reused_result_step_runs);
  return run_id;
}

}  // namespace twinflow
