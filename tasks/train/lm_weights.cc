// See lm_weights.h.
#include "tasks/train/lm_weights.h"

#include <cmath>
#include <random>

#include "tasks/train/lm_kernels.h"
#include "tasks/train/neural_lm.h"

namespace twinflow {
namespace {

// Uniform in [-limit, limit] from the top 24 bits of a 64-bit draw: the same
// numbers on every platform (std:: distributions are implementation-defined).
void fill_uniform(arma::fmat& matrix, float limit, std::mt19937_64& random) {
  for (arma::uword i = 0; i < matrix.n_elem; ++i) {
    const float unit = static_cast<float>(random() >> 40) / static_cast<float>(1u << 24);
    matrix[i] = (2.0f * unit - 1.0f) * limit;
  }
}

float glorot(arma::uword fan_in, arma::uword fan_out) {
  return std::sqrt(6.0f / static_cast<float>(fan_in + fan_out));
}

}  // namespace

NeuralLmWeights NeuralLmWeights::initial(size_t vocabulary_size, const NeuralLmConfig& config) {
  const auto v = static_cast<arma::uword>(vocabulary_size);
  const auto d = static_cast<arma::uword>(config.embedding_dim);
  const auto h = static_cast<arma::uword>(config.hidden_dim);
  const auto in = static_cast<arma::uword>(config.context) * d;
  std::mt19937_64 random(config.seed);
  NeuralLmWeights weights;
  weights.embedding.set_size(d, v);
  weights.w1.set_size(h, in);
  weights.w2.set_size(v, h);
  fill_uniform(weights.embedding, 0.5f, random);
  fill_uniform(weights.w1, glorot(in, h), random);
  fill_uniform(weights.w2, glorot(h, v), random);
  weights.b1.zeros(h);
  weights.b2.zeros(v);
  return weights;
}

NeuralLmWeights NeuralLmWeights::zeros_like() const {
  NeuralLmWeights zeros;
  zeros.embedding.zeros(embedding.n_rows, embedding.n_cols);
  zeros.w1.zeros(w1.n_rows, w1.n_cols);
  zeros.b1.zeros(b1.n_elem);
  zeros.w2.zeros(w2.n_rows, w2.n_cols);
  zeros.b2.zeros(b2.n_elem);
  return zeros;
}

std::vector<arma::fmat*> NeuralLmWeights::arrays() {
  return {&embedding, &w1, &b1, &w2, &b2};
}

std::vector<const arma::fmat*> NeuralLmWeights::arrays() const {
  return {&embedding, &w1, &b1, &w2, &b2};
}

size_t NeuralLmWeights::parameter_count() const {
  size_t count = 0;
  for (const arma::fmat* array : arrays()) count += array->n_elem;
  return count;
}

void lm_forward(const NeuralLmWeights& weights, int context, const int32_t* contexts, size_t batch,
                LmActivations& out) {
  const arma::uword d = weights.embedding.n_rows;
  const auto n = static_cast<arma::uword>(context);
  const auto b_count = static_cast<arma::uword>(batch);
  out.inputs.set_size(n * d, b_count);
  for (arma::uword b = 0; b < b_count; ++b) {
    float* column = out.inputs.colptr(b);
    for (arma::uword i = 0; i < n; ++i) {
      const float* embedding =
          weights.embedding.colptr(static_cast<arma::uword>(contexts[b * n + i]));
      std::copy(embedding, embedding + d, column + i * d);
    }
  }
  out.hidden.set_size(weights.w1.n_rows, b_count);
  matmul_nn(weights.w1.memptr(), out.inputs.memptr(), out.hidden.memptr(), weights.w1.n_rows,
            weights.w1.n_cols, b_count);
  out.hidden.each_col() += weights.b1;
  out.hidden = arma::tanh(out.hidden);
  out.shifted.set_size(weights.w2.n_rows, b_count);
  matmul_nn(weights.w2.memptr(), out.hidden.memptr(), out.shifted.memptr(), weights.w2.n_rows,
            weights.w2.n_cols, b_count);
  out.shifted.each_col() += weights.b2;
  out.shifted.each_row() -= arma::max(out.shifted, 0);
  out.log_sum = arma::log(arma::sum(arma::exp(out.shifted), 0));
}

double lm_log_likelihood(const LmActivations& activations, const int32_t* targets) {
  double total = 0;
  for (arma::uword b = 0; b < activations.shifted.n_cols; ++b) {
    total += static_cast<double>(activations.shifted(static_cast<arma::uword>(targets[b]), b)) -
             static_cast<double>(activations.log_sum[b]);
  }
  return total;
}

void lm_backward(const NeuralLmWeights& weights, int context, const int32_t* contexts,
                 const int32_t* targets, size_t batch, LmActivations& activations,
                 NeuralLmWeights& gradients) {
  const arma::uword d = weights.embedding.n_rows;
  const auto n = static_cast<arma::uword>(context);
  const auto b_count = static_cast<arma::uword>(batch);
  const float scale = 1.0f / static_cast<float>(b_count);
  // d loss / d logits = (softmax - one_hot) / B, computed in place.
  arma::fmat& delta = activations.shifted;
  delta.each_row() -= activations.log_sum;
  delta = arma::exp(delta);
  for (arma::uword b = 0; b < b_count; ++b) delta(static_cast<arma::uword>(targets[b]), b) -= 1.0f;
  delta *= scale;
  const arma::uword v = weights.w2.n_rows;
  const arma::uword h = weights.w2.n_cols;
  const arma::uword in = weights.w1.n_cols;
  gradients.w2.set_size(v, h);
  matmul_nt(delta.memptr(), activations.hidden.memptr(), gradients.w2.memptr(), v, h, b_count);
  gradients.b2 = arma::sum(delta, 1);
  arma::fmat hidden_delta(h, b_count);
  matmul_tn(weights.w2.memptr(), delta.memptr(), hidden_delta.memptr(), h, v, b_count);
  hidden_delta %= 1.0f - arma::square(activations.hidden);
  gradients.w1.set_size(h, in);
  matmul_nt(hidden_delta.memptr(), activations.inputs.memptr(), gradients.w1.memptr(), h, in,
            b_count);
  gradients.b1 = arma::sum(hidden_delta, 1);
  arma::fmat input_delta(in, b_count);
  matmul_tn(weights.w1.memptr(), hidden_delta.memptr(), input_delta.memptr(), in, h, b_count);
  gradients.embedding.zeros(weights.embedding.n_rows, weights.embedding.n_cols);
  for (arma::uword b = 0; b < b_count; ++b) {
    for (arma::uword i = 0; i < n; ++i) {
      float* column = gradients.embedding.colptr(static_cast<arma::uword>(contexts[b * n + i]));
      const float* source = input_delta.colptr(b) + i * d;
      for (arma::uword k = 0; k < d; ++k) column[k] += source[k];
    }
  }
}

}  // namespace twinflow
