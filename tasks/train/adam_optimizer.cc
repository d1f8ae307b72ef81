// See adam_optimizer.h.
#include "tasks/train/adam_optimizer.h"

#include <cmath>
#include <cstring>

#include "util/error.h"

namespace twinflow {
namespace {

constexpr char kMagic[8] = {'T', 'F', 'A', 'D', 'A', 'M', '0', '1'};

}  // namespace

AdamOptimizer::AdamOptimizer(const NeuralLmWeights& weights, const AdamOptions& options)
    : options_(options), first_(weights.zeros_like()), second_(weights.zeros_like()) {}

void AdamOptimizer::step(NeuralLmWeights& weights, const NeuralLmWeights& gradients,
                         double learning_rate) {
  ++steps_;
  const double t = static_cast<double>(steps_);
  const auto beta1 = static_cast<float>(options_.beta1);
  const auto beta2 = static_cast<float>(options_.beta2);
  const auto correction1 = static_cast<float>(1.0 - std::pow(options_.beta1, t));
  const auto correction2 = static_cast<float>(1.0 - std::pow(options_.beta2, t));
  const auto rate = static_cast<float>(learning_rate);
  const auto epsilon = static_cast<float>(options_.epsilon);
  const auto decay = static_cast<float>(1.0 - learning_rate * options_.weight_decay);
  const auto params = weights.arrays();
  const auto grads = gradients.arrays();
  const auto ms = first_.arrays();
  const auto vs = second_.arrays();
  for (size_t a = 0; a < params.size(); ++a) {
    float* w = params[a]->memptr();
    const float* g = grads[a]->memptr();
    float* m = ms[a]->memptr();
    float* v = vs[a]->memptr();
    const arma::uword count = params[a]->n_elem;
    for (arma::uword i = 0; i < count; ++i) {
      m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
      v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
      const float m_hat = m[i] / correction1;
      const float v_hat = v[i] / correction2;
      w[i] = w[i] * decay - rate * m_hat / (std::sqrt(v_hat) + epsilon);
    }
  }
}

std::string AdamOptimizer::serialize() const {
  std::string bytes(kMagic, sizeof(kMagic));
  bytes.append(reinterpret_cast<const char*>(&steps_), sizeof(steps_));
  for (const NeuralLmWeights* moments : {&first_, &second_}) {
    for (const arma::fmat* array : moments->arrays()) {
      bytes.append(reinterpret_cast<const char*>(array->memptr()), array->n_elem * sizeof(float));
    }
  }
  return bytes;
}

void AdamOptimizer::deserialize(const std::string& bytes, const std::string& source) {
  const size_t expected =
      sizeof(kMagic) + sizeof(steps_) + 2 * first_.parameter_count() * sizeof(float);
  if (bytes.size() != expected || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    throw Error("corrupt optimizer state " + source + ": " + std::to_string(bytes.size()) +
                " bytes, expected " + std::to_string(expected) + " starting with TFADAM01");
  }
  size_t offset = sizeof(kMagic);
  std::memcpy(&steps_, bytes.data() + offset, sizeof(steps_));
  offset += sizeof(steps_);
  if (steps_ < 0) throw Error("corrupt optimizer state " + source + ": negative step count");
  for (NeuralLmWeights* moments : {&first_, &second_}) {
    for (arma::fmat* array : moments->arrays()) {
      std::memcpy(array->memptr(), bytes.data() + offset, array->n_elem * sizeof(float));
      offset += array->n_elem * sizeof(float);
    }
  }
}

}  // namespace twinflow
