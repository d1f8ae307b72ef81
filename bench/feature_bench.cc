// The feature pipeline at corpus size (issue 18): the real clean, chunk and
// embed steps (run_clean_step, ...), each in a process of its own, over N
// synthetic documents in a real PostgreSQL, including every database
// write. Prints documents/s and MB/s for clean + chunk, chunks/s for embed,
// the peak RSS of each step process (its ru_maxrss from wait4; it includes the
// few MB the benchmark had when it forked), where each
// step's time went (the step's own read / work / write metrics, and the time
// PostgreSQL spent in the BM25 statistics triggers on chunks, migrations 0012
// and 0020),
// an incremental rerun over the unchanged corpus, and a re-crawl that
// changed 1% of the documents (their old versions' statistics are removed by
// the database's triggers).
//
// Baseline, measured in the same run: the database's own write speed for the
// same rows, i.e. a plain COPY of the cleaned documents, of the chunks and of
// the vectors the steps wrote (read back with COPY TO and written with COPY
// into a scratch table with no index and no trigger). A step cannot write
// faster than that.
//
// Documents are articles (70%, 3-14 KB) and posts (30%, 0.3-1.5 KB) of
// Zipf-distributed pseudo-words in sentences and paragraphs, with a URL now
// and then, from a fixed seed. They are loaded with COPY, a page at a time, so
// the generator never holds the corpus either.
//
// Size: --docs N (or TWINFLOW_BENCH_DOCS=N); default 20,000, and 3,000 with
// TWINFLOW_BENCH_SMALL=1 (what CI runs). The 100k figures: --docs 100000.
// --short: every document a post (0.3-1.5 KB), a corpus of short documents
// such as abstracts or social posts.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_database.h"
#include "store/store.h"
#include "tasks/step_context.h"
#include "tasks/steps/data_steps.h"
#include "util/duration.h"
#include "util/sha256.h"

using Clock = std::chrono::steady_clock;
using namespace twinflow;
namespace fs = std::filesystem;

namespace {

class DocumentGenerator {
 public:
  // `article_share`: the share of articles among the documents, in tenths.
  DocumentGenerator(uint64_t seed, int article_share)
      : random_(seed), article_share_(article_share) {
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
  bool article() { return static_cast<int>(random_() % 10) < article_share_; }
  size_t length(bool article) {
    return article ? 3000 + random_() % 11000 : 300 + random_() % 1200;
  }
  std::string title() { return text(30).substr(0, 40); }

 private:
  static constexpr size_t kVocabulary = 30000;
  std::mt19937_64 random_;
  int article_share_;
  std::vector<std::string> words_;
  std::discrete_distribution<size_t> common_;
};

// Writes documents [begin, end) of `author`, as `version`, with COPY in `tx`;
// with a `stride`, documents begin * stride, (begin + 1) * stride, ...
// Returns their bytes.
int64_t copy_documents(pqxx::work& tx, DocumentGenerator& generator, const std::string& author,
                       size_t begin, size_t end, int version, size_t stride = 1) {
  pqxx::stream_to copy(tx, "documents",
                       std::vector<std::string>{"author", "platform", "kind", "url", "version",
                                                "title", "content", "content_sha256"});
  int64_t bytes = 0;
  for (size_t i = begin; i < end; ++i) {
    const bool article = generator.article();
    std::string content = generator.text(generator.length(article));
    bytes += static_cast<int64_t>(content.size());
    const std::string sha = sha256_hex(content);
    copy << std::make_tuple(author, article ? "medium" : "linkedin", article ? "article" : "post",
                            "https://example.com/" + author + "/" + std::to_string(i * stride),
                            version, generator.title(), content, sha);
  }
  copy.complete();
  return bytes;
}

// Articles among the documents, in tenths: 7, or 0 with --short.
int g_article_share = 7;

// Loads `n` documents of `author` with COPY, 1,000 at a time. Returns bytes.
int64_t load_corpus(const std::string& url, const std::string& author, size_t n, uint64_t seed) {
  DocumentGenerator generator(seed, g_article_share);
  pqxx::connection connection(url);
  int64_t bytes = 0;
  for (size_t begin = 0; begin < n; begin += 1000) {
    pqxx::work tx(connection);
    bytes += copy_documents(tx, generator, author, begin, std::min(n, begin + 1000), 1);
    tx.commit();
  }
  return bytes;
}

// A weekly re-crawl that found `count` documents of `author` changed, one in
// every `stride` (spread over the corpus, as changed posts are, so over
// every BM25 block): their latest versions stop being latest and new versions
// are written, in one transaction, as the crawl step records them. Returns
// the seconds that took: the BM25 statistics of the old versions' chunks are
// removed there, by the triggers on documents (migrations 0012, 0025).
double change_documents(const std::string& url, const std::string& author, size_t count,
                        size_t stride, uint64_t seed) {
  DocumentGenerator generator(seed, g_article_share);
  pqxx::connection connection(url);
  const auto start = Clock::now();
  pqxx::work tx(connection);
  tx.exec_params(
      "UPDATE documents SET is_latest = false WHERE author = $1 AND is_latest "
      "AND url IN (SELECT 'https://example.com/' || $1 || '/' || i * $3 "
      "FROM generate_series(0, $2 - 1) AS i)",
      author, static_cast<int64_t>(count), static_cast<int64_t>(stride));
  copy_documents(tx, generator, author, 0, count, 2, stride);
  tx.commit();
  return seconds_since(start);
}

// One step process: wall time, the child's peak RSS and the metrics it printed.
struct StepOutcome {
  double seconds = 0;
  double peak_rss_mb = 0;
  nlohmann::json metrics = nlohmann::json::object();
  double metric(const char* name) const { return metrics.value(name, 0.0); }
};

// Runs each step in a process of its own, forked from the benchmark, as
// `twinflow step TYPE` would run it: a fresh connection, the step's context,
// its metrics on stdout (here a log file). Forked rather than the twinflow
// binary so that the benchmark needs only the core library.
class StepProcesses {
 public:
  StepProcesses(fs::path dir, std::string url) : dir_(std::move(dir)), url_(std::move(url)) {}

  StepOutcome run(const std::string& type, const nlohmann::json& params) {
    const fs::path out = dir_ / (type + "-" + std::to_string(++runs_));
    fs::create_directories(out);
    const fs::path log = out / "log";
    std::fflush(nullptr);
    StepOutcome outcome;
    const auto start = Clock::now();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      // The child: never return into the parent's stack, never close the
      // parent's connections (their sockets are shared): _exit.
      int code = 1;
      try {
        if (!std::freopen(log.c_str(), "w", stdout)) ::_exit(3);
        if (!std::freopen(log.c_str(), "a", stderr)) ::_exit(3);
        StepContext context;
        context.step_type = type;
        context.step_id = type;
        context.params = params;
        context.output_dir = out;
        context.result_file = out / "result.json";
        context.home = dir_;
        context.database_url = url_;
        Store store(url_);
        StepReport report(context);
        StepEnvironment env{context, store.features(), store.models(), report, 0};
        code = type == "clean"   ? run_clean_step(env)
               : type == "chunk" ? run_chunk_step(env)
                                 : run_embed_step(env);
        report.write();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "%s step: %s\n", type.c_str(), e.what());
      }
      std::fflush(nullptr);
      ::_exit(code);
    }
    int status = 0;
    rusage usage{};
    if (::wait4(pid, &status, 0, &usage) != pid) throw std::runtime_error("wait4 failed");
    outcome.seconds = seconds_since(start);
    outcome.peak_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("{\"metrics\"", 0) != 0) continue;
      // Named: iterating items() of a temporary would dangle.
      const nlohmann::json reported = nlohmann::json::parse(line);
      for (const auto& [name, value] : reported["metrics"].items()) outcome.metrics[name] = value;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::stringstream text;
      text << std::ifstream(log).rdbuf();
      throw std::runtime_error("step " + type + " failed:\n" + text.str());
    }
    return outcome;
  }

 private:
  fs::path dir_;
  std::string url_;
  int runs_ = 0;
};

// The baseline: COPY of the rows `select` returns into a fresh scratch table
// of `columns` (no index, no trigger), read out with COPY TO on a second
// connection as it goes. Returns {seconds, rows, bytes}.
struct CopyBaseline {
  double seconds = 0;
  int64_t rows = 0, bytes = 0;
};
template <typename... Columns>
CopyBaseline copy_baseline(const std::string& url, const std::string& select,
                           const std::string& scratch, const std::string& columns,
                           const std::string& indexes = "") {
  pqxx::connection from_connection(url), to_connection(url);
  pqxx::nontransaction(to_connection).exec("DROP TABLE IF EXISTS " + scratch);
  pqxx::nontransaction(to_connection).exec("CREATE TABLE " + scratch + " (" + columns + ")");
  if (!indexes.empty()) pqxx::nontransaction(to_connection).exec(indexes);
  CopyBaseline result;
  const auto start = Clock::now();
  {
    pqxx::work read(from_connection);
    pqxx::work write(to_connection);
    // stream_from names a table; libpqxx 6 puts the name into COPY ... TO
    // STDOUT as it is, so a parenthesised query works too.
    pqxx::stream_from from(read, "(" + select + ")");
    pqxx::stream_to to(write, scratch);
    for (std::tuple<Columns...> row; from >> row;) to << row;
    from.complete();
    to.complete();
    write.commit();
    read.commit();
  }
  result.seconds = seconds_since(start);
  pqxx::nontransaction tx(to_connection);
  auto row = tx.exec1("SELECT count(*), coalesce(sum(octet_length(t::text)), 0) FROM " + scratch +
                      " AS t");
  result.rows = row[0].as<int64_t>();
  result.bytes = row[1].as<int64_t>();
  tx.exec("DROP TABLE " + scratch);
  return result;
}

// Time PostgreSQL spent in the BM25 statistics triggers of chunks (with
// track_functions = pl), in seconds; -1 when it is not tracked.
double bm25_trigger_seconds(pqxx::connection& connection) {
  pqxx::nontransaction tx(connection);
  tx.exec("SELECT pg_stat_clear_snapshot()");
  auto row = tx.exec1(
      "SELECT count(*), coalesce(sum(total_time), 0) / 1000.0 FROM pg_stat_user_functions "
      "WHERE funcname IN ('twinflow_bm25_chunks_inserted', 'twinflow_bm25_chunks_updated', "
      "'twinflow_bm25_chunks_deleted', 'twinflow_bm25_documents_updated')");
  return row[0].as<int64_t>() > 0 ? row[1].as<double>() : -1;
}

double mb(int64_t bytes) {
  return static_cast<double>(bytes) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const bool small = std::getenv("TWINFLOW_BENCH_SMALL") != nullptr;
  size_t n = small ? 3000 : 20000;
  if (const char* docs = std::getenv("TWINFLOW_BENCH_DOCS")) n = std::strtoul(docs, nullptr, 10);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--docs") == 0 && i + 1 < argc)
      n = std::strtoul(argv[++i], nullptr, 10);
    else if (std::strcmp(argv[i], "--short") == 0)
      g_article_share = 0;
    else {
      std::fprintf(stderr, "feature_bench: unknown argument '%s' (--docs N, --short)\n", argv[i]);
      return 2;
    }
  }
  if (n == 0) {
    std::fprintf(stderr, "feature_bench: --docs must be a positive number\n");
    return 2;
  }
  const fs::path home =
      fs::temp_directory_path() / ("twinflow-feature-bench-" + std::to_string(::getpid()));
  fs::create_directories(home);
  bench::BenchDatabase database(home, "twinflow_feature_bench_");
  Store store(database.url());
  store.migrate();
  pqxx::connection admin(database.url());
  bool tracked = true;
  try {
    pqxx::nontransaction(admin).exec(std::string("ALTER DATABASE ") + admin.dbname() +
                                     " SET track_functions = 'pl'");
  } catch (const pqxx::sql_error&) {
    tracked = false;  // not allowed to: the trigger share stays unknown
  }

  auto start = Clock::now();
  const int64_t bytes = load_corpus(database.url(), "bench", n, 1);
  std::printf("corpus: %zu documents, %.1f MB, loaded with COPY in %.1f s\n", n, mb(bytes),
              seconds_since(start));

  StepProcesses steps(home / "steps", database.url());
  // Fit the embedding model on a small author first, so the timed embed run
  // measures embedding and writing rather than the one-off fit.
  load_corpus(database.url(), "fit", small ? 300 : 2000, 3);
  steps.run("clean", {{"author", "fit"}});
  steps.run("chunk", {{"author", "fit"}});
  steps.run("embed", {{"author", "fit"}, {"model", "bench-model"}});
  if (tracked) pqxx::nontransaction(admin).exec("SELECT pg_stat_reset()");

  const StepOutcome clean = steps.run("clean", {{"author", "bench"}});
  const StepOutcome chunk = steps.run("chunk", {{"author", "bench"}});
  const double trigger_seconds = tracked ? bm25_trigger_seconds(admin) : -1;
  const StepOutcome embed = steps.run("embed", {{"author", "bench"}, {"model", "bench-model"}});
  const int64_t chunks = static_cast<int64_t>(chunk.metric("chunks_written"));

  // Incremental: the same steps again over the unchanged corpus.
  const StepOutcome clean_again = steps.run("clean", {{"author", "bench"}});
  const StepOutcome chunk_again = steps.run("chunk", {{"author", "bench"}});
  const StepOutcome embed_again =
      steps.run("embed", {{"author", "bench"}, {"model", "bench-model"}});

  const CopyBaseline copy_cleaned = copy_baseline<int64_t, std::string, std::string, std::string>(
      database.url(),
      "SELECT k.document_id, k.cleaner, k.content, k.content_sha256 FROM cleaned_documents k "
      "JOIN documents d ON d.id = k.document_id WHERE d.author = 'bench'",
      "scratch_cleaned", "document_id bigint, cleaner text, content text, content_sha256 text");
  using ChunkRow = CopyBaseline (*)(const std::string&, const std::string&, const std::string&,
                                    const std::string&, const std::string&);
  const ChunkRow copy_chunk_rows = copy_baseline<std::string, int64_t, int64_t, std::string,
                                                 std::string, int, int, int, std::string>;
  const CopyBaseline copy_chunks = copy_chunk_rows(
      database.url(),
      "SELECT c.chunk_key, c.cleaned_document_id, c.document_id, c.chunker, c.kind, c.position, "
      "c.start_offset, c.end_offset, c.content FROM chunks c JOIN documents d "
      "ON d.id = c.document_id WHERE d.author = 'bench'",
      "scratch_chunks",
      "chunk_key text, cleaned_document_id bigint, document_id bigint, chunker text, kind text, "
      "position int, start_offset int, end_offset int, content text",
      "");
  // The same chunks with what full-text search needed before migration 0022
  // (PostgreSQL's own tsvector, generated, and a GIN index over it): what
  // analysing in the database would cost.
  CopyBaseline copy_chunks_tsv = copy_chunk_rows(
      database.url(),
      "SELECT c.chunk_key, c.cleaned_document_id, c.document_id, c.chunker, c.kind, c.position, "
      "c.start_offset, c.end_offset, c.content FROM chunks c JOIN documents d "
      "ON d.id = c.document_id WHERE d.author = 'bench'",
      "scratch_chunks_tsv",
      "chunk_key text, cleaned_document_id bigint, document_id bigint, chunker text, kind text, "
      "position int, start_offset int, end_offset int, content text, "
      "tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED",
      "CREATE INDEX ON scratch_chunks_tsv USING GIN (tsv)");
  copy_chunks_tsv.bytes = copy_chunks.bytes;  // the same rows in (the tsvector is made there)
  const CopyBaseline copy_vectors = copy_baseline<int64_t, int64_t, int, std::string>(
      database.url(),
      "SELECT e.chunk_id, e.model_id, e.dimension, e.vector FROM embeddings e JOIN chunks c "
      "ON c.id = e.chunk_id JOIN documents d ON d.id = c.document_id WHERE d.author = 'bench'",
      "scratch_vectors", "chunk_id bigint, model_id bigint, dimension int, vector real[]");

  // A weekly re-crawl: 1% of the documents changed.
  const size_t changed = std::max<size_t>(1, n / 100);
  const double recorded = change_documents(database.url(), "bench", changed, n / changed, 5);
  const StepOutcome clean_changed = steps.run("clean", {{"author", "bench"}});
  const StepOutcome chunk_changed = steps.run("chunk", {{"author", "bench"}});
  const StepOutcome embed_changed =
      steps.run("embed", {{"author", "bench"}, {"model", "bench-model"}});

  const double both = clean.seconds + chunk.seconds;
  std::printf("\nclean + chunk (%zu documents, %.1f MB, %lld chunks), step processes:\n", n,
              mb(bytes), static_cast<long long>(chunks));
  std::printf(
      "  clean %.1f s, chunk %.1f s: %.0f documents/s, %.1f MB/s  (target >= 2,000/s, "
      ">= 20 MB/s)\n",
      clean.seconds, chunk.seconds, static_cast<double>(n) / both, mb(bytes) / both);
  std::printf("  clean: read %.1f s, clean %.1f s, write %.1f s; peak RSS %.0f MB\n",
              clean.metric("read_seconds"), clean.metric("work_seconds"),
              clean.metric("write_seconds"), clean.peak_rss_mb);
  std::printf("  chunk: read %.1f s, chunk %.1f s, write %.1f s; peak RSS %.0f MB\n",
              chunk.metric("read_seconds"), chunk.metric("work_seconds"),
              chunk.metric("write_seconds"), chunk.peak_rss_mb);
  if (trigger_seconds >= 0)
    std::printf("  of the chunk step, %.1f s (%.0f%%) in the BM25 statistics triggers\n",
                trigger_seconds, 100.0 * trigger_seconds / chunk.seconds);
  std::printf("embed (built-in, %lld chunks, including the writes and the step's bookkeeping):\n",
              static_cast<long long>(chunks));
  std::printf(
      "  %.1f s: %.0f chunks/s  (target >= 5,000/s); read %.1f s, embed %.1f s, "
      "write %.1f s; peak RSS %.0f MB\n",
      embed.seconds, static_cast<double>(chunks) / embed.seconds, embed.metric("read_seconds"),
      embed.metric("work_seconds"), embed.metric("write_seconds"), embed.peak_rss_mb);
  std::printf(
      "rerun over the unchanged corpus: clean %.1f s, chunk %.1f s, embed %.1f s "
      "(%g + %g + %g items redone)\n",
      clean_again.seconds, chunk_again.seconds, embed_again.seconds,
      clean_again.metric("documents_cleaned"), chunk_again.metric("documents_chunked"),
      embed_again.metric("chunks_embedded"));
  std::printf(
      "re-crawl of %zu changed documents (1%%, one in %zu): recording the new versions %.2f s "
      "(the old versions' BM25 statistics removed), clean %.1f s, chunk %.1f s (of which "
      "compacting %g BM25 blocks %.1f s), embed %.1f s (%g + %g + %g items redone)\n",
      changed, n / changed, recorded, clean_changed.seconds, chunk_changed.seconds,
      chunk_changed.metric("bm25_blocks_compacted"), chunk_changed.metric("compact_seconds"),
      embed_changed.seconds, clean_changed.metric("documents_cleaned"),
      chunk_changed.metric("documents_chunked"), embed_changed.metric("chunks_embedded"));
  std::printf(
      "baseline, plain COPY of the same rows into a scratch table (no index, no trigger; "
      "chunks+pg tsv: with a tsvector PostgreSQL generates and a GIN index, as chunks had "
      "before migration 0022):\n");
  for (const auto& [name, b] :
       {std::pair<const char*, const CopyBaseline&>{"cleaned", copy_cleaned},
        {"chunks", copy_chunks},
        {"chunks+pg tsv", copy_chunks_tsv},
        {"vectors", copy_vectors}})
    std::printf("  %-10s %8lld rows, %7.1f MB in %5.1f s: %8.0f rows/s, %6.1f MB/s\n", name,
                static_cast<long long>(b.rows), mb(b.bytes), b.seconds,
                static_cast<double>(b.rows) / b.seconds, mb(b.bytes) / b.seconds);
  std::printf("  clean + chunk rows by COPY alone: %.1f s (%.0f documents/s)\n",
              copy_cleaned.seconds + copy_chunks.seconds,
              static_cast<double>(n) / (copy_cleaned.seconds + copy_chunks.seconds));
  std::fflush(stdout);
  return 0;
}
