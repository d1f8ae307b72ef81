// The deploy step: reads the evaluate step's decision (input `evaluation`)
// and, when the gate passed, promotes the candidate to production in one
// transaction (the previous production version is archived); the change is
// recorded with the evaluation that decided it. When the gate failed, the step
// records why and production stays as it was. See training_steps.h.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "store/model_registry.h"
#include "store/store.h"
#include "tasks/steps/training_steps.h"
#include "util/error.h"
#include "util/files.h"

namespace twinflow {
namespace {

nlohmann::json read_evaluation(const StepContext& context) {
  auto it = context.inputs.find("evaluation");
  if (it == context.inputs.end()) throw Error("deploy: needs an input named 'evaluation'");
  std::ifstream in(it->second.path);
  std::stringstream text;
  text << in.rdbuf();
  auto doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (!in || !doc.is_object() || !doc.contains("model") || !doc.contains("candidate_version") ||
      !doc.contains("gate"))
    throw Error("deploy: " + it->second.path.string() + " is not an evaluate step's evaluation");
  return doc;
}

}  // namespace

int run_deploy_step(StepEnvironment& env) {
  StepParams params(env.context.params, "deploy");
  const std::string stage = params.choice_or("stage", "production", {"staging", "production"});
  const nlohmann::json evaluation = read_evaluation(env.context);
  const std::string model = evaluation["model"].get<std::string>();
  const int version = evaluation["candidate_version"].get<int>();
  const bool passed = evaluation["gate"].value("passed", false);
  const std::string reason = evaluation["gate"].value("reason", "");
  nlohmann::json deployment = {{"model", model},
                               {"version", version},
                               {"stage", stage},
                               {"deployed", passed},
                               {"reason", reason}};
  if (passed) {
    StageChangeRequest why{"gate passed: " + reason, "deploy step",
                           env.step_run_id ? std::optional<int64_t>(env.step_run_id) : std::nullopt,
                           evaluation};
    env.models.set_model_stage(model, version, stage, why);
    std::printf("deploy: %s v%d is now %s (%s)\n", model.c_str(), version, stage.c_str(),
                reason.c_str());
  } else {
    auto production = env.models.production_model(model);
    std::printf("deploy: not deploying %s v%d: %s; %s stays in production\n", model.c_str(),
                version, reason.c_str(),
                production ? ("v" + std::to_string(production->version)).c_str() : "no version");
  }
  write_file_atomically(env.context.output_path("deployment"), deployment.dump(2) + "\n");
  env.report.metrics({{"deployed", passed ? 1 : 0}});
  env.report.output_metadata("deployment", deployment);
  return 0;
}

}  // namespace twinflow
