// The built-in embedder's speed: fitting the TF-IDF/SVD model on N chunks of
// about 1,000 characters, embedding them (chunks per second, one thread), and
// saving the model; embedding again with an unstemmed model, the baseline of
// what stemming costs.
//
// The chunks are synthetic but wordy: sentences drawn from a Zipf-distributed
// vocabulary of 30,000 pseudo-words, each chunk leaning on one of 200 topics,
// with some code-like identifiers, so the vocabulary, the sparsity and the
// spectrum look like real text rather than uniform noise.
//
// N = 20,000 (TWINFLOW_BENCH_SMALL=1: 2,000). Dimension 256.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tasks/embed/tfidf_svd.h"
#include "util/duration.h"

using Clock = std::chrono::steady_clock;
using namespace twinflow;

namespace {

// A pronounceable pseudo-word per index: "talo", "kerimu", ...
std::string pseudo_word(size_t index) {
  static const char* const kSyllables[] = {"ka", "lo",  "mi",  "ren", "tu", "sa", "vel", "do",
                                           "ni", "por", "qua", "be",  "zi", "fa", "gor", "hu"};
  std::string word;
  for (size_t i = index + 16; i > 0; i /= 16) word += kSyllables[i % 16];
  return word;
}

class ChunkGenerator {
 public:
  explicit ChunkGenerator(uint64_t seed) : random_(seed) {
    for (size_t i = 0; i < kVocabulary; ++i) words_.push_back(pseudo_word(i));
    std::vector<double> zipf(kVocabulary);
    for (size_t i = 0; i < kVocabulary; ++i) zipf[i] = 1.0 / static_cast<double>(i + 1);
    common_ = std::discrete_distribution<size_t>(zipf.begin(), zipf.end());
  }

  std::string chunk(size_t target_chars) {
    const size_t topic = random_() % kTopics;
    std::string text;
    while (text.size() < target_chars) {
      const size_t words = 6 + random_() % 14;
      for (size_t w = 0; w < words; ++w) {
        text += w == 0 ? "" : " ";
        text += next_word(topic);
      }
      text += ". ";
    }
    return text;
  }

 private:
  static constexpr size_t kVocabulary = 30000;
  static constexpr size_t kTopics = 200;
  static constexpr size_t kWordsPerTopic = 60;

  // Half the words come from the chunk's topic, a few are identifiers.
  std::string next_word(size_t topic) {
    const uint64_t roll = random_() % 100;
    if (roll < 50) return words_[(topic * 131 + random_() % kWordsPerTopic) % kVocabulary];
    if (roll < 53) return words_[random_() % 500] + "_" + words_[topic];
    return words_[common_(random_)];
  }

  std::mt19937_64 random_;
  std::vector<std::string> words_;
  std::discrete_distribution<size_t> common_;
};

}  // namespace

int main() {
  const bool small = std::getenv("TWINFLOW_BENCH_SMALL") != nullptr;
  const size_t n = small ? 2000 : 20000;

  ChunkGenerator generator(1);
  std::vector<std::string> chunks;
  for (size_t i = 0; i < n; ++i) chunks.push_back(generator.chunk(1000));

  TfidfSvdOptions options;
  auto start = Clock::now();
  const TfidfSvdModel model = TfidfSvdModel::fit(chunks, options);
  const double fit_seconds = seconds_since(start);
  std::printf("fit: %zu chunks, vocabulary %zu, rank %d/%d, %.2f s (%d threads)\n", n,
              model.vocabulary_size(), model.rank(), model.dimension(), fit_seconds,
              std::max(1u, std::thread::hardware_concurrency()));

  TfidfSvdOptions one_thread = options;
  one_thread.threads = 1;
  start = Clock::now();
  TfidfSvdModel::fit(std::vector<std::string>(chunks.begin(), chunks.begin() + n / 2), one_thread);
  std::printf("fit: %zu chunks on one thread, %.2f s\n", n / 2, seconds_since(start));

  const std::vector<std::string_view> views(chunks.begin(), chunks.end());
  std::vector<float> vectors(n * model.dimension());
  start = Clock::now();
  model.embed_batch(views, vectors.data());
  const double embed_seconds = seconds_since(start);
  std::printf("embed: %zu chunks in %.3f s = %.0f chunks/s (one thread)\n", n, embed_seconds,
              static_cast<double>(n) / embed_seconds);
  // The baseline in the same run: a model that counts words as written (no
  // stemming, as model files of format version 1 do).
  TfidfSvdOptions unstemmed = options;
  unstemmed.stem = false;
  const TfidfSvdModel baseline = TfidfSvdModel::fit(chunks, unstemmed);
  start = Clock::now();
  baseline.embed_batch(views, vectors.data());
  const double baseline_seconds = seconds_since(start);
  std::printf("embed without stemming (baseline): %.3f s = %.0f chunks/s\n", baseline_seconds,
              static_cast<double>(n) / baseline_seconds);

  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("twinflow-embed-bench-" + std::to_string(getpid()));
  start = Clock::now();
  model.save(path);
  const double save_seconds = seconds_since(start);
  start = Clock::now();
  const TfidfSvdModel loaded = TfidfSvdModel::load(path);
  std::printf("model file: %.1f MB, save %.2f s, load %.2f s, fingerprint %.12s\n",
              static_cast<double>(std::filesystem::file_size(path)) / 1e6, save_seconds,
              seconds_since(start), loaded.fingerprint().c_str());
  std::filesystem::remove(path);
  return loaded.fingerprint() == model.fingerprint() ? 0 : 1;
}
