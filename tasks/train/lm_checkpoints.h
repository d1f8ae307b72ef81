// LmCheckpoints: the trainer's checkpoint directory (see lm_trainer.h).
//
// Checkpoint e lives in DIR/epoch-NNNN/ (NNNN = e, zero-padded): a model
// directory (neural_lm.h), optimizer.bin (AdamOptimizer::serialize) and
// state.json. It is written into DIR/epoch-NNNN.tmp/ and renamed when whole,
// so a directory without ".tmp" is always complete; leftover ".tmp"
// directories (a run killed while writing) are removed on open.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "tasks/train/neural_lm.h"

namespace twinflow {

struct LmCheckpointState {
  int epoch = 0;
  int64_t step = 0;
  int64_t tokens = 0;       // tokens trained, all epochs so far
  double train_loss = 0;    // of this epoch
  std::string fingerprint;  // of the run's data and settings
};

struct LmCheckpoint {
  LmCheckpointState state;
  NeuralLm model;
  std::string optimizer;                 // bytes for AdamOptimizer::deserialize
  std::filesystem::path optimizer_file;  // names them in errors
};

class LmCheckpoints {
 public:
  // Creates `dir` when missing and removes leftover ".tmp" directories. Throws
  // Error when it cannot.
  explicit LmCheckpoints(std::filesystem::path dir);

  // The newest complete checkpoint's epoch, if any.
  std::optional<int> last_epoch() const;
  std::filesystem::path path(int epoch) const;

  // Returns the checkpoint's directory. Throws Error naming what failed.
  std::filesystem::path write(const LmCheckpointState& state, const NeuralLm& model,
                              const std::string& optimizer) const;
  // Throws Error naming the file that is missing or corrupt.
  LmCheckpoint read(int epoch) const;
  // Removes all but the newest `keep` checkpoints (keep 0: none removed).
  void prune(int keep) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace twinflow
