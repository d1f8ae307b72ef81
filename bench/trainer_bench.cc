// The built-in language model trainer's speed and what it learns: training
// tokens per second and perplexity-evaluation tokens per second of the default
// NeuralLm (tasks/train/lm_trainer.h), one thread, on the bundled sample
// author's articles (sample/content/, every tenth paragraph held out), with the
// untrained, unigram and trained held-out perplexities.
//
// Default config, 8 epochs (TWINFLOW_BENCH_SMALL=1: 2 epochs). The sample is
// found through TWINFLOW_SOURCE_DIR when set, else in the source tree it was built from.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "tasks/train/lm_trainer.h"
#include "util/duration.h"

using Clock = std::chrono::steady_clock;
using namespace twinflow;
namespace fs = std::filesystem;

namespace {

// The paragraphs of sample/content/**.md, front matter dropped, in path order.
std::vector<std::string> sample_paragraphs(const fs::path& content) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(content)) {
    if (entry.path().extension() == ".md") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> paragraphs;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    std::string text = out.str();
    const size_t body = text.find("\n---\n");
    if (body != std::string::npos) text = text.substr(body + 5);
    for (size_t pos = 0; pos < text.size();) {
      size_t end = text.find("\n\n", pos);
      if (end == std::string::npos) end = text.size();
      if (end > pos) paragraphs.push_back(text.substr(pos, end - pos));
      pos = end + 2;
    }
  }
  return paragraphs;
}

}  // namespace

int main() {
  const bool small = std::getenv("TWINFLOW_BENCH_SMALL") != nullptr;
  // The environment overrides the source tree the benchmark was built from.
  const char* source = std::getenv("TWINFLOW_SOURCE_DIR");
  const fs::path content = fs::path(source ? source : TWINFLOW_SOURCE_DIR) / "sample" / "content";
  if (!fs::is_directory(content)) {
    std::fprintf(stderr, "no sample at %s (set TWINFLOW_SOURCE_DIR)\n", content.c_str());
    return 1;
  }
  const std::vector<std::string> paragraphs = sample_paragraphs(content);
  std::vector<std::string> train;
  std::vector<std::string> test;
  for (size_t i = 0; i < paragraphs.size(); ++i)
    (i % 10 == 3 ? test : train).push_back(paragraphs[i]);

  const NeuralLmConfig config;
  TrainOptions options;
  if (small) options.epochs = 2;
  std::printf(
      "sample: %zu train and %zu test paragraphs; config context %d, embedding %d, hidden %d\n",
      train.size(), test.size(), config.context, config.embedding_dim, config.hidden_dim);

  const auto start = Clock::now();
  const TrainResult result = train_language_model(
      train, test, config, options,
      {.on_step = nullptr, .on_epoch = [](const TrainEpoch& epoch) {
         std::printf("  epoch %d: train loss %.3f, test perplexity %.1f, %.2f s\n", epoch.epoch,
                     epoch.train_loss, epoch.test_perplexity, epoch.seconds);
       }});
  const double total = seconds_since(start);
  std::printf("vocabulary %zu, parameters %zu\n", result.model.vocabulary().size(),
              result.model.parameter_count());
  std::printf(
      "training: %d epochs, %lld tokens, %.0f tokens/s, %.2f s in all (evaluation included)\n",
      result.epochs, static_cast<long long>(result.tokens_trained), result.tokens_per_second,
      total);
  std::printf("test perplexity: untrained %.1f, unigram %.1f, trained %.1f\n",
              result.base_test_perplexity, result.unigram_test_perplexity,
              result.final_test_perplexity);

  // Evaluation speed: score the training texts, repeated to last a while.
  const int rounds = small ? 2 : 10;
  int64_t scored = 0;
  const auto eval_start = Clock::now();
  for (int round = 0; round < rounds; ++round) scored += result.model.evaluate(train).tokens;
  const double eval_seconds = seconds_since(eval_start);
  std::printf("evaluation: %lld tokens, %.0f tokens/s\n", static_cast<long long>(scored),
              static_cast<double>(scored) / eval_seconds);

  const auto generate_start = Clock::now();
  const std::string text = result.model.generate(
      "### Instruction:\nHow should I chunk documents for RAG?\n### Answer:\n",
      {.max_tokens = 60, .temperature = 0.7, .top_k = 20, .seed = 1});
  std::printf("generation: %.1f ms for up to 60 tokens: %s\n", 1000 * seconds_since(generate_start),
              text.c_str());
  return 0;
}
