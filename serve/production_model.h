// ProductionModel: the RAG server's view of the model registry's production
// version of one model, reloaded when a new version is promoted (or rolled
// back), so a deploy reaches a running server without a restart.
//
// The registry is asked at most once per `check_interval`; between checks,
// and while a new version loads, requests keep using the version they have.
// A model is shared (shared_ptr to const) so a request that started with the
// old version finishes with it. Thread-safe.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "store/model_records.h"
#include "tasks/train/neural_lm.h"

namespace twinflow {

struct LoadedModel {
  ModelVersionRecord record;
  NeuralLm model;
};

class ProductionModel {
 public:
  // `lookup` asks the registry for the production version (nullopt: none).
  using Lookup = std::function<std::optional<ModelVersionRecord>()>;
  ProductionModel(Lookup lookup, std::chrono::milliseconds check_interval);

  // The production model now, or nullptr when there is none. Throws Error when
  // the registry names a model directory that cannot be loaded.
  std::shared_ptr<const LoadedModel> current();

 private:
  Lookup lookup_;
  std::chrono::milliseconds check_interval_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point next_check_{};
  std::shared_ptr<const LoadedModel> loaded_;
};

}  // namespace twinflow
