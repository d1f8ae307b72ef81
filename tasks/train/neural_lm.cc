// See neural_lm.h.
#include "tasks/train/neural_lm.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>

#include "tasks/train/lm_weights.h"
#include "tasks/train/word_tokenizer.h"
#include "util/error.h"
#include "util/files.h"
#include "util/sha256.h"

namespace twinflow {
namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little, "weights.bin is little-endian float32");

namespace {

constexpr const char* kModelFormat = "twinflow-neural-lm-1";
constexpr size_t kEvaluateBatch = 256;

// Uniform in [0, 1) from the top 53 bits: the same on every platform.
double unit_draw(std::mt19937_64& random) {
  return static_cast<double>(random() >> 11) * 0x1.0p-53;
}

// The (context, target) pairs of one text's ids: <s> padding on the left.
void append_predictions(const std::vector<int32_t>& ids, int context,
                        std::vector<int32_t>& contexts, std::vector<int32_t>& targets) {
  const auto n = static_cast<size_t>(context);
  for (size_t t = 0; t < ids.size(); ++t) {
    for (size_t i = 0; i < n; ++i) {
      const size_t back = n - i;  // tokens before t
      contexts.push_back(t >= back ? ids[t - back] : Vocabulary::kBegin);
    }
    targets.push_back(ids[t]);
  }
}

}  // namespace

nlohmann::json NeuralLmConfig::to_json() const {
  return {{"context", context},
          {"embedding_dim", embedding_dim},
          {"hidden_dim", hidden_dim},
          {"seed", seed}};
}

NeuralLmConfig NeuralLmConfig::from_json(const nlohmann::json& json) {
  NeuralLmConfig config;
  try {
    config.context = json.at("context").get<int>();
    config.embedding_dim = json.at("embedding_dim").get<int>();
    config.hidden_dim = json.at("hidden_dim").get<int>();
    config.seed = json.at("seed").get<uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("neural LM config: ") + e.what());
  }
  config.validate();
  return config;
}

void NeuralLmConfig::validate() const {
  if (context < 1 || context > 64) throw Error("neural LM config: context must be in [1, 64]");
  if (embedding_dim < 1 || embedding_dim > 4096) {
    throw Error("neural LM config: embedding_dim must be in [1, 4096]");
  }
  if (hidden_dim < 1 || hidden_dim > 16384) {
    throw Error("neural LM config: hidden_dim must be in [1, 16384]");
  }
}

double LmScore::perplexity() const {
  if (tokens <= 0) return std::numeric_limits<double>::quiet_NaN();
  return std::exp(mean_loss());
}

double LmScore::mean_loss() const {
  if (tokens <= 0) return std::numeric_limits<double>::quiet_NaN();
  return -log_likelihood / static_cast<double>(tokens);
}

NeuralLm::NeuralLm(Vocabulary vocabulary, const NeuralLmConfig& config,
                   std::unique_ptr<NeuralLmWeights> weights)
    : config_(config), vocabulary_(std::move(vocabulary)), weights_(std::move(weights)) {}

NeuralLm::NeuralLm(const NeuralLm& other)
    : config_(other.config_),
      vocabulary_(other.vocabulary_),
      weights_(std::make_unique<NeuralLmWeights>(*other.weights_)) {}

NeuralLm& NeuralLm::operator=(const NeuralLm& other) {
  if (this != &other) {
    config_ = other.config_;
    vocabulary_ = other.vocabulary_;
    weights_ = std::make_unique<NeuralLmWeights>(*other.weights_);
  }
  return *this;
}

NeuralLm::NeuralLm(NeuralLm&&) noexcept = default;
NeuralLm& NeuralLm::operator=(NeuralLm&&) noexcept = default;
NeuralLm::~NeuralLm() = default;

NeuralLm NeuralLm::create(Vocabulary vocabulary, const NeuralLmConfig& config) {
  config.validate();
  auto weights =
      std::make_unique<NeuralLmWeights>(NeuralLmWeights::initial(vocabulary.size(), config));
  return NeuralLm(std::move(vocabulary), config, std::move(weights));
}

size_t NeuralLm::parameter_count() const {
  return weights_->parameter_count();
}

std::vector<int32_t> NeuralLm::encode_text(std::string_view text) const {
  std::vector<int32_t> ids = vocabulary_.encode(tokenize_words(text));
  ids.push_back(Vocabulary::kEnd);
  return ids;
}

LmScore NeuralLm::evaluate(const std::vector<std::string>& texts) const {
  std::vector<int32_t> contexts;
  std::vector<int32_t> targets;
  for (const auto& text : texts)
    append_predictions(encode_text(text), config_.context, contexts, targets);
  LmScore score;
  score.texts = static_cast<int64_t>(texts.size());
  score.tokens = static_cast<int64_t>(targets.size());
  LmActivations activations;
  const auto n = static_cast<size_t>(config_.context);
  for (size_t start = 0; start < targets.size(); start += kEvaluateBatch) {
    const size_t batch = std::min(kEvaluateBatch, targets.size() - start);
    lm_forward(*weights_, config_.context, contexts.data() + start * n, batch, activations);
    score.log_likelihood += lm_log_likelihood(activations, targets.data() + start);
  }
  return score;
}

std::string NeuralLm::generate(std::string_view prompt, const GenerateOptions& options) const {
  if (options.max_tokens < 0) throw Error("generate: max_tokens must be >= 0");
  if (!(options.temperature >= 0)) throw Error("generate: temperature must be >= 0");
  if (options.top_k < 0) throw Error("generate: top_k must be >= 0");
  if (!(options.top_p > 0 && options.top_p <= 1)) throw Error("generate: top_p must be in (0, 1]");
  if (!(options.repetition_penalty >= 1)) throw Error("generate: repetition_penalty must be >= 1");
  const auto n = static_cast<size_t>(config_.context);
  std::vector<int32_t> history(n, Vocabulary::kBegin);
  for (const int32_t id : vocabulary_.encode(tokenize_words(prompt))) history.push_back(id);
  std::mt19937_64 random(options.seed);
  std::vector<int32_t> generated;
  LmActivations activations;
  const size_t vocabulary_size = vocabulary_.size();
  const float penalty = static_cast<float>(std::log(options.repetition_penalty));
  std::vector<char> repeated(vocabulary_size, 0);  // generated already
  std::vector<float> logits(vocabulary_size);
  std::vector<int32_t> order(vocabulary_size);
  std::vector<double> weights;
  for (int step = 0; step < options.max_tokens; ++step) {
    lm_forward(*weights_, config_.context, history.data() + history.size() - n, 1, activations);
    const float* raw = activations.shifted.colptr(0);
    for (size_t id = 0; id < vocabulary_size; ++id)
      logits[id] = repeated[id] ? raw[id] - penalty : raw[id];
    std::iota(order.begin(), order.end(), 0);
    // Never emit <unk> or <s>.
    order.erase(std::remove_if(order.begin(), order.end(),
                               [](int32_t id) {
                                 return id == Vocabulary::kUnknown || id == Vocabulary::kBegin;
                               }),
                order.end());
    if (order.empty()) break;
    const auto more_likely = [&](int32_t a, int32_t b) {
      return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
    };
    int32_t next = 0;
    if (options.temperature == 0) {
      next = *std::min_element(order.begin(), order.end(), more_likely);
    } else {
      size_t keep = order.size();
      if (options.top_k > 0) keep = std::min(keep, static_cast<size_t>(options.top_k));
      std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep),
                        order.end(), more_likely);
      order.resize(keep);
      const double top = logits[order[0]];
      weights.assign(keep, 0);
      double total = 0;
      for (size_t i = 0; i < keep; ++i) {
        weights[i] = std::exp((logits[order[i]] - top) / options.temperature);
        total += weights[i];
      }
      if (options.top_p < 1) {  // the smallest prefix holding top_p of the mass
        double mass = 0;
        size_t nucleus = 0;
        while (nucleus < keep && mass < options.top_p * total) mass += weights[nucleus++];
        keep = std::max<size_t>(nucleus, 1);
        total = 0;
        for (size_t i = 0; i < keep; ++i) total += weights[i];
      }
      double draw = unit_draw(random) * total;
      next = order[keep - 1];
      for (size_t i = 0; i < keep; ++i) {
        if (draw < weights[i]) {
          next = order[i];
          break;
        }
        draw -= weights[i];
      }
    }
    if (next == Vocabulary::kEnd) break;
    generated.push_back(next);
    history.push_back(next);
    repeated[static_cast<size_t>(next)] = 1;
  }
  return detokenize_words(vocabulary_.decode(generated));
}

void NeuralLm::save(const fs::path& dir) const {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create model directory " + dir.string() + ": " + ec.message());
  std::string bytes;
  for (const arma::fmat* array : weights_->arrays()) {
    bytes.append(reinterpret_cast<const char*>(array->memptr()), array->n_elem * sizeof(float));
  }
  write_file_atomically(dir / "weights.bin", bytes);
  vocabulary_.save(dir / "vocabulary.json");
  nlohmann::json shapes = nlohmann::json::array();
  for (const arma::fmat* array : weights_->arrays())
    shapes.push_back({array->n_rows, array->n_cols});
  const nlohmann::json config = {{"format", kModelFormat},
                                 {"config", config_.to_json()},
                                 {"vocabulary_size", vocabulary_.size()},
                                 {"shapes", shapes},
                                 {"weights_bytes", bytes.size()},
                                 {"weights_sha256", sha256_hex(bytes)}};
  // Last, so that a directory with a config.json has the weights it names.
  write_file_atomically(dir / "config.json", config.dump(2) + "\n");
}

NeuralLm NeuralLm::load(const fs::path& dir) {
  const fs::path config_file = dir / "config.json";
  nlohmann::json manifest;
  NeuralLmConfig config;
  size_t vocabulary_size = 0;
  std::string weights_sha256;
  try {
    manifest = nlohmann::json::parse(read_file(config_file, "model config"));
    if (manifest.value("format", "") != kModelFormat) {
      throw Error(std::string("not a ") + kModelFormat + " model");
    }
    config = NeuralLmConfig::from_json(manifest.at("config"));
    vocabulary_size = manifest.at("vocabulary_size").get<size_t>();
    weights_sha256 = manifest.at("weights_sha256").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw Error("corrupt model config " + config_file.string() + ": " + e.what());
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.rfind("cannot read", 0) == 0) throw;
    throw Error("corrupt model config " + config_file.string() + ": " + what);
  }
  Vocabulary vocabulary = Vocabulary::load(dir / "vocabulary.json");
  if (vocabulary.size() != vocabulary_size) {
    throw Error("model vocabulary " + (dir / "vocabulary.json").string() + " has " +
                std::to_string(vocabulary.size()) + " tokens, " + config_file.string() + " says " +
                std::to_string(vocabulary_size));
  }
  auto weights =
      std::make_unique<NeuralLmWeights>(NeuralLmWeights::initial(vocabulary_size, config));
  const fs::path weights_file = dir / "weights.bin";
  const std::string bytes = read_file(weights_file, "model weights");
  const size_t expected = weights->parameter_count() * sizeof(float);
  if (bytes.size() != expected) {
    throw Error("corrupt model weights " + weights_file.string() + ": " +
                std::to_string(bytes.size()) + " bytes, expected " + std::to_string(expected));
  }
  if (sha256_hex(bytes) != weights_sha256) {
    throw Error("corrupt model weights " + weights_file.string() +
                ": sha256 differs from the one in " + config_file.string());
  }
  size_t offset = 0;
  for (arma::fmat* array : weights->arrays()) {
    std::memcpy(array->memptr(), bytes.data() + offset, array->n_elem * sizeof(float));
    offset += array->n_elem * sizeof(float);
  }
  return NeuralLm(std::move(vocabulary), config, std::move(weights));
}

}  // namespace twinflow
