// NeuralLm: the built-in language model of an author's text, a feed-forward
// n-gram neural network (Bengio et al. 2003) small enough to train on one CPU
// core in seconds.
//
// To predict token t, the embeddings of the `context` tokens before it (texts
// are padded on the left with <s>) are concatenated, passed through one tanh
// hidden layer, and a softmax over the vocabulary gives P(t | context):
//
//   x = [E(t-n) ; ... ; E(t-1)]   h = tanh(W1 x + b1)   P = softmax(W2 h + b2)
//
// Every text is one sequence and ends with </s>, which is predicted too; the
// perplexity of a list of texts is exp(-Σ log P / number of predicted tokens).
// Texts are tokenized by word_tokenizer.h; unknown tokens map to <unk>.
//
// create() makes the untrained base: small random weights drawn from
// config.seed (the same seed and vocabulary give the same weights) and zero
// output biases, so its perplexity is about the vocabulary size. Training is in
// lm_trainer.h. Everything here is deterministic, and evaluate() and
// generate() are const and safe to call from several threads at once.
//
// A model directory holds three files, each written atomically:
//   config.json      format, config, shapes and the sha256 of weights.bin
//   vocabulary.json  see vocabulary.h
//   weights.bin      little-endian float32 arrays E, W1, b1, W2, b2
// load() checks all of it and throws Error naming the file that is missing or
// corrupt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasks/train/vocabulary.h"

namespace twinflow {

struct NeuralLmConfig {
  // Tokens of context the prediction sees. >= 1.
  int context = 4;
  int embedding_dim = 32;
  int hidden_dim = 64;
  // Seeds the untrained weights.
  uint64_t seed = 42;

  nlohmann::json to_json() const;
  // Throws Error on missing keys or values out of range.
  static NeuralLmConfig from_json(const nlohmann::json& json);
  // Throws Error saying which value is out of range.
  void validate() const;
  bool operator==(const NeuralLmConfig&) const = default;
};

// Σ log P over the predicted tokens of some texts.
struct LmScore {
  double log_likelihood = 0;  // natural log, <= 0
  int64_t tokens = 0;         // predicted tokens, </s> included
  int64_t texts = 0;

  // exp(-log_likelihood / tokens); NaN when no token was scored.
  double perplexity() const;
  // Mean negative log-likelihood per token (nats): the cross-entropy loss.
  double mean_loss() const;
};

struct GenerateOptions {
  int max_tokens = 64;
  // 0: greedy (always the most likely token). Otherwise logits / temperature.
  double temperature = 0.8;
  // Sample among the k most likely tokens only; 0 = the whole vocabulary.
  int top_k = 40;
  // Nucleus sampling: then only among the most likely tokens whose
  // probabilities add up to top_p (at least one token). 1 = no cut. In (0, 1].
  double top_p = 1.0;
  // A token already generated is made this many times less likely (its logit
  // lowered by log(penalty)), which breaks "the the the" loops. 1 = off; >= 1.
  // Applies to greedy decoding too.
  double repetition_penalty = 1.0;
  // Same prompt, model, options and seed: same text.
  uint64_t seed = 1;
};

struct NeuralLmWeights;  // lm_weights.h: the Armadillo matrices (for the
                         // trainer)

class NeuralLm {
 public:
  // The untrained base model. Throws Error when the config is invalid.
  static NeuralLm create(Vocabulary vocabulary, const NeuralLmConfig& config);

  NeuralLm(const NeuralLm& other);
  NeuralLm& operator=(const NeuralLm& other);
  NeuralLm(NeuralLm&&) noexcept;
  NeuralLm& operator=(NeuralLm&&) noexcept;
  ~NeuralLm();

  const NeuralLmConfig& config() const { return config_; }
  const Vocabulary& vocabulary() const { return vocabulary_; }
  // Number of trainable floats.
  size_t parameter_count() const;

  // The token ids of a text as the model sees it: tokenized, encoded, then
  // </s>.
  std::vector<int32_t> encode_text(std::string_view text) const;

  LmScore evaluate(const std::vector<std::string>& texts) const;
  double perplexity(const std::vector<std::string>& texts) const {
    return evaluate(texts).perplexity();
  }

  // Continues `prompt` (tokenized like a text, without </s>) and returns only
  // the continuation, detokenized. Stops at </s> or after max_tokens; never
  // emits <unk> or <s>. Throws Error on negative max_tokens, temperature or
  // top_k, a top_p outside (0, 1] or a repetition_penalty below 1.
  std::string generate(std::string_view prompt, const GenerateOptions& options = {}) const;

  // Writes the model directory (created if needed; files replaced atomically).
  // Throws Error naming the path that cannot be written.
  void save(const std::filesystem::path& dir) const;
  // Throws Error naming the file that is missing or corrupt.
  static NeuralLm load(const std::filesystem::path& dir);

  // For the trainer and tests (lm_weights.h).
  NeuralLmWeights& weights() { return *weights_; }
  const NeuralLmWeights& weights() const { return *weights_; }

 private:
  NeuralLm(Vocabulary vocabulary, const NeuralLmConfig& config,
           std::unique_ptr<NeuralLmWeights> weights);

  NeuralLmConfig config_;
  Vocabulary vocabulary_;
  std::unique_ptr<NeuralLmWeights> weights_;
};

}  // namespace twinflow
