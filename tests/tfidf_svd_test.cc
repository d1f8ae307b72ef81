// Tests for tasks/embed/tfidf_svd.h and tasks/embed/tokenizer.h: the terms the
// tokenizer emits (identifier parts, stop words, bigrams), and the embedder's
// promises: determinism down to the saved bytes, unit vectors, zero padding on
// a tiny corpus, topical retrieval on a hand-written corpus and through word
// co-occurrence, a lossless save/load, and load errors that name the file.
#include "tasks/embed/tfidf_svd.h"
#include "tests/support/scratch_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tasks/embed/tokenizer.h"
#include "util/error.h"
#include "util/sha256.h"

namespace twinflow {
namespace {

namespace fs = std::filesystem;

bool contains(const std::vector<std::string>& terms, const std::string& term) {
  return std::find(terms.begin(), terms.end(), term) != terms.end();
}

TEST(Tokenizer, LowercasesAndSplitsIdentifiers) {
  const auto terms = Tokenizer().terms("parseHTTPServer max_df_ratio utf8Decode");
  for (const char* expected : {"parsehttpserver", "parse", "http", "server", "max_df_ratio", "max",
                               "df", "ratio", "utf8decode", "utf8", "decode"}) {
    EXPECT_TRUE(contains(terms, expected)) << expected;
  }
}

TEST(Tokenizer, DropsStopWordsOneByteTermsAndHugeTokens) {
  const auto terms = Tokenizer().terms("The cat and a x " + std::string(60, 'q'));
  EXPECT_EQ(terms, std::vector<std::string>{"cat"});
}

TEST(Tokenizer, KeepsNonAsciiWordsWhole) {
  const auto terms = Tokenizer(TokenizerOptions{.bigrams = false}).terms("Größe café");
  EXPECT_EQ(terms, (std::vector<std::string>{"größe", "café"}));
}

TEST(Tokenizer, BigramsJoinAdjacentWordsOnly) {
  const auto terms = Tokenizer().terms("connection pool. Pool size of the connection");
  EXPECT_TRUE(contains(terms, "connection pool"));
  EXPECT_TRUE(contains(terms, "pool size"));
  EXPECT_FALSE(contains(terms, "pool pool"));        // a full stop ends the phrase
  EXPECT_FALSE(contains(terms, "size connection"));  // so do stop words
  EXPECT_FALSE(contains(Tokenizer(TokenizerOptions{.bigrams = false}).terms("connection pool"),
                        "connection pool"));
}

TEST(Tokenizer, StemmingCountsTheFormsOfAWordAsOneTerm) {
  const Tokenizer stemming(TokenizerOptions{.bigrams = true, .stem = true});
  EXPECT_EQ(stemming.terms("Flows flowing. The flow"),
            (std::vector<std::string>{"flow", "flow", "flow flow", "flow"}));
  // Identifier parts are stemmed too; the whole identifier is one word.
  EXPECT_TRUE(contains(stemming.terms("parseRequests"), "request"));
  // Stop words are recognised as written ("doing" would stem to "do").
  EXPECT_EQ(stemming.terms("doing"), std::vector<std::string>{});
  // Off by default: the tokenizer alone keeps words as written.
  EXPECT_EQ(Tokenizer().terms("flows"), std::vector<std::string>{"flows"});
}

// Twelve paragraphs on unrelated subjects, and a query for each that shares a
// few of its words.
const std::vector<std::string>& topic_corpus() {
  static const std::vector<std::string> corpus = {
      "PostgreSQL stores rows in heap pages; an index scan follows a btree to find tuples, and "
      "vacuum reclaims dead tuples left by updates. Queries are planned by the optimizer.",
      "Sourdough bread needs a lively starter, flour, water and salt. Knead the dough, let it "
      "rise overnight, shape the loaf and bake it in a hot oven until the crust is dark.",
      "The marathon training plan builds weekly mileage slowly, mixing long runs, tempo runs and "
      "recovery days so that the runner's legs adapt without injury.",
      "Kubernetes schedules containers in pods across nodes; a deployment keeps replicas "
      "running and a service routes traffic to healthy pods behind a stable address.",
      "Tomatoes grow best in full sun with regular watering; gardeners stake the vines, prune "
      "suckers and feed the soil with compost for a larger harvest.",
      "The violin concerto opens with a slow melody in the strings before the soloist enters; "
      "the orchestra answers each phrase and the final movement is a fast dance.",
      "Black holes form when massive stars collapse; their gravity bends light so strongly that "
      "nothing escapes past the event horizon, which astronomers image with telescopes.",
      "Rust's borrow checker enforces ownership: each value has one owner, references must not "
      "outlive it, and mutable borrows are exclusive, which prevents data races.",
      "Mortgage interest rates follow the central bank; a fixed-rate loan keeps monthly "
      "payments stable while a variable loan tracks the market and can rise.",
      "Honeybees communicate with a waggle dance that tells the hive the direction and distance "
      "of flowers; workers gather nectar and pollen and the queen lays eggs.",
      "The French Revolution began in 1789 when the Estates-General met; the Bastille fell, the "
      "monarchy was abolished and the republic executed the king.",
      "Chess openings such as the Sicilian Defence fight for the centre; players develop knights "
      "and bishops, castle the king early and plan pawn breaks.",
  };
  return corpus;
}

const std::vector<std::string>& topic_queries() {
  static const std::vector<std::string> queries = {
      "how does vacuum clean dead tuples in postgresql",
      "baking a loaf with a sourdough starter",
      "weekly mileage for marathon runners",
      "kubernetes pods and deployments",
      "watering and pruning tomato vines",
      "soloist and orchestra in a concerto",
      "light near the event horizon of black holes",
      "ownership and the borrow checker",
      "fixed-rate mortgage payments",
      "waggle dance of honeybees",
      "why the Bastille fell in the revolution",
      "Sicilian Defence opening and castling",
  };
  return queries;
}

float dot(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(sum);
}

double norm(const std::vector<float>& v) {
  return std::sqrt(static_cast<double>(dot(v, v)));
}

size_t best_match(const TfidfSvdModel& model, const std::vector<std::string>& corpus,
                  std::string_view query) {
  const std::vector<float> q = model.embed(query);
  size_t best = 0;
  float best_score = -2;
  for (size_t d = 0; d < corpus.size(); ++d) {
    const float score = dot(q, model.embed(corpus[d]));
    if (score > best_score) best = d, best_score = score;
  }
  return best;
}

// Documents drawn from a few topics, each topic its own word pool, so that
// words of a topic co-occur. Fixed seed: failures reproduce.
std::vector<std::string> synthetic_topic_corpus(int topics, int docs_per_topic, int words_per_doc) {
  std::mt19937 random(7);
  std::vector<std::string> docs;
  for (int d = 0; d < docs_per_topic; ++d) {
    for (int t = 0; t < topics; ++t) {
      std::string doc;
      for (int w = 0; w < words_per_doc; ++w) {
        doc += "topic" + std::to_string(t) + "word" + std::to_string(random() % 30) + ". ";
      }
      docs.push_back(doc);
    }
  }
  return docs;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TfidfSvdOptions small_options(int dimension) {
  TfidfSvdOptions options;
  options.dimension = dimension;
  return options;
}

TEST(TfidfSvdModel, FittingTwiceGivesIdenticalBytesWhateverTheThreads) {
  const auto corpus = synthetic_topic_corpus(5, 40, 25);
  TfidfSvdOptions one_thread = small_options(16), two_threads = small_options(16);
  one_thread.threads = 1;
  two_threads.threads = 2;
  const TfidfSvdModel a = TfidfSvdModel::fit(corpus, one_thread);
  const TfidfSvdModel b = TfidfSvdModel::fit(corpus, two_threads);
  ScratchDir dir;
  a.save(dir.path() / "a.model");
  b.save(dir.path() / "b.model");
  EXPECT_EQ(read_bytes(dir.path() / "a.model"), read_bytes(dir.path() / "b.model"));
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
  EXPECT_EQ(a.fingerprint(), sha256_file(dir.path() / "a.model"));
  EXPECT_EQ(a.embed(corpus[3]), b.embed(corpus[3]));
}

TEST(TfidfSvdModel, SeedIsPartOfTheModel) {
  const auto corpus = synthetic_topic_corpus(5, 40, 25);
  TfidfSvdOptions other_seed = small_options(16);
  other_seed.seed = 43;
  EXPECT_NE(TfidfSvdModel::fit(corpus, small_options(16)).fingerprint(),
            TfidfSvdModel::fit(corpus, other_seed).fingerprint());
}

TEST(TfidfSvdModel, EmbeddingsAreUnitVectorsOfTheRequestedDimension) {
  const auto corpus = synthetic_topic_corpus(5, 40, 25);
  const TfidfSvdModel model = TfidfSvdModel::fit(corpus, small_options(24));
  EXPECT_EQ(model.dimension(), 24);
  EXPECT_EQ(model.rank(), 24);
  for (const std::string& text : {corpus[0], corpus[17], std::string("topic2word5 topic3word9")}) {
    const std::vector<float> v = model.embed(text);
    ASSERT_EQ(v.size(), 24u);
    EXPECT_NEAR(norm(v), 1.0, 1e-5);
  }
}

TEST(TfidfSvdModel, TinyCorpusIsPaddedWithZeros) {
  const std::vector<std::string> corpus = {"apples and pears", "pears and plums",
                                           "cherries, apples"};
  const TfidfSvdModel model = TfidfSvdModel::fit(corpus, small_options(64));
  EXPECT_EQ(model.dimension(), 64);
  EXPECT_GE(model.rank(), 1);
  EXPECT_LE(model.rank(), 3);
  const std::vector<float> v = model.embed("apples");
  ASSERT_EQ(v.size(), 64u);
  EXPECT_NEAR(norm(v), 1.0, 1e-5);
  for (size_t i = model.rank(); i < v.size(); ++i) EXPECT_EQ(v[i], 0.0f) << i;
  for (size_t i = model.rank(); i < v.size(); ++i) EXPECT_EQ(model.singular_values()[i], 0.0f);
}

TEST(TfidfSvdModel, TextWithoutKnownTermsEmbedsAsZero) {
  const TfidfSvdModel model = TfidfSvdModel::fit(topic_corpus(), small_options(32));
  for (const char* text : {"", "the and of", "zyzzyva quux"}) {
    const std::vector<float> v = model.embed(text);
    ASSERT_EQ(v.size(), 32u);
    EXPECT_EQ(norm(v), 0.0) << text;
  }
}

TEST(TfidfSvdModel, QueryRanksItsTopicFirst) {
  const TfidfSvdModel model = TfidfSvdModel::fit(topic_corpus(), TfidfSvdOptions{});
  EXPECT_EQ(model.dimension(), 256);
  for (size_t topic = 0; topic < topic_queries().size(); ++topic) {
    EXPECT_EQ(best_match(model, topic_corpus(), topic_queries()[topic]), topic)
        << topic_queries()[topic];
  }
}

TEST(TfidfSvdModel, CooccurringWordsBringTheirTopicCloser) {
  // Each topic's documents use 30 words; the query names one word. Documents
  // of the query's topic that lack that very word must still outscore every
  // document of the other topics: the SVD learned that the words go together.
  const auto corpus = synthetic_topic_corpus(6, 30, 12);
  const TfidfSvdModel model = TfidfSvdModel::fit(corpus, small_options(6));
  const std::vector<float> query = model.embed("topic2word7");
  float best_other_topic = -2, worst_same_topic_without_word = 2;
  size_t same_topic_without_word = 0;
  for (size_t d = 0; d < corpus.size(); ++d) {
    const float score = dot(query, model.embed(corpus[d]));
    if (d % 6 != 2) {
      best_other_topic = std::max(best_other_topic, score);
    } else if (corpus[d].find("topic2word7.") == std::string::npos) {
      worst_same_topic_without_word = std::min(worst_same_topic_without_word, score);
      ++same_topic_without_word;
    }
  }
  ASSERT_GT(same_topic_without_word, 0u);
  EXPECT_GT(worst_same_topic_without_word, best_other_topic);
}

TEST(TfidfSvdModel, SaveAndLoadGiveIdenticalEmbeddings) {
  const TfidfSvdModel model = TfidfSvdModel::fit(topic_corpus(), small_options(32));
  ScratchDir dir;
  const fs::path path = dir.path() / "lsa.model";
  model.save(path);
  const TfidfSvdModel loaded = TfidfSvdModel::load(path);
  EXPECT_EQ(loaded.fingerprint(), model.fingerprint());
  EXPECT_EQ(loaded.vocabulary_size(), model.vocabulary_size());
  EXPECT_EQ(loaded.rank(), model.rank());
  EXPECT_EQ(loaded.document_count(), topic_corpus().size());
  for (const std::string& query : topic_queries())
    EXPECT_EQ(loaded.embed(query), model.embed(query));

  std::vector<std::string_view> batch(topic_queries().begin(), topic_queries().end());
  std::vector<float> out(batch.size() * 32);
  loaded.embed_batch(batch, out.data());
  const std::vector<float> third = model.embed(topic_queries()[2]);
  EXPECT_TRUE(std::equal(third.begin(), third.end(), out.begin() + 2 * 32));
}

TEST(TfidfSvdModel, ContentAddressedOpenEmbedsAsTheLoadedModelAndResaves) {
  const TfidfSvdModel model = TfidfSvdModel::fit(topic_corpus(), small_options(32));
  ScratchDir dir;
  const fs::path path = dir.path() / "lsa.model";
  model.save(path);
  const std::string sha = sha256_hex(read_bytes(path));
  const TfidfSvdModel opened = TfidfSvdModel::open_content_addressed(path, sha);
  EXPECT_EQ(opened.fingerprint(), model.fingerprint());
  EXPECT_EQ(opened.vocabulary_size(), model.vocabulary_size());
  for (const std::string& query : topic_queries())
    EXPECT_EQ(opened.embed(query), model.embed(query));
  std::vector<std::string_view> batch(topic_queries().begin(), topic_queries().end());
  std::vector<float> out(batch.size() * 32);
  opened.embed_batch(batch, out.data());
  const std::vector<float> second = model.embed(topic_queries()[1]);
  EXPECT_TRUE(std::equal(second.begin(), second.end(), out.begin() + 32));
  // A model read from its mapping saves the same bytes.
  opened.save(dir.path() / "again.model");
  EXPECT_EQ(read_bytes(dir.path() / "again.model"), read_bytes(path));

  // The name is trusted, the structure is not: a truncated file still throws.
  const std::string bytes = read_bytes(path);
  write_bytes(dir.path() / "short.model", bytes.substr(0, bytes.size() - 100));
  EXPECT_THROW(TfidfSvdModel::open_content_addressed(dir.path() / "short.model", sha), Error);
  EXPECT_THROW(TfidfSvdModel::open_content_addressed(dir.path() / "missing.model", sha), Error);
}

void expect_load_error(const fs::path& path, const std::string& problem) {
  try {
    TfidfSvdModel::load(path);
    ADD_FAILURE() << "loading " << path << " did not throw";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(path.string()), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find(problem), std::string::npos) << error.what();
  }
}

TEST(TfidfSvdModel, DamagedFilesThrowErrorsNamingTheFile) {
  const TfidfSvdModel model = TfidfSvdModel::fit(topic_corpus(), small_options(16));
  ScratchDir dir;
  const fs::path good = dir.path() / "good.model";
  model.save(good);
  const std::string bytes = read_bytes(good);

  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x40;
  write_bytes(dir.path() / "flipped.model", flipped);
  expect_load_error(dir.path() / "flipped.model", "corrupted");

  write_bytes(dir.path() / "short.model", bytes.substr(0, bytes.size() - 100));
  expect_load_error(dir.path() / "short.model", "truncated");

  write_bytes(dir.path() / "other.model", "GIF89a" + bytes);
  expect_load_error(dir.path() / "other.model", "bad magic");

  expect_load_error(dir.path() / "missing.model", "No such file or directory");
}

TEST(TfidfSvdModel, AStemmingModelEmbedsTheFormsOfAWordAlike) {
  const TfidfSvdModel model = TfidfSvdModel::fit(topic_corpus(), small_options(32));
  ASSERT_TRUE(model.options().stem);
  const std::vector<float> one = model.embed("telescope"), many = model.embed("Telescopes");
  ASSERT_NEAR(norm(one), 1.0, 1e-5);
  EXPECT_EQ(one, many);
}

// A file of format version 1 (written before `stem` and `singular_power`):
// the version 2 bytes of a model fitted without stemming and with Σ⁻¹, less
// those two options, with version 1 and a new checksum.
std::string as_version_one(const std::string& v2) {
  const size_t version_at = 8, power_iterations_end = 8 + 4 + 4 + 4 + 8 + 8 + 8 + 1 + 1 + 4 + 4 + 4;
  std::string v1 =
      v2.substr(0, power_iterations_end) +
      v2.substr(power_iterations_end + 1 + 8, v2.size() - 64 - power_iterations_end - 9);
  const uint32_t one = 1;
  v1.replace(version_at, 4, reinterpret_cast<const char*>(&one), 4);
  return v1 + sha256_hex(v1);
}

TEST(TfidfSvdModel, AVersionOneFileLoadsAsFittedWithoutStemmingAndWithSigmaInverse) {
  TfidfSvdOptions old_options = small_options(16);
  old_options.stem = false;
  old_options.singular_power = 1;
  const TfidfSvdModel model = TfidfSvdModel::fit(topic_corpus(), old_options);
  ScratchDir dir;
  model.save(dir.path() / "v2.model");
  write_bytes(dir.path() / "v1.model", as_version_one(read_bytes(dir.path() / "v2.model")));
  const TfidfSvdModel loaded = TfidfSvdModel::load(dir.path() / "v1.model");
  EXPECT_FALSE(loaded.options().stem);
  EXPECT_EQ(loaded.options().singular_power, 1.0);
  EXPECT_EQ(loaded.vocabulary_size(), model.vocabulary_size());
  for (const std::string& query : topic_queries())
    EXPECT_EQ(loaded.embed(query), model.embed(query));
  // Words are not stemmed: "telescope" is not "telescopes" to it.
  EXPECT_NE(loaded.embed("telescope"), loaded.embed("telescopes"));
}

TEST(TfidfSvdModel, TheSingularPowerWeighsEachComponentByItsSingularValue) {
  // embed = normalise(tfidf · V Σ^-p): the same fit with p = 0 and p = 1
  // differs, component by component, by σ_i (times one normalising factor).
  TfidfSvdOptions options = small_options(8);
  options.singular_power = 0;
  const TfidfSvdModel classic = TfidfSvdModel::fit(topic_corpus(), options);
  options.singular_power = 1;
  const TfidfSvdModel whitened = TfidfSvdModel::fit(topic_corpus(), options);
  const std::vector<float>& sigma = classic.singular_values();
  ASSERT_EQ(sigma, whitened.singular_values());
  ASSERT_GT(sigma[0], sigma[7] * 1.05f);  // the test needs components that differ
  const std::vector<float> a = classic.embed(topic_queries()[0]),
                           b = whitened.embed(topic_queries()[0]);
  size_t compared = 0;
  for (size_t i = 1; i < a.size(); ++i) {
    if (std::fabs(b[i]) < 1e-3f) continue;
    EXPECT_NEAR((a[i] / b[i]) / (a[0] / b[0]), sigma[i] / sigma[0], 1e-3) << "component " << i;
    ++compared;
  }
  EXPECT_GE(compared, 4u);
  TfidfSvdOptions bad = small_options(4);
  bad.singular_power = 2.5;
  EXPECT_THROW(TfidfSvdModel::fit(topic_corpus(), bad), Error);
}

TEST(TfidfSvdModel, RejectsBadOptionsAndCorporaWithoutTerms) {
  EXPECT_THROW(TfidfSvdModel::fit(topic_corpus(), small_options(0)), Error);
  TfidfSvdOptions bad_ratio;
  bad_ratio.max_df_ratio = 0;
  EXPECT_THROW(TfidfSvdModel::fit(topic_corpus(), bad_ratio), Error);
  EXPECT_THROW(TfidfSvdModel::fit({}, TfidfSvdOptions{}), Error);
  EXPECT_THROW(TfidfSvdModel::fit({"the of and", "a"}, TfidfSvdOptions{}), Error);
}

TEST(TfidfSvdModel, VocabularyRespectsDocumentFrequencyLimits) {
  // 20 texts: "common" in all of them (over max_df), "pair<i>" in two each,
  // "lonely" in one (under min_df).
  std::vector<std::string> corpus;
  for (int i = 0; i < 20; ++i) corpus.push_back("common pair" + std::to_string(i / 2));
  corpus.back() += " lonely";
  TfidfSvdOptions options = small_options(4);
  options.min_df = 2;
  options.bigrams = false;
  const TfidfSvdModel model = TfidfSvdModel::fit(corpus, options);
  EXPECT_EQ(model.vocabulary_size(), 10u);
  EXPECT_EQ(norm(model.embed("common")), 0.0);
  EXPECT_EQ(norm(model.embed("lonely")), 0.0);
  EXPECT_NEAR(norm(model.embed("pair3")), 1.0, 1e-5);

  options.max_features = 3;
  EXPECT_EQ(TfidfSvdModel::fit(corpus, options).vocabulary_size(), 3u);
}

}  // namespace
}  // namespace twinflow
