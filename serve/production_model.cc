// ProductionModel: see production_model.h.
#include "serve/production_model.h"

namespace twinflow {

ProductionModel::ProductionModel(Lookup lookup, std::chrono::milliseconds check_interval)
    : lookup_(std::move(lookup)), check_interval_(check_interval) {}

std::shared_ptr<const LoadedModel> ProductionModel::current() {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return loaded_;
  next_check_ = now + check_interval_;
  std::optional<ModelVersionRecord> production = lookup_();
  if (!production) {
    loaded_.reset();
  } else if (!loaded_ || loaded_->record.id != production->id) {
    // Loading takes milliseconds for the built-in model; holding the lock
    // meanwhile keeps two requests from loading the same version twice.
    loaded_ = std::make_shared<const LoadedModel>(
        LoadedModel{*production, NeuralLm::load(production->uri)});
  }
  return loaded_;
}

}  // namespace twinflow
