// The model registry (versions, stages, their history) and the prompt log.
//
// A repository over a Store's connection (store.h): cheap to make, one per
// use or one per owner, never shared between threads. Each change is one
// transaction; methods throw Error with the operation's name when the
// database refuses.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/model_records.h"
#include "store/store.h"

namespace twinflow {

class ModelRegistry {
 public:
  explicit ModelRegistry(Store& store) : impl_(&store.impl()) {}

  // --- The model registry and the prompt log (store_models.cc) ---

  // Registers an artifact version as the next version of model `name`
  // (creating the model on first use), in stage "none" with `metrics`. An
  // artifact version already registered for this model is returned as it is
  // (its metrics merged with `metrics`), so a retried step registers once.
  ModelVersionRecord register_model_version(const std::string& name, int64_t artifact_version_id,
                                            std::optional<int64_t> step_run_id,
                                            const nlohmann::json& metrics);
  std::vector<ModelSummary> list_models();
  // Versions of a model, newest first; empty when the model is unknown.
  std::vector<ModelVersionRecord> model_versions(const std::string& name);
  std::optional<ModelVersionRecord> find_model_version(const std::string& name, int version);
  std::optional<ModelVersionRecord> production_model(const std::string& name);
  // Moves a version to `stage` in one transaction; promoting to production
  // archives the previous production version. Each change is recorded with
  // `why`. Throws Error for an unknown model, version or stage.
  ModelVersionRecord set_model_stage(const std::string& name, int version, const std::string& stage,
                                     const StageChangeRequest& why);
  // Puts back the version that was production before the current one: the
  // current production is archived and the previous one restored, in one
  // transaction. Throws Error when there is nothing to roll back to.
  ModelVersionRecord rollback_model(const std::string& name, const StageChangeRequest& why);
  // Stage changes of a model, oldest first.
  std::vector<StageChangeRecord> stage_history(const std::string& name);

  int64_t log_prompt(const PromptLogEntry& entry);
  // The newest `limit` prompts, newest first.
  std::vector<PromptLogRecord> list_prompts(int limit);

 private:
  Store::Impl* impl_;
};

inline ModelRegistry Store::models() {
  return ModelRegistry(*this);
}

}  // namespace twinflow
