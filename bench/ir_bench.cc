// Retrieval quality on real relevance judgements: the Cranfield collection
// (1,400 aeronautics abstracts, 225 queries, graded judgements, public),
// indexed through the feature pipeline's own steps and searched in every mode,
// beside a plain Okapi BM25 computed in the same run.
//
// 1. The abstracts become documents (author "cranfield", platform web, kind
//    article, the title as the page title), then the real clean, chunk and
//    embed steps run on them (the built-in embedder, 256 dimensions).
// 2. Each query is searched with the Retriever (the library `twinflow search`
//    and the RAG server call) in text, vector and hybrid mode, text and
//    hybrid also without query expansion (--no-expand), 300 chunks
//    deep; chunks map to their documents (a document ranks where its best
//    chunk does) and the first 100 documents are judged.
// 3. The baseline: a plain in-memory Okapi BM25 (k1 1.2, b 0.75) over title +
//    abstract, tokens lower-cased and split at non-alphanumerics, English
//    stop words dropped, a crude suffix stemmer; as in shared/ir/README.md.
//
// Measures: MAP@100 and nDCG@10 (binary gains), every judgement code 1..4
// relevant, queries numbered 1..225 in file order. Targets (issue 15): text
// mode >= baseline on both, hybrid nDCG@10 >= 1.15 x baseline.
//
// The collection: $TWINFLOW_IR_COLLECTION, else ../shared/ir/cranfield from
// the source tree. TWINFLOW_BENCH_SMALL=1 (CI): the first 75 queries.
// Database: a fresh one on TWINFLOW_DATABASE_URL, else an embedded cluster.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/bench_database.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "store/feature_store.h"
#include "store/store.h"
#include "tasks/search/retriever.h"
#include "tasks/step_context.h"
#include "tasks/steps/data_steps.h"
#include "util/error.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace twinflow;

namespace {

struct Doc {
  int number = 0;
  std::string title, text;
};

struct Collection {
  std::vector<Doc> docs;
  std::vector<std::string> queries;              // query i + 1
  std::map<int, std::map<int, int>> judgements;  // query -> doc -> code
};

std::string read_all(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read " + path.string());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Fields of the SMART format: ".I n" then ".X" markers, text until the next.
std::vector<std::map<char, std::string>> parse_smart(const std::string& text) {
  std::vector<std::map<char, std::string>> records;
  std::istringstream in(text);
  std::string line;
  char field = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // the files have CRLF lines
    if (line.size() >= 2 && line[0] == '.' && std::isupper(static_cast<unsigned char>(line[1])) &&
        (line.size() == 2 || line[2] == ' ')) {
      field = line[1];
      if (field == 'I') {
        records.emplace_back();
        records.back()['I'] = line.substr(3);
      }
      continue;
    }
    if (records.empty() || field == 0) continue;
    std::string& value = records.back()[field];
    value += (value.empty() ? "" : "\n") + line;
  }
  return records;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \n\t");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \n\t") - a + 1);
}

Collection load_collection(const fs::path& dir) {
  Collection c;
  for (auto& r : parse_smart(read_all(dir / "cran.all.1400")))
    c.docs.push_back({std::stoi(r['I']), trim(r['T']), trim(r['W'])});
  for (auto& r : parse_smart(read_all(dir / "cran.qry"))) c.queries.push_back(trim(r['W']));
  std::istringstream qrels(read_all(dir / "cranqrel"));
  int q = 0, d = 0, code = 0;
  while (qrels >> q >> d >> code) c.judgements[q][d] = code;
  if (c.docs.size() != 1400 || c.queries.size() != 225)
    throw Error("unexpected collection in " + dir.string() + ": " + std::to_string(c.docs.size()) +
                " documents, " + std::to_string(c.queries.size()) + " queries");
  return c;
}

fs::path collection_dir() {
  if (const char* env = std::getenv("TWINFLOW_IR_COLLECTION"); env && *env) return env;
  return fs::weakly_canonical(fs::path(TWINFLOW_SOURCE_DIR) / ".." / "shared" / "ir" / "cranfield");
}

// --- the baseline -----------------------------------------------------------------

const std::set<std::string>& stop_words() {
  static const std::set<std::string> words = {
      "a",      "about",  "above", "after",  "again",    "against",    "all",  "am",
      "an",     "and",    "any",   "are",    "as",       "at",         "be",   "because",
      "been",   "before", "being", "below",  "between",  "both",       "but",  "by",
      "can",    "could",  "did",   "do",     "does",     "doing",      "down", "during",
      "each",   "few",    "for",   "from",   "further",  "had",        "has",  "have",
      "having", "he",     "her",   "here",   "hers",     "herself",    "him",  "himself",
      "his",    "how",    "i",     "if",     "in",       "into",       "is",   "it",
      "its",    "itself", "just",  "me",     "more",     "most",       "my",   "myself",
      "no",     "nor",    "not",   "now",    "of",       "off",        "on",   "once",
      "only",   "or",     "other", "our",    "ours",     "ourselves",  "out",  "over",
      "own",    "same",   "she",   "should", "so",       "some",       "such", "than",
      "that",   "the",    "their", "theirs", "them",     "themselves", "then", "there",
      "these",  "they",   "this",  "those",  "through",  "to",         "too",  "under",
      "until",  "up",     "very",  "was",    "we",       "were",       "what", "when",
      "where",  "which",  "while", "who",    "whom",     "why",        "will", "with",
      "would",  "you",    "your",  "yours",  "yourself", "yourselves"};
  return words;
}

std::string crude_stem(std::string w) {
  for (const char* suffix : {"ing", "ed", "es", "s", "ly"}) {
    const size_t n = std::char_traits<char>::length(suffix);
    if (w.size() >= n + 3 && w.compare(w.size() - n, n, suffix) == 0)
      return w.substr(0, w.size() - n);
  }
  return w;
}

std::vector<std::string> tokens(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (!word.empty() && !stop_words().count(word)) out.push_back(crude_stem(word));
    word.clear();
  };
  for (char ch : text) {
    if (std::isalnum(static_cast<unsigned char>(ch)))
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    else
      flush();
  }
  flush();
  return out;
}

class PlainBm25 {
 public:
  explicit PlainBm25(const std::vector<Doc>& docs) {
    double total = 0;
    for (const Doc& d : docs) {
      std::unordered_map<std::string, int> tf;
      const auto words = tokens(d.title + " " + d.text);
      for (const auto& w : words) ++tf[w];
      for (const auto& [w, n] : tf) ++df_[w];
      lengths_.push_back(static_cast<double>(words.size()));
      total += static_cast<double>(words.size());
      tfs_.push_back(std::move(tf));
      numbers_.push_back(d.number);
    }
    avg_ = total / static_cast<double>(docs.size());
  }

  std::vector<int> search(const std::string& query, size_t k) const {
    const double n = static_cast<double>(tfs_.size());
    std::vector<std::pair<double, int>> scored;
    const auto q = tokens(query);
    for (size_t i = 0; i < tfs_.size(); ++i) {
      double s = 0;
      for (const auto& w : q) {
        auto it = tfs_[i].find(w);
        if (it == tfs_[i].end()) continue;
        const double df = df_.at(w), tf = it->second;
        const double idf = std::log(1 + (n - df + 0.5) / (df + 0.5));
        s += idf * tf * (kK1 + 1) / (tf + kK1 * (1 - kB + kB * lengths_[i] / avg_));
      }
      if (s > 0) scored.emplace_back(-s, numbers_[i]);
    }
    std::sort(scored.begin(), scored.end());
    std::vector<int> out;
    for (size_t i = 0; i < scored.size() && i < k; ++i) out.push_back(scored[i].second);
    return out;
  }

 private:
  static constexpr double kK1 = 1.2, kB = 0.75;
  std::vector<std::unordered_map<std::string, int>> tfs_;
  std::unordered_map<std::string, double> df_;
  std::vector<double> lengths_;
  std::vector<int> numbers_;
  double avg_ = 0;
};

// --- measures ---------------------------------------------------------------------

bool relevant(const std::map<int, int>& judged, int doc) {
  auto it = judged.find(doc);
  return it != judged.end() && it->second >= 1 && it->second <= 4;
}

double average_precision(const std::vector<int>& ranked, const std::map<int, int>& judged) {
  size_t total = 0;
  for (const auto& [doc, code] : judged) total += relevant(judged, doc) ? 1 : 0;
  if (total == 0) return 0;
  double sum = 0;
  size_t found = 0;
  for (size_t i = 0; i < ranked.size() && i < 100; ++i) {
    if (!relevant(judged, ranked[i])) continue;
    ++found;
    sum += static_cast<double>(found) / static_cast<double>(i + 1);
  }
  return sum / static_cast<double>(total);
}

double ndcg10(const std::vector<int>& ranked, const std::map<int, int>& judged) {
  size_t total = 0;
  for (const auto& [doc, code] : judged) total += relevant(judged, doc) ? 1 : 0;
  double dcg = 0, ideal = 0;
  for (size_t i = 0; i < 10; ++i) {
    const double discount = 1 / std::log2(static_cast<double>(i) + 2);
    if (i < ranked.size() && relevant(judged, ranked[i])) dcg += discount;
    if (i < total) ideal += discount;
  }
  return ideal > 0 ? dcg / ideal : 0;
}

struct Score {
  double map = 0, ndcg = 0;
  std::vector<double> millis;
  void add(const std::vector<int>& ranked, const std::map<int, int>& judged) {
    map += average_precision(ranked, judged);
    ndcg += ndcg10(ranked, judged);
  }
  double median_ms() {
    if (millis.empty()) return 0;
    std::sort(millis.begin(), millis.end());
    return millis[millis.size() / 2];
  }
};

// --- the pipeline -----------------------------------------------------------------

void run_step(const char* type, int (*step)(StepEnvironment&), Store& store, const fs::path& home,
              nlohmann::json params) {
  StepContext context;
  context.step_type = type;
  context.step_id = type;
  context.params = std::move(params);
  context.home = home;
  context.database_url = store.conninfo();  // the data steps read on a connection of their own
  context.output_dir = home / "out" / type;
  context.result_file = context.output_dir / "result.json";
  fs::create_directories(context.output_dir);
  StepReport report(context);
  StepEnvironment env{context, store.features(), store.models(), report, 0};
  const auto start = Clock::now();
  if (step(env) != 0) throw Error(std::string(type) + " step failed");
  std::printf("%s step: %.1f s\n", type,
              std::chrono::duration<double>(Clock::now() - start).count());
}

void index_collection(Store& store, const fs::path& home, const Collection& c) {
  for (const Doc& d : c.docs) {
    DocumentToStore doc;
    doc.author = "cranfield";
    doc.platform = "web";
    doc.kind = "article";
    doc.url = "https://cranfield.example/" + std::to_string(d.number);
    doc.title = d.title;
    doc.content = d.text;
    store.features().upsert_document(doc);
  }
  run_step("clean", run_clean_step, store, home, {{"author", "cranfield"}});
  run_step("chunk", run_chunk_step, store, home, {{"author", "cranfield"}});
  run_step("embed", run_embed_step, store, home, {{"author", "cranfield"}});
}

int doc_number(const std::string& url) {
  return std::stoi(url.substr(url.rfind('/') + 1));
}

}  // namespace

int main() {
  const bool small = std::getenv("TWINFLOW_BENCH_SMALL") != nullptr;
  const fs::path dir = collection_dir();
  if (!fs::exists(dir / "cran.all.1400")) {
    std::fprintf(stderr,
                 "ir_bench: the Cranfield collection is not at %s (set TWINFLOW_IR_COLLECTION "
                 "to the directory holding cran.all.1400, cran.qry and cranqrel)\n",
                 dir.c_str());
    return 2;
  }
  try {
    const Collection c = load_collection(dir);
    const size_t queries = small ? 75 : c.queries.size();
    const fs::path home =
        fs::temp_directory_path() / ("twinflow-ir-bench-" + std::to_string(::getpid()));
    fs::create_directories(home);
    bench::BenchDatabase database(home, "twinflow_ir_bench_");
    Store store(database.url());
    store.migrate();
    index_collection(store, home, c);

    PlainBm25 baseline(c.docs);
    Retriever retriever(store.features(), home / "artifacts");
    std::map<std::string, Score> scores;
    const std::vector<std::pair<std::string, SearchMode>> modes = {
        {"text", SearchMode::kText},
        {"text --no-expand", SearchMode::kText},
        {"vector", SearchMode::kVector},
        {"hybrid", SearchMode::kHybrid},
        {"hybrid --no-expand", SearchMode::kHybrid},
        {"hybrid --fusion score", SearchMode::kHybrid}};
    for (size_t q = 0; q < queries; ++q) {
      const auto& judged = c.judgements.count(static_cast<int>(q + 1))
                               ? c.judgements.at(static_cast<int>(q + 1))
                               : std::map<int, int>{};
      auto start = Clock::now();
      scores["baseline"].add(baseline.search(c.queries[q], 100), judged);
      scores["baseline"].millis.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      for (const auto& [name, mode] : modes) {
        SearchQuery query;
        query.text = c.queries[q];
        query.k = 300;
        query.mode = mode;
        query.filter.author = "cranfield";
        if (name.find("score") != std::string::npos) query.fusion.method = FusionMethod::kScore;
        query.expand = name.find("--no-expand") == std::string::npos;
        start = Clock::now();
        const SearchResult result = retriever.search_explained(query);
        scores[name].millis.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        std::vector<int> ranked;
        std::set<int> seen;
        for (const SearchHit& hit : result.hits) {
          const int number = doc_number(hit.chunk.url);
          if (seen.insert(number).second) ranked.push_back(number);
        }
        scores[name].add(ranked, judged);
      }
    }
    const double n = static_cast<double>(queries);
    std::printf("\nCranfield, %zu queries, %zu documents (%s)\n", queries, c.docs.size(),
                dir.c_str());
    std::printf("%-28s %8s %8s %10s\n", "mode", "MAP@100", "nDCG@10", "median ms");
    for (const char* name : {"baseline", "text", "text --no-expand", "vector", "hybrid",
                             "hybrid --no-expand", "hybrid --fusion score"}) {
      Score& s = scores[name];
      std::printf("%-28s %8.4f %8.4f %10.2f\n",
                  std::string(name) == "baseline" ? "baseline (plain BM25)" : name, s.map / n,
                  s.ndcg / n, s.median_ms());
    }
    const double base_map = scores["baseline"].map / n, base_ndcg = scores["baseline"].ndcg / n;
    const bool text_ok = scores["text"].map / n >= base_map && scores["text"].ndcg / n >= base_ndcg;
    const bool hybrid_ok = scores["hybrid"].ndcg / n >= 1.15 * base_ndcg;
    std::printf("target text >= baseline (MAP and nDCG): %s\n", text_ok ? "met" : "NOT met");
    std::printf("target hybrid nDCG@10 >= 1.15 x baseline (%.4f): %s (%.3f x)\n", 1.15 * base_ndcg,
                hybrid_ok ? "met" : "NOT met", scores["hybrid"].ndcg / n / base_ndcg);
    fs::remove_all(home / "out");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ir_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
