// train_language_model: fits a NeuralLm (neural_lm.h) to an author's texts on
// the CPU, with checkpoints that let a killed run resume where it stopped.
//
// The vocabulary is built from the training texts only. Each epoch visits every
// predicted token of the training texts once (a training example is one
// sequence: <s> padding, its tokens, </s>), in mini-batches of `batch_size`
// (context, next token) pairs, shuffled by a generator seeded from (seed,
// epoch). Loss: mean cross-entropy (stable log-softmax); gradients are clipped
// to a global L2 norm of `clip_norm`.
//
// Optimizer: Adam. The embedding gradients are sparse (a batch touches a few
// dozen of thousands of columns) and an order of magnitude smaller than the
// dense layers'; Adam's per-parameter scaling trains both at one learning rate
// without tuning, and converges in the few epochs a small corpus allows, where
// SGD with momentum needs a tuned rate per layer. The learning rate ramps up
// linearly over `warmup_steps`, then decays by `lr_decay` per epoch. Neither
// depends on the number of epochs asked for, so a run of 2 epochs continued to
// 4 trains exactly as a run of 4.
//
// Checkpoints: after epoch e, checkpoint_dir/epoch-000e/ holds the model
// directory (neural_lm.h) plus optimizer.bin (Adam's moments) and state.json
// (epoch, step, tokens, losses, the run's fingerprint). It is written into a
// ".tmp" directory that is renamed when complete, so a directory named
// epoch-NNNN is always whole. When checkpoint_dir already holds checkpoints,
// training resumes after the last one: same weights, optimizer state, step
// count and shuffles, so the final weights equal those of an uninterrupted
// run. A checkpoint written for other data or settings (the fingerprint hashes
// the texts, the config and every option but `epochs`) is refused with an
// Error rather than continued; so is a corrupt one, naming the file. Asking for
// no more epochs than the checkpoint holds returns the checkpointed model.
//
// Deterministic: the same texts, config and options give identical weights.
// Callbacks run on the calling thread; an exception they throw ends training
// (the checkpoints written so far stay, and a later call resumes from them).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "tasks/train/neural_lm.h"
#include "tasks/train/vocabulary.h"

namespace twinflow {

struct TrainOptions {
  int epochs = 8;
  int batch_size = 32;  // (context, next token) pairs per step
  double learning_rate = 3e-3;
  double lr_decay = 0.7;  // per epoch, after the first
  int warmup_steps = 50;
  double clip_norm = 5.0;  // global gradient L2 norm; 0 = no clipping
  // Decoupled (AdamW), per step, times the learning rate. A corpus of a few
  // thousand words is memorised within a few epochs; this and lr_decay keep
  // held-out perplexity from climbing back.
  double weight_decay = 0.3;
  uint64_t seed = 42;  // shuffles (the weights' seed is NeuralLmConfig::seed)
  VocabularyOptions vocabulary;
  // Empty: no checkpoints and no resuming.
  std::filesystem::path checkpoint_dir;
  // Checkpoints kept (the newest); 0 = all.
  int keep_checkpoints = 2;
  // on_step is called every this many steps (and on an epoch's last step).
  int step_callback_every = 10;
};

struct TrainStep {
  int64_t step = 0;  // 1-based, counted across epochs
  int epoch = 0;     // 1-based
  double loss = 0;   // this batch's mean cross-entropy (nats)
  double learning_rate = 0;
  int64_t tokens = 0;  // tokens trained so far, across epochs
};

struct TrainEpoch {
  int epoch = 0;                     // 1-based
  double train_loss = 0;             // mean over the epoch's tokens (nats)
  double test_perplexity = 0;        // NaN without test texts
  std::filesystem::path checkpoint;  // empty without checkpoint_dir
  double seconds = 0;                // training time of the epoch (evaluation excluded)
};

struct TrainCallbacks {
  std::function<void(const TrainStep&)> on_step;
  std::function<void(const TrainEpoch&)> on_epoch;
};

struct TrainResult {
  NeuralLm model;
  double base_test_perplexity = 0;     // the untrained model's
  double unigram_test_perplexity = 0;  // unigram_lm.h, same vocabulary
  double final_test_perplexity = 0;    // NaN figures when there are no test texts
  double final_train_loss = 0;
  int64_t tokens_trained = 0;       // over all epochs, resumed ones included
  double tokens_per_second = 0;     // training throughput of this call's epochs
  int resumed_from_epoch = 0;       // 0: started fresh
  int epochs = 0;                   // epochs the model has now been trained
  std::vector<TrainEpoch> history;  // the epochs this call trained
};

// Throws Error on invalid options, no training tokens, or an unusable
// checkpoint directory.
TrainResult train_language_model(const std::vector<std::string>& train_texts,
                                 const std::vector<std::string>& test_texts,
                                 const NeuralLmConfig& config, const TrainOptions& options,
                                 const TrainCallbacks& callbacks = {});

}  // namespace twinflow
