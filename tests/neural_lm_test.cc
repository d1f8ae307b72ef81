// The built-in CPU language model (tasks/train/): word tokens, the vocabulary,
// the neural LM's scores, generation and model directories, and the trainer's
// learning, determinism and resuming from checkpoints, on the bundled sample
// author's articles (sample/content/).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "tasks/train/lm_trainer.h"
#include "tasks/train/lm_weights.h"
#include "tasks/train/neural_lm.h"
#include "tasks/train/unigram_lm.h"
#include "tasks/train/vocabulary.h"
#include "tasks/train/word_tokenizer.h"
#include "tests/support/scratch_dir.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

const fs::path kContent = fs::path(TWINFLOW_SOURCE_DIR) / "sample" / "content";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The paragraphs of the sample's articles and posts (front matter dropped), in
// path order.
std::vector<std::string> sample_paragraphs() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(kContent)) {
    if (entry.path().extension() == ".md") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> paragraphs;
  for (const auto& file : files) {
    std::string text = read_text(file);
    const size_t body = text.find("\n---\n");
    if (body != std::string::npos) text = text.substr(body + 5);
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find("\n\n", pos);
      if (end == std::string::npos) end = text.size();
      if (end > pos) paragraphs.push_back(text.substr(pos, end - pos));
      pos = end + 2;
    }
  }
  return paragraphs;
}

struct Split {
  std::vector<std::string> train;
  std::vector<std::string> test;
};

// Every tenth paragraph is held out. `limit` > 0 keeps the first paragraphs
// only, for the tests that train several times.
Split sample_split(size_t limit = 0) {
  std::vector<std::string> paragraphs = sample_paragraphs();
  if (limit > 0 && paragraphs.size() > limit) paragraphs.resize(limit);
  Split split;
  for (size_t i = 0; i < paragraphs.size(); ++i) {
    (i % 10 == 3 ? split.test : split.train).push_back(paragraphs[i]);
  }
  return split;
}

// A small model and short runs, so the tests that train repeatedly stay fast.
NeuralLmConfig small_config() {
  NeuralLmConfig config;
  config.context = 3;
  config.embedding_dim = 16;
  config.hidden_dim = 32;
  config.seed = 7;
  return config;
}

TrainOptions small_options(int epochs) {
  TrainOptions options;
  options.epochs = epochs;
  options.batch_size = 32;
  options.seed = 11;
  options.warmup_steps = 10;
  return options;
}

bool same_weights(const NeuralLm& a, const NeuralLm& b) {
  const auto left = a.weights().arrays();
  const auto right = b.weights().arrays();
  if (left.size() != right.size()) return false;
  for (size_t i = 0; i < left.size(); ++i) {
    if (left[i]->n_rows != right[i]->n_rows || left[i]->n_cols != right[i]->n_cols) return false;
    if (std::memcmp(left[i]->memptr(), right[i]->memptr(), left[i]->n_elem * sizeof(float)) != 0) {
      return false;
    }
  }
  return true;
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// ---- word tokens -------------------------------------------------------------

TEST(WordTokenizerTest, SplitsWordsNumbersAndPunctuation) {
  const std::vector<std::string> expected = {
      "###",   "instruction", ":",   "\n", "don't", "fine-tune", "gpt-4", "(", "3.5x", ",",
      "1,280", "!",           "...", "\n", "\n",    "it",        "'",     "s", "done"};
  EXPECT_EQ(
      tokenize_words("### Instruction:\nDon't fine-tune GPT-4 (3.5x, 1,280!...\n\nIt ' s done"),
      expected);
}

TEST(WordTokenizerTest, KeepsUtf8WholeAndNormalisesQuotes) {
  const auto tokens = tokenize_words("“Café” it’s 🧪 — done…");
  const std::vector<std::string> expected = {"\"",   "café",   "\"",   "it's",
                                             "🧪", "\u2014", "done", "\u2026"};
  EXPECT_EQ(tokens, expected);
  // Invalid UTF-8 is kept, never dropped or split into nothing.
  const auto invalid = tokenize_words(std::string("ab\xff\xfe cd"));
  ASSERT_EQ(invalid.size(), 2u);
  EXPECT_EQ(invalid[0], std::string("ab\xff\xfe"));
}

TEST(WordTokenizerTest, DetokenizesReadably) {
  EXPECT_EQ(
      detokenize_words(tokenize_words("Hello, world (again)! It is \"fine\": 3.5% off.\nNext")),
      "hello, world (again)! it is \"fine\": 3.5% off.\nnext");
  EXPECT_EQ(detokenize_words({}), "");
}

TEST(WordTokenizerTest, RoundTripsTheSample) {
  size_t checked = 0;
  for (const auto& paragraph : sample_paragraphs()) {
    const auto tokens = tokenize_words(paragraph);
    ASSERT_EQ(tokenize_words(detokenize_words(tokens)), tokens) << paragraph;
    ++checked;
  }
  EXPECT_GT(checked, 100u);
}

// ---- vocabulary --------------------------------------------------------------

TEST(VocabularyTest, CountsOrdersAndCuts) {
  const std::vector<std::vector<std::string>> sequences = {{"b", "a", "b", "c"},
                                                           {"a", "b", "d", "a"}};
  const Vocabulary all = Vocabulary::build(sequences, {.min_count = 1, .max_size = 100});
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(all.token(Vocabulary::kUnknown), "<unk>");
  EXPECT_EQ(all.token(Vocabulary::kBegin), "<s>");
  EXPECT_EQ(all.token(Vocabulary::kEnd), "</s>");
  EXPECT_EQ(all.token(3), "a");  // 3 times, before b by byte order
  EXPECT_EQ(all.token(4), "b");
  EXPECT_EQ(all.token(5), "c");  // once, before d
  EXPECT_EQ(all.count(3), 3);
  EXPECT_EQ(all.count(Vocabulary::kEnd), 2);
  EXPECT_EQ(all.id("zzz"), Vocabulary::kUnknown);

  const Vocabulary frequent = Vocabulary::build(sequences, {.min_count = 2, .max_size = 100});
  EXPECT_EQ(frequent.size(), 5u);
  EXPECT_EQ(frequent.count(Vocabulary::kUnknown), 2);  // c and d
  EXPECT_EQ(frequent.encode({"a", "c"}), (std::vector<int32_t>{3, Vocabulary::kUnknown}));
  EXPECT_EQ(frequent.decode({Vocabulary::kBegin, 4, Vocabulary::kEnd}),
            (std::vector<std::string>{"b"}));

  const Vocabulary small = Vocabulary::build(sequences, {.min_count = 1, .max_size = 4});
  EXPECT_EQ(small.size(), 4u);
  EXPECT_THROW(Vocabulary::build(sequences, {.min_count = 0, .max_size = 10}), Error);
}

TEST(VocabularyTest, SavesLoadsAndRejectsCorruptFiles) {
  ScratchDir dir("neural-lm-vocabulary");
  const Vocabulary vocabulary =
      Vocabulary::build({tokenize_words("the cat and the hat")}, VocabularyOptions{1, 100});
  vocabulary.save(dir.path() / "vocabulary.json");
  EXPECT_EQ(Vocabulary::load(dir.path() / "vocabulary.json"), vocabulary);

  dir.write("bad.json", "{\"format\": \"twinflow-vocabulary-1\", \"tokens\": [\"<unk>\"");
  EXPECT_NE(error_of([&] { Vocabulary::load(dir.path() / "bad.json"); }).find("bad.json"),
            std::string::npos);
  dir.write("dup.json",
            "{\"format\": \"twinflow-vocabulary-1\", \"tokens\": [\"<unk>\", \"<s>\", \"</s>\", "
            "\"a\", \"a\"], \"counts\": [0, 0, 1, 1, 1]}");
  EXPECT_NE(error_of([&] { Vocabulary::load(dir.path() / "dup.json"); }).find("twice"),
            std::string::npos);
  EXPECT_NE(error_of([&] { Vocabulary::load(dir.path() / "missing.json"); }).find("missing.json"),
            std::string::npos);
}

// ---- the model ---------------------------------------------------------------

TEST(NeuralLmTest, UntrainedPerplexityIsAboutTheVocabularySize) {
  const Split split = sample_split();
  std::vector<std::vector<std::string>> tokens;
  for (const auto& text : split.train) tokens.push_back(tokenize_words(text));
  const Vocabulary vocabulary = Vocabulary::build(tokens, {});
  const NeuralLm model = NeuralLm::create(vocabulary, NeuralLmConfig{});
  const double perplexity = model.perplexity(split.test);
  const auto size = static_cast<double>(vocabulary.size());
  EXPECT_GT(perplexity, 0.7 * size);
  EXPECT_LT(perplexity, 1.5 * size);
  EXPECT_GT(model.parameter_count(), vocabulary.size() * 64);

  // The same seed gives the same untrained model, another seed another one.
  EXPECT_TRUE(same_weights(model, NeuralLm::create(vocabulary, NeuralLmConfig{})));
  NeuralLmConfig other;
  other.seed = 43;
  EXPECT_FALSE(same_weights(model, NeuralLm::create(vocabulary, other)));

  // The unigram baseline is far better than a uniform guess.
  EXPECT_LT(unigram_score(vocabulary, split.test).perplexity(), 0.5 * size);
  const LmScore score = model.evaluate(split.test);
  EXPECT_EQ(score.texts, static_cast<int64_t>(split.test.size()));
  EXPECT_GT(score.tokens, 500);
}

TEST(NeuralLmTest, RejectsBadConfigsAndOptions) {
  NeuralLmConfig config;
  config.context = 0;
  EXPECT_THROW(NeuralLm::create(Vocabulary(), config), Error);
  const NeuralLm model = NeuralLm::create(Vocabulary(), NeuralLmConfig{});
  EXPECT_THROW(model.generate("x", {.max_tokens = -1}), Error);
  EXPECT_THROW(model.generate("x", {.temperature = -1}), Error);
  EXPECT_EQ(model.generate("x", {.max_tokens = 0}), "");
  EXPECT_THROW(model.generate("x", {.top_p = 0}), Error);
  EXPECT_THROW(model.generate("x", {.top_p = 1.5}), Error);
  EXPECT_THROW(model.generate("x", {.repetition_penalty = 0.5}), Error);
  EXPECT_TRUE(std::isnan(model.evaluate({}).perplexity()));
}

// Greedy decoding of the untrained base loops on the same few words; a strong
// repetition penalty forbids every repeat, a tiny top_p makes sampling greedy,
// and the same seed gives the same text.
TEST(NeuralLmTest, RepetitionPenaltyAndTopPShapeDecoding) {
  const Split split = sample_split(80);
  std::vector<std::vector<std::string>> tokens;
  for (const auto& text : split.train) tokens.push_back(tokenize_words(text));
  const NeuralLm model = NeuralLm::create(Vocabulary::build(tokens, {}), NeuralLmConfig{});
  const auto words = [](const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string w; in >> w;) out.push_back(w);
    return out;
  };
  const auto repeats = [&](const std::string& text) {
    auto w = words(text);
    std::sort(w.begin(), w.end());
    return static_cast<size_t>(std::adjacent_find(w.begin(), w.end()) != w.end());
  };
  const GenerateOptions greedy{.max_tokens = 40, .temperature = 0};
  const std::string plain = model.generate("the model", greedy);
  ASSERT_GE(words(plain).size(), 10u) << plain;
  EXPECT_EQ(repeats(plain), 1u) << "expected the untrained model to repeat itself: " << plain;
  GenerateOptions penalised = greedy;
  penalised.repetition_penalty = 1e6;
  const std::string distinct = model.generate("the model", penalised);
  EXPECT_EQ(repeats(distinct), 0u) << distinct;
  EXPECT_NE(distinct, plain);

  const GenerateOptions nucleus{
      .max_tokens = 25, .temperature = 1.0, .top_k = 0, .top_p = 1e-9, .seed = 3};
  EXPECT_EQ(model.generate("the model", nucleus),
            model.generate("the model", {.max_tokens = 25, .temperature = 0}));
  const GenerateOptions sampled{
      .max_tokens = 25, .temperature = 1.0, .top_p = 0.9, .repetition_penalty = 1.3, .seed = 7};
  EXPECT_EQ(model.generate("the model", sampled), model.generate("the model", sampled));
}

// ---- training ----------------------------------------------------------------

TEST(LmTrainerTest, LearnsTheAuthorsText) {
  const Split split = sample_split();
  TrainOptions options;
  options.epochs = 3;
  std::vector<TrainStep> steps;
  std::vector<TrainEpoch> epochs;
  const TrainResult result =
      train_language_model(split.train, split.test, NeuralLmConfig{}, options,
                           {.on_step = [&](const TrainStep& step) { steps.push_back(step); },
                            .on_epoch = [&](const TrainEpoch& epoch) { epochs.push_back(epoch); }});
  ASSERT_EQ(epochs.size(), 3u);
  EXPECT_LT(epochs.back().train_loss, epochs.front().train_loss);
  ASSERT_FALSE(steps.empty());
  EXPECT_LT(steps.back().loss, steps.front().loss);
  EXPECT_EQ(steps.back().tokens, result.tokens_trained);
  EXPECT_EQ(result.resumed_from_epoch, 0);
  EXPECT_EQ(result.epochs, 3);
  EXPECT_EQ(result.history.size(), 3u);
  EXPECT_GT(result.tokens_per_second, 0);
  // Clearly better than the untrained base, and better than word frequencies.
  EXPECT_LT(result.final_test_perplexity, 0.2 * result.base_test_perplexity);
  EXPECT_LT(result.final_test_perplexity, result.unigram_test_perplexity);
  EXPECT_DOUBLE_EQ(result.final_test_perplexity, result.model.perplexity(split.test));

  const std::string text =
      result.model.generate("### Instruction:\nWhat is a chunk?", {.max_tokens = 30, .seed = 5});
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.find("<unk>"), std::string::npos);
}

TEST(LmTrainerTest, IsDeterministicForASeed) {
  const Split split = sample_split(80);
  const TrainResult first =
      train_language_model(split.train, split.test, small_config(), small_options(2));
  const TrainResult second =
      train_language_model(split.train, split.test, small_config(), small_options(2));
  EXPECT_TRUE(same_weights(first.model, second.model));
  EXPECT_EQ(first.final_test_perplexity, second.final_test_perplexity);

  TrainOptions reshuffled = small_options(2);
  reshuffled.seed = 12;
  const TrainResult third =
      train_language_model(split.train, split.test, small_config(), reshuffled);
  EXPECT_FALSE(same_weights(first.model, third.model));

  const GenerateOptions sampling{.max_tokens = 25, .temperature = 1.0, .top_k = 0, .seed = 9};
  EXPECT_EQ(first.model.generate("the model", sampling),
            second.model.generate("the model", sampling));
  EXPECT_EQ(first.model.generate("the model", {.max_tokens = 25, .temperature = 0}),
            first.model.generate("the model", {.max_tokens = 25, .temperature = 0}));
}

TEST(LmTrainerTest, SavedModelLoadsIdentically) {
  ScratchDir dir("neural-lm-save");
  const Split split = sample_split(80);
  const TrainResult result =
      train_language_model(split.train, split.test, small_config(), small_options(2));
  result.model.save(dir.path() / "model");
  const NeuralLm loaded = NeuralLm::load(dir.path() / "model");
  EXPECT_TRUE(same_weights(result.model, loaded));
  EXPECT_EQ(loaded.config(), result.model.config());
  EXPECT_EQ(loaded.vocabulary(), result.model.vocabulary());
  EXPECT_EQ(loaded.perplexity(split.test), result.model.perplexity(split.test));
  const GenerateOptions options{.max_tokens = 30, .temperature = 0.8, .top_k = 10, .seed = 4};
  EXPECT_EQ(loaded.generate("retrieval", options), result.model.generate("retrieval", options));
}

TEST(LmTrainerTest, LoadNamesTheMissingOrCorruptFile) {
  ScratchDir dir("neural-lm-corrupt");
  const Split split = sample_split(40);
  const NeuralLm model =
      train_language_model(split.train, {}, small_config(), small_options(1)).model;
  const fs::path model_dir = dir.path() / "model";
  model.save(model_dir);

  EXPECT_NE(error_of([&] { NeuralLm::load(dir.path() / "nowhere"); }).find("config.json"),
            std::string::npos);

  std::string weights = read_text(model_dir / "weights.bin");
  weights[weights.size() / 2] ^= 0x5a;
  dir.write("model/weights.bin", weights);
  EXPECT_NE(error_of([&] { NeuralLm::load(model_dir); }).find("weights.bin"), std::string::npos);

  dir.write("model/weights.bin", weights.substr(0, 100));
  EXPECT_NE(error_of([&] { NeuralLm::load(model_dir); }).find("weights.bin"), std::string::npos);

  model.save(model_dir);
  dir.write("model/config.json", "{not json");
  EXPECT_NE(error_of([&] { NeuralLm::load(model_dir); }).find("config.json"), std::string::npos);
}

TEST(LmTrainerTest, ResumesFromTheLastCheckpoint) {
  ScratchDir dir("neural-lm-resume");
  const Split split = sample_split(80);
  const fs::path checkpoints = dir.path() / "checkpoints";
  TrainOptions options = small_options(2);
  options.checkpoint_dir = checkpoints;
  options.keep_checkpoints = 0;
  std::vector<fs::path> written;
  const TrainResult two = train_language_model(
      split.train, split.test, small_config(), options,
      {.on_step = nullptr,
       .on_epoch = [&](const TrainEpoch& e) { written.push_back(e.checkpoint); }});
  ASSERT_EQ(written.size(), 2u);
  EXPECT_TRUE(fs::exists(written[1] / "state.json"));
  EXPECT_EQ(written[1].filename(), "epoch-0002");

  options.epochs = 4;
  const TrainResult resumed =
      train_language_model(split.train, split.test, small_config(), options);
  EXPECT_EQ(resumed.resumed_from_epoch, 2);
  EXPECT_EQ(resumed.epochs, 4);
  EXPECT_EQ(resumed.history.size(), 2u);
  EXPECT_EQ(resumed.history.front().epoch, 3);

  const TrainResult straight =
      train_language_model(split.train, split.test, small_config(), small_options(4));
  EXPECT_EQ(straight.resumed_from_epoch, 0);
  EXPECT_TRUE(same_weights(resumed.model, straight.model));
  EXPECT_EQ(resumed.tokens_trained, straight.tokens_trained);
  EXPECT_EQ(resumed.final_test_perplexity, straight.final_test_perplexity);

  // Asking again for 4 epochs trains nothing and returns the same model.
  const TrainResult again = train_language_model(split.train, split.test, small_config(), options);
  EXPECT_EQ(again.resumed_from_epoch, 4);
  EXPECT_TRUE(again.history.empty());
  EXPECT_TRUE(same_weights(again.model, straight.model));
}

TEST(LmTrainerTest, ResumesAfterACrashInTheMiddleOfAnEpoch) {
  ScratchDir dir("neural-lm-crash");
  const Split split = sample_split(80);
  TrainOptions options = small_options(3);
  options.checkpoint_dir = dir.path() / "checkpoints";
  options.step_callback_every = 1;
  const auto crash_in_epoch_2 = [](const TrainStep& step) {
    if (step.epoch == 2 && step.step % 7 == 0) throw std::runtime_error("killed");
  };
  EXPECT_THROW(train_language_model(split.train, split.test, small_config(), options,
                                    {.on_step = crash_in_epoch_2, .on_epoch = nullptr}),
               std::runtime_error);
  // A half-written checkpoint of the next epoch is cleaned up and ignored.
  fs::create_directories(options.checkpoint_dir / "epoch-0002.tmp");
  const TrainResult resumed =
      train_language_model(split.train, split.test, small_config(), options);
  EXPECT_EQ(resumed.resumed_from_epoch, 1);
  EXPECT_FALSE(fs::exists(options.checkpoint_dir / "epoch-0002.tmp"));
  // Two checkpoints are kept by default.
  EXPECT_FALSE(fs::exists(options.checkpoint_dir / "epoch-0001"));
  EXPECT_TRUE(fs::exists(options.checkpoint_dir / "epoch-0003"));

  const TrainResult straight =
      train_language_model(split.train, split.test, small_config(), small_options(3));
  EXPECT_TRUE(same_weights(resumed.model, straight.model));
}

TEST(LmTrainerTest, RefusesCorruptOrForeignCheckpoints) {
  ScratchDir dir("neural-lm-bad-checkpoint");
  const Split split = sample_split(40);
  TrainOptions options = small_options(1);
  options.checkpoint_dir = dir.path() / "checkpoints";
  train_language_model(split.train, split.test, small_config(), options);
  const fs::path last = options.checkpoint_dir / "epoch-0001";
  options.epochs = 2;

  // Other texts: the checkpoint is not silently continued.
  std::vector<std::string> other_texts = split.train;
  other_texts.pop_back();
  EXPECT_NE(error_of([&] {
              train_language_model(other_texts, split.test, small_config(), options);
            }).find("other training texts"),
            std::string::npos);

  const std::string optimizer = read_text(last / "optimizer.bin");
  dir.write("checkpoints/epoch-0001/optimizer.bin", optimizer.substr(0, optimizer.size() - 8));
  EXPECT_NE(error_of([&] {
              train_language_model(split.train, split.test, small_config(), options);
            }).find("optimizer.bin"),
            std::string::npos);

  dir.write("checkpoints/epoch-0001/optimizer.bin", optimizer);
  dir.write("checkpoints/epoch-0001/state.json", "{\"format\": 1");
  EXPECT_NE(error_of([&] {
              train_language_model(split.train, split.test, small_config(), options);
            }).find("state.json"),
            std::string::npos);

  fs::remove(last / "state.json");
  fs::remove(last / "weights.bin");
  EXPECT_NE(error_of([&] {
              train_language_model(split.train, split.test, small_config(), options);
            }).find("state.json"),
            std::string::npos);
}

TEST(LmTrainerTest, RejectsBadOptions) {
  const Split split = sample_split(20);
  TrainOptions options = small_options(1);
  options.batch_size = 0;
  EXPECT_THROW(train_language_model(split.train, split.test, small_config(), options), Error);
  EXPECT_THROW(train_language_model({}, split.test, small_config(), small_options(1)), Error);
}

}  // namespace
}  // namespace twinflow
