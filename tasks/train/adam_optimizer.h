// AdamOptimizer: Adam (Kingma & Ba 2015) with decoupled weight decay
// (AdamW) over the arrays of a NeuralLm, and its state as bytes for the
// trainer's checkpoints. Why Adam: see lm_trainer.h.
#pragma once

#include <cstdint>
#include <string>

#include "tasks/train/lm_weights.h"

namespace twinflow {

struct AdamOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double weight_decay = 0;  // per step, times the learning rate
};

class AdamOptimizer {
 public:
  // Zero moments shaped like `weights`.
  AdamOptimizer(const NeuralLmWeights& weights, const AdamOptions& options);

  // One update of `weights` by `gradients` (same shapes).
  void step(NeuralLmWeights& weights, const NeuralLmWeights& gradients, double learning_rate);
  int64_t steps() const { return steps_; }

  // The step count and both moments, little-endian.
  std::string serialize() const;
  // Replaces the state; throws Error naming `source` when the bytes do not fit
  // this optimizer's shapes.
  void deserialize(const std::string& bytes, const std::string& source);

 private:
  AdamOptions options_;
  int64_t steps_ = 0;
  NeuralLmWeights first_;   // m
  NeuralLmWeights second_;  // v
};

}  // namespace twinflow
