// The feature pipeline at corpus size (issue 18): the real clean, chunk and
// embed steps (run_clean_step, run_chunk_step, run_embed_step) over N
// synthetic documents in a real PostgreSQL, including every database write.
// Prints documents/s and MB/s for clean + chunk, chunks/s for embed, and the
// peak RSS after each phase; then the old path (one round trip per document,
// the whole corpus read into memory) on a smaller corpus of the same kind, as
// the baseline measured in the same run.
//
// Documents are articles (70%, 3-14 KB) and posts (30%, 0.3-1.5 KB) of
// Zipf-distributed pseudo-words in sentences and paragraphs, with a URL now
// and then. They are loaded with COPY, a page at a time, so the generator
// never holds the corpus either.
//
// N = 100,000, baseline 5,000 (TWINFLOW_BENCH_SMALL=1: 3,000 and 1,000;
// TWINFLOW_BENCH_DOCS=N sets N).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_database.h"
#include "store/feature_store.h"
#include "store/store.h"
#include "tasks/steps/data_steps.h"
#include "tasks/text/chunk.h"
#include "tasks/text/clean.h"
#include "util/sha256.h"

using Clock = std::chrono::steady_clock;
using namespace twinflow;
namespace fs = std::filesystem;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

class DocumentGenerator {
 public:
  explicit DocumentGenerator(uint64_t seed) : random_(seed) {
    static const char* const kSyllables[] = {"ka", "lo",  "mi",  "ren", "tu", "sa", "vel", "do",
                                             "ni", "por", "qua", "be",  "zi", "fa", "gor", "hu"};
    for (size_t i = 0; i < kVocabulary; ++i) {
      std::string word;
      for (size_t k = i + 16; k > 0; k /= 16) word += kSyllables[k % 16];
      words_.push_back(std::move(word));
    }
    std::vector<double> zipf(kVocabulary);
    for (size_t i = 0; i < kVocabulary; ++i) zipf[i] = 1.0 / static_cast<double>(i + 1);
    common_ = std::discrete_distribution<size_t>(zipf.begin(), zipf.end());
  }

  // Body text of about `chars` characters: paragraphs of sentences.
  std::string text(size_t chars) {
    std::string out;
    while (out.size() < chars) {
      const size_t sentences = 2 + random_() % 6;
      for (size_t s = 0; s < sentences; ++s) {
        const size_t words = 6 + random_() % 16;
        for (size_t w = 0; w < words; ++w) {
          std::string word = words_[common_(random_)];
          if (w == 0) word[0] = static_cast<char>(word[0] - 'a' + 'A');
          out += (w == 0 ? "" : " ") + word;
          if (random_() % 400 == 0) out += " https://example.com/" + words_[random_() % 999];
        }
        out += ". ";
      }
      out += "\n\n";
    }
    return out;
  }
  bool article() { return random_() % 10 < 7; }
  size_t length(bool article) {
    return article ? 3000 + random_() % 11000 : 300 + random_() % 1200;
  }
  std::string title() { return text(30).substr(0, 40); }

 private:
  static constexpr size_t kVocabulary = 30000;
  std::mt19937_64 random_;
  std::vector<std::string> words_;
  std::discrete_distribution<size_t> common_;
};

// Loads `n` documents of `author` with COPY, 1,000 at a time. Returns bytes.
int64_t load_corpus(const std::string& url, const std::string& author, size_t n, uint64_t seed) {
  DocumentGenerator generator(seed);
  pqxx::connection connection(url);
  int64_t bytes = 0;
  for (size_t begin = 0; begin < n; begin += 1000) {
    pqxx::work tx(connection);
    pqxx::stream_to copy(tx, "documents",
                         std::vector<std::string>{"author", "platform", "kind", "url", "version",
                                                  "title", "content", "content_sha256"});
    for (size_t i = begin; i < std::min(n, begin + 1000); ++i) {
      const bool article = generator.article();
      std::string content = generator.text(generator.length(article));
      bytes += static_cast<int64_t>(content.size());
      const std::string sha = sha256_hex(content);
      copy << std::make_tuple(author, article ? "medium" : "linkedin", article ? "article" : "post",
                              "https://example.com/" + author + "/" + std::to_string(i), 1,
                              generator.title(), content, sha);
    }
    copy.complete();
    tx.commit();
  }
  return bytes;
}

struct StepRunner {
  Store& store;
  fs::path dir;

  void run(const std::string& type, nlohmann::json params) {
    StepContext context;
    context.step_type = type;
    context.step_id = type;
    context.params = std::move(params);
    context.output_dir = dir / type;
    context.result_file = context.output_dir / "result.json";
    context.home = dir;
    fs::create_directories(context.output_dir);
    StepReport report(context);
    StepEnvironment env{context, store, report, 0};
    const int rc = type == "clean"   ? run_clean_step(env)
                   : type == "chunk" ? run_chunk_step(env)
                                     : run_embed_step(env);
    if (rc != 0) throw std::runtime_error(type + " step failed");
  }
};

// The old path, as the steps were: every document to do read at once, one
// round trip (and transaction) per document.
void old_clean_and_chunk(Store& store, const std::string& author) {
  const std::string cleaner = cleaner_fingerprint(CleanOptions{});
  for (const DocumentRecord& doc : store.features().documents_to_clean(author, cleaner)) {
    CleanOptions options;
    options.kind = text_kind_of(doc.kind, doc.url);
    store.features().insert_cleaned_document(doc.id, cleaner, clean_text(doc.content, options), 0);
  }
  const std::string chunker = "chunk-v1 baseline";
  for (const CleanedDocumentRecord& doc :
       store.features().documents_to_chunk(author, cleaner, chunker)) {
    const TextKind kind = text_kind_of(doc.kind, doc.url);
    std::vector<ChunkToStore> rows;
    for (const Chunk& chunk : chunk_text(doc.content, ChunkOptions::for_kind(kind)))
      rows.push_back({sha256_hex(doc.url + chunker + std::to_string(chunk.position) + chunk.text),
                      chunk.position, static_cast<int64_t>(chunk.start),
                      static_cast<int64_t>(chunk.end), chunk.text});
    store.features().replace_current_chunks(doc, chunker, chunk_kind_name(kind), rows, 0);
  }
}

}  // namespace

int main() {
  const bool small = std::getenv("TWINFLOW_BENCH_SMALL") != nullptr;
  size_t n = small ? 3000 : 100000;
  if (const char* docs = std::getenv("TWINFLOW_BENCH_DOCS")) n = std::strtoul(docs, nullptr, 10);
  const size_t n_old = std::min<size_t>(n, small ? 1000 : 5000);
  const fs::path home =
      fs::temp_directory_path() / ("twinflow-feature-bench-" + std::to_string(::getpid()));
  fs::create_directories(home);
  bench::BenchDatabase database(home, "twinflow_feature_bench_");
  Store store(database.url());
  store.migrate();

  auto start = Clock::now();
  const int64_t bytes = load_corpus(database.url(), "bench", n, 1);
  const int64_t bytes_old = load_corpus(database.url(), "old", n_old, 2);
  std::printf(
      "corpus: %zu documents, %.1f MB (+ %zu for the old path) loaded in %.1f s; "
      "peak RSS %.0f MB\n",
      n, static_cast<double>(bytes) / 1e6, n_old, seconds_since(start), peak_rss_mb());

  StepRunner steps{store, home / "steps"};
  // Fit the embedding model on a small author first, so the timed embed run
  // measures embedding and writing rather than the one-off fit.
  load_corpus(database.url(), "fit", small ? 300 : 2000, 3);
  steps.run("clean", {{"author", "fit"}});
  steps.run("chunk", {{"author", "fit"}});
  steps.run("embed", {{"author", "fit"}, {"model", "bench-model"}});

  start = Clock::now();
  steps.run("clean", {{"author", "bench"}});
  const double clean_seconds = seconds_since(start);
  const double rss_clean = peak_rss_mb();
  start = Clock::now();
  steps.run("chunk", {{"author", "bench"}});
  const double chunk_seconds = seconds_since(start);
  const double rss_chunk = peak_rss_mb();
  const int64_t chunks =
      static_cast<int64_t>(store.features().current_chunk_ids({"bench", "", ""}).size());
  start = Clock::now();
  steps.run("embed", {{"author", "bench"}, {"model", "bench-model"}});
  const double embed_seconds = seconds_since(start);
  const double rss_embed = peak_rss_mb();

  start = Clock::now();
  old_clean_and_chunk(store, "old");
  const double old_seconds = seconds_since(start);
  const double rss_old = peak_rss_mb();

  const double both = clean_seconds + chunk_seconds;
  std::printf("\nclean + chunk, batched (%zu documents, %.1f MB):\n", n,
              static_cast<double>(bytes) / 1e6);
  std::printf(
      "  clean %.1f s, chunk %.1f s: %.0f documents/s, %.1f MB/s  (target >= 2,000/s, "
      ">= 20 MB/s)\n",
      clean_seconds, chunk_seconds, static_cast<double>(n) / both,
      static_cast<double>(bytes) / 1e6 / both);
  std::printf("  peak RSS after clean %.0f MB, after chunk %.0f MB\n", rss_clean, rss_chunk);
  std::printf("embed (built-in, %lld chunks, including COPY and the step's bookkeeping):\n",
              static_cast<long long>(chunks));
  std::printf("  %.1f s: %.0f chunks/s  (target >= 5,000/s); peak RSS %.0f MB\n", embed_seconds,
              static_cast<double>(chunks) / embed_seconds, rss_embed);
  std::printf("baseline, the old per-document path (%zu documents, %.1f MB):\n", n_old,
              static_cast<double>(bytes_old) / 1e6);
  std::printf("  clean + chunk %.1f s: %.0f documents/s, %.1f MB/s; peak RSS %.0f MB\n",
              old_seconds, static_cast<double>(n_old) / old_seconds,
              static_cast<double>(bytes_old) / 1e6 / old_seconds, rss_old);
  std::fflush(stdout);
  return 0;
}
