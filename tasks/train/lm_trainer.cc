// See lm_trainer.h.
#include "tasks/train/lm_trainer.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <random>

#include "tasks/train/adam_optimizer.h"
#include "tasks/train/lm_checkpoints.h"
#include "tasks/train/lm_weights.h"
#include "tasks/train/unigram_lm.h"
#include "tasks/train/word_tokenizer.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/sha256.h"

namespace twinflow {
namespace {

using Clock = std::chrono::steady_clock;

void validate(const TrainOptions& options) {
  if (options.epochs < 0) throw Error("train: epochs must be >= 0");
  if (options.batch_size < 1) throw Error("train: batch_size must be >= 1");
  if (!(options.learning_rate > 0)) throw Error("train: learning_rate must be > 0");
  if (!(options.lr_decay > 0 && options.lr_decay <= 1)) {
    throw Error("train: lr_decay must be in (0, 1]");
  }
  if (options.warmup_steps < 0) throw Error("train: warmup_steps must be >= 0");
  if (!(options.clip_norm >= 0)) throw Error("train: clip_norm must be >= 0");
  if (!(options.weight_decay >= 0)) throw Error("train: weight_decay must be >= 0");
  if (options.keep_checkpoints < 0) throw Error("train: keep_checkpoints must be >= 0");
  if (options.step_callback_every < 1) throw Error("train: step_callback_every must be >= 1");
}

// Everything that decides the weights, except the number of epochs.
std::string fingerprint(const std::vector<std::string>& train_texts, const NeuralLmConfig& config,
                        const TrainOptions& options) {
  Sha256 hash;
  hash.field("twinflow-lm-train-1").field(config.to_json().dump());
  const nlohmann::json settings = {{"batch_size", options.batch_size},
                                   {"learning_rate", options.learning_rate},
                                   {"lr_decay", options.lr_decay},
                                   {"warmup_steps", options.warmup_steps},
                                   {"clip_norm", options.clip_norm},
                                   {"weight_decay", options.weight_decay},
                                   {"seed", options.seed},
                                   {"min_count", options.vocabulary.min_count},
                                   {"max_size", options.vocabulary.max_size}};
  hash.field(settings.dump()).field(std::to_string(train_texts.size()));
  for (const auto& text : train_texts) hash.field(text);
  return hash.hex_digest();
}

// The training predictions: B·n context ids and B targets, see lm_weights.h.
struct Examples {
  std::vector<int32_t> contexts;
  std::vector<int32_t> targets;
  size_t size() const { return targets.size(); }
};

Examples make_examples(const std::vector<std::vector<int32_t>>& sequences, int context) {
  Examples examples;
  const auto n = static_cast<size_t>(context);
  for (const auto& ids : sequences) {
    for (size_t t = 0; t < ids.size(); ++t) {
      for (size_t i = 0; i < n; ++i) {
        const size_t back = n - i;
        examples.contexts.push_back(t >= back ? ids[t - back] : Vocabulary::kBegin);
      }
      examples.targets.push_back(ids[t]);
    }
  }
  return examples;
}

// A permutation of [0, size) that depends on (seed, epoch) only: Fisher-Yates
// with our own bounded draws (std::shuffle's are implementation-defined).
std::vector<uint32_t> epoch_order(size_t size, uint64_t seed, int epoch) {
  std::vector<uint32_t> order(size);
  std::iota(order.begin(), order.end(), 0u);
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(epoch), 0x7f4a7c15u};
  std::mt19937_64 random(seq);
  for (size_t i = size; i > 1; --i) {
    const size_t j = static_cast<size_t>(random() % i);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

double learning_rate_at(const TrainOptions& options, int64_t step, int epoch) {
  double rate = options.learning_rate * std::pow(options.lr_decay, epoch - 1);
  if (options.warmup_steps > 0 && step <= options.warmup_steps) {
    rate *= static_cast<double>(step) / static_cast<double>(options.warmup_steps);
  }
  return rate;
}

void clip(NeuralLmWeights& gradients, double max_norm) {
  if (max_norm <= 0) return;
  double squares = 0;
  for (const arma::fmat* array : std::as_const(gradients).arrays()) {
    squares += static_cast<double>(arma::accu(arma::square(*array)));
  }
  const double norm = std::sqrt(squares);
  if (norm <= max_norm) return;
  const auto scale = static_cast<float>(max_norm / norm);
  for (arma::fmat* array : gradients.arrays()) *array *= scale;
}

double test_perplexity(const NeuralLm& model, const std::vector<std::string>& texts) {
  if (texts.empty()) return std::numeric_limits<double>::quiet_NaN();
  return model.perplexity(texts);
}

}  // namespace

TrainResult train_language_model(const std::vector<std::string>& train_texts,
                                 const std::vector<std::string>& test_texts,
                                 const NeuralLmConfig& config, const TrainOptions& options,
                                 const TrainCallbacks& callbacks) {
  config.validate();
  validate(options);
  std::vector<std::vector<std::string>> tokenized;
  tokenized.reserve(train_texts.size());
  for (const auto& text : train_texts) tokenized.push_back(tokenize_words(text));
  Vocabulary vocabulary = Vocabulary::build(tokenized, options.vocabulary);
  std::vector<std::vector<int32_t>> sequences;
  sequences.reserve(tokenized.size());
  for (const auto& tokens : tokenized) {
    sequences.push_back(vocabulary.encode(tokens));
    sequences.back().push_back(Vocabulary::kEnd);
  }
  tokenized.clear();
  const Examples examples = make_examples(sequences, config.context);
  if (examples.size() == 0) throw Error("train: no training texts");

  NeuralLm model = NeuralLm::create(vocabulary, config);
  TrainResult result{.model = model, .history = {}};
  result.base_test_perplexity = test_perplexity(model, test_texts);
  result.unigram_test_perplexity = test_texts.empty()
                                       ? std::numeric_limits<double>::quiet_NaN()
                                       : unigram_score(vocabulary, test_texts).perplexity();
  AdamOptimizer optimizer(model.weights(), AdamOptions{.weight_decay = options.weight_decay});
  const std::string run_fingerprint = fingerprint(train_texts, config, options);

  LmCheckpointState state;
  std::optional<LmCheckpoints> checkpoints;
  if (!options.checkpoint_dir.empty()) {
    checkpoints.emplace(options.checkpoint_dir);
    if (const std::optional<int> last = checkpoints->last_epoch()) {
      LmCheckpoint checkpoint = checkpoints->read(*last);
      if (checkpoint.state.fingerprint != run_fingerprint) {
        throw Error("checkpoint " + checkpoints->path(*last).string() +
                    " belongs to a run with other training texts or settings; use another "
                    "checkpoint directory or empty this one");
      }
      if (!(checkpoint.model.vocabulary() == vocabulary) ||
          !(checkpoint.model.config() == config)) {
        throw Error("checkpoint " + checkpoints->path(*last).string() +
                    " holds a model of another vocabulary or config");
      }
      optimizer.deserialize(checkpoint.optimizer, checkpoint.optimizer_file.string());
      model = std::move(checkpoint.model);
      state = checkpoint.state;
      result.resumed_from_epoch = state.epoch;
      result.final_train_loss = state.train_loss;
    }
  }

  const auto n = static_cast<size_t>(config.context);
  const auto batch_size = static_cast<size_t>(options.batch_size);
  LmActivations activations;
  NeuralLmWeights gradients = model.weights().zeros_like();
  std::vector<int32_t> batch_contexts;
  std::vector<int32_t> batch_targets;
  double train_seconds = 0;
  int64_t tokens_this_call = 0;
  for (int epoch = state.epoch + 1; epoch <= options.epochs; ++epoch) {
    const auto start = Clock::now();
    const std::vector<uint32_t> order = epoch_order(examples.size(), options.seed, epoch);
    double loss_sum = 0;
    for (size_t first = 0; first < order.size(); first += batch_size) {
      const size_t count = std::min(batch_size, order.size() - first);
      batch_contexts.resize(count * n);
      batch_targets.resize(count);
      for (size_t b = 0; b < count; ++b) {
        const size_t example = order[first + b];
        std::copy_n(examples.contexts.begin() + static_cast<std::ptrdiff_t>(example * n), n,
                    batch_contexts.begin() + static_cast<std::ptrdiff_t>(b * n));
        batch_targets[b] = examples.targets[example];
      }
      lm_forward(model.weights(), config.context, batch_contexts.data(), count, activations);
      const double log_likelihood = lm_log_likelihood(activations, batch_targets.data());
      loss_sum -= log_likelihood;
      lm_backward(model.weights(), config.context, batch_contexts.data(), batch_targets.data(),
                  count, activations, gradients);
      clip(gradients, options.clip_norm);
      ++state.step;
      const double rate = learning_rate_at(options, state.step, epoch);
      optimizer.step(model.weights(), gradients, rate);
      state.tokens += static_cast<int64_t>(count);
      tokens_this_call += static_cast<int64_t>(count);
      const bool last = first + count == order.size();
      if (callbacks.on_step && (state.step % options.step_callback_every == 0 || last)) {
        callbacks.on_step(TrainStep{.step = state.step,
                                    .epoch = epoch,
                                    .loss = -log_likelihood / static_cast<double>(count),
                                    .learning_rate = rate,
                                    .tokens = state.tokens});
      }
    }
    TrainEpoch report;
    report.epoch = epoch;
    report.seconds = seconds_since(start);
    train_seconds += report.seconds;
    report.train_loss = loss_sum / static_cast<double>(order.size());
    report.test_perplexity = test_perplexity(model, test_texts);
    state.epoch = epoch;
    state.train_loss = report.train_loss;
    state.fingerprint = run_fingerprint;
    if (checkpoints) {
      report.checkpoint = checkpoints->write(state, model, optimizer.serialize());
      checkpoints->prune(options.keep_checkpoints);
    }
    result.final_train_loss = report.train_loss;
    result.history.push_back(report);
    if (callbacks.on_epoch) callbacks.on_epoch(report);
  }

  result.epochs = state.epoch;
  result.tokens_trained = state.tokens;
  result.tokens_per_second =
      train_seconds > 0 ? static_cast<double>(tokens_this_call) / train_seconds : 0;
  result.final_test_perplexity = result.history.empty() ? test_perplexity(model, test_texts)
                                                        : result.history.back().test_perplexity;
  result.model = std::move(model);
  return result;
}

}  // namespace twinflow
