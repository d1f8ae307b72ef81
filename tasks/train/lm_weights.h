// The trainable arrays of NeuralLm as Armadillo matrices, and the network's
// forward and backward passes over a batch. Only the model and the trainer
// include this; everyone else sees NeuralLm (neural_lm.h).
//
// Shapes (V = vocabulary size, d = embedding_dim, n = context, H = hidden_dim):
//   embedding  d × V       column j is token j's embedding
//   w1         H × (n·d)   b1  H × 1
//   w2         V × H       b2  V × 1
// A batch of B predictions is given as `contexts`, B·n token ids (prediction
// b's context at [b·n, b·n + n), oldest first), and `targets`, B ids.
#pragma once

#include <armadillo>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace twinflow {

struct NeuralLmConfig;

struct NeuralLmWeights {
  arma::fmat embedding;
  arma::fmat w1;
  arma::fvec b1;
  arma::fmat w2;
  arma::fvec b2;

  // The untrained weights: uniform Glorot-scaled draws from config.seed (a
  // generator of our own, so every platform draws the same), zero biases.
  static NeuralLmWeights initial(size_t vocabulary_size, const NeuralLmConfig& config);
  // Same shapes, all zero (gradients, optimizer moments).
  NeuralLmWeights zeros_like() const;

  // The five arrays in a fixed order (the order of weights.bin and of the
  // optimizer state). Vectors are viewed as one-column matrices.
  std::vector<arma::fmat*> arrays();
  std::vector<const arma::fmat*> arrays() const;
  size_t parameter_count() const;
};

// What the forward pass keeps for the backward pass.
struct LmActivations {
  arma::fmat inputs;      // (n·d) × B: the concatenated context embeddings
  arma::fmat hidden;      // H × B, after tanh
  arma::fmat shifted;     // V × B: logits minus each column's maximum
  arma::frowvec log_sum;  // 1 × B: log Σ exp(shifted), so log P = shifted - log_sum
};

void lm_forward(const NeuralLmWeights& weights, int context, const int32_t* contexts, size_t batch,
                LmActivations& out);

// Σ log P(target) over the batch.
double lm_log_likelihood(const LmActivations& activations, const int32_t* targets);

// Gradients of the batch's mean cross-entropy into `gradients` (same shapes
// as the weights, overwritten). Uses and then clobbers `activations`.
void lm_backward(const NeuralLmWeights& weights, int context, const int32_t* contexts,
                 const int32_t* targets, size_t batch, LmActivations& activations,
                 NeuralLmWeights& gradients);

}  // namespace twinflow
