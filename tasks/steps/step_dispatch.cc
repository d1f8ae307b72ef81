// Dispatch of `twinflow step TYPE` to the built-in steps. See step_dispatch.h.
#include "tasks/steps/step_dispatch.h"

#include <functional>
#include <map>

#include "store/store.h"
#include "tasks/step_context.h"
#include "tasks/steps/data_steps.h"
#include "tasks/steps/training_steps.h"
#include "util/error.h"

namespace twinflow {

namespace {

using StepFunction = std::function<int(StepEnvironment&)>;

const std::map<std::string, StepFunction>& step_table() {
  static const std::map<std::string, StepFunction> kSteps = {
      {"crawl", run_crawl_step},       {"clean", run_clean_step},
      {"chunk", run_chunk_step},       {"embed", run_embed_step},
      {"dataset", run_dataset_step},   {"finetune", run_finetune_step},
      {"evaluate", run_evaluate_step}, {"deploy", run_deploy_step},
      {"import", run_import_step},
  };
  return kSteps;
}

}  // namespace

std::vector<std::string> builtin_step_types() {
  std::vector<std::string> types;
  for (const auto& [type, function] : step_table()) types.push_back(type);
  return types;
}

int run_builtin_step(const std::string& type, const std::filesystem::path& context_file) {
  const auto& kSteps = step_table();
  auto step = kSteps.find(type);
  if (step == kSteps.end())
    throw Error("twinflow step " + type + ": this step type is not implemented yet");
  StepContext context = load_step_context(context_file);
  if (context.database_url.empty())
    throw Error("twinflow step " + type + ": the context names no database");
  Store store(context.database_url);
  StepReport report(context);
  StepEnvironment env{context, store.features(), store.models(), report,
                      find_own_step_run(store, context)};
  const int code = step->second(env);
  report.write();
  return code;
}

}  // namespace twinflow
