// The RAG server's latency under load: POST /rag requests from C concurrent
// keep-alive clients against `twinflow serve`'s RagService on 127.0.0.1, for
// D seconds; requests per second and latency p50 / p99.
//
// 1. Over the bundled sample: dags/llm_twin.yaml runs first (crawl, features,
//    datasets, 2 epochs of training, deploy), then the load.
// 2. Over the sample plus N synthetic chunks (documents of sentences drawn
//    from the sample's own words), embedded with the deployed embedding model.
//
// The load generator runs on the same 2 cores as the server, so the figures
// are what one machine does serving itself, not the server alone.
// Database: a fresh database on TWINFLOW_DATABASE_URL, else an embedded
// cluster in a temp home; TWINFLOW_BENCH_KEEP=1 keeps it (and prints it) to
// look at the query plans afterwards. TWINFLOW_BENCH_SMALL=1 (CI): N = 10,000, D = 3 s;
// otherwise N = 100,000, D = 10 s; TWINFLOW_BENCH_CHUNKS=1000000 sets N (not in CI). C = 4.
//
// 3. Search at scale over the N chunks (search_scale.h): text ranking by
//    postings beside the tsvector expansion it replaced (same scores),
//    the IVF index's build and recall@10 against exact search, a fresh
//    `twinflow search` process per mode (median, peak RSS) beside --exact,
//    warm top-10 retrieval as a server holds it beside exact, and a real
//    `twinflow serve` answering POST /rag (k 10, extractive) with its RSS.
#include <curl/curl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <thread>

#include "bench/bench_database.h"
#include "bench/search_scale.h"
#include "bench/spawn_twinflow.h"
#include "http/static_files.h"
#include "serve/rag_service.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "store/embedded_postgres.h"
#include "store/feature_store.h"
#include "store/store.h"
#include "tasks/embed/text_embedder.h"
#include "tasks/search/retriever.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace twinflow;

namespace {

const fs::path kSource = TWINFLOW_SOURCE_DIR;

int run_twinflow(const std::vector<std::string>& args, const fs::path& home, const std::string& url,
                 const fs::path& log) {
  const pid_t pid = bench::spawn_twinflow(args, home, url, log);
  if (pid < 0) return 127;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

size_t discard(char*, size_t size, size_t count, void*) {
  return size * count;
}

// One client: POSTs queries in turn over one keep-alive connection until
// `stop`, recording each latency in microseconds.
void client(const std::string& url, const std::vector<std::string>& bodies,
            const std::atomic<bool>& stop, std::vector<double>& latencies, int& errors) {
  CURL* curl = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &discard);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  for (size_t i = 0; !stop; ++i) {
    const std::string& body = bodies[i % bodies.size()];
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    const auto start = Clock::now();
    long status = 0;
    if (curl_easy_perform(curl) == CURLE_OK)
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) ++errors;
    latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
}

// A client that sends a few requests and forgets them (warm-up).
class WarmupClient {
 public:
  explicit WarmupClient(const std::string& url)
      : curl_(curl_easy_init()),
        headers_(curl_slist_append(nullptr, "Content-Type: application/json")) {
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    // Without it the server refuses the request before it loads anything,
    // and the measured requests waited for the vectors (29 s at 1M chunks).
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &discard);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  }
  ~WarmupClient() {
    curl_easy_cleanup(curl_);
    curl_slist_free_all(headers_);
  }
  // The response's status (0 when there was none).
  long post(const std::string& body) {
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
    long status = 0;
    if (curl_easy_perform(curl_) == CURLE_OK)
      curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    return status;
  }

 private:
  CURL* curl_;
  curl_slist* headers_;
};

void load(const char* label, const std::string& conninfo, const fs::path& home, int clients,
          std::chrono::seconds duration) {
  RagOptions options;
  options.default_author = "Ines Calloway";
  RagService service(conninfo, home / "artifacts", options);
  HttpServerOptions http;
  http.threads = 2;
  HttpServer server([&](const HttpRequest& r) { return service.handle(r); }, http);
  server.start();
  const std::vector<std::string> bodies = {
      R"({"query": "how should I chunk documents for retrieval", "k": 5})",
      R"({"query": "what does a model registry rollback need", "k": 5})",
      R"({"query": "near duplicate detection with minhash", "k": 5})",
      R"({"query": "why does the GPU wait for the dataloader", "k": 5})"};
  // Warm-up: every connection's session loads the vectors and the model once.
  {
    std::vector<std::thread> warm;
    for (int c = 0; c < clients; ++c)
      warm.emplace_back([&] {
        WarmupClient once(server.base_url() + "/rag");
        for (int i = 0; i < 3; ++i)
          if (const long status = once.post(bodies[0]); status != 200)
            std::fprintf(stderr, "warm-up request: HTTP %ld\n", status);
      });
    for (auto& t : warm) t.join();
  }
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(clients);
  std::vector<int> errors(clients, 0);
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c)
    threads.emplace_back(
        [&, c] { client(server.base_url() + "/rag", bodies, stop, latencies[c], errors[c]); });
  std::this_thread::sleep_for(duration);
  stop = true;
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  int failed = 0;
  for (int c = 0; c < clients; ++c) {
    all.insert(all.end(), latencies[c].begin(), latencies[c].end());
    failed += errors[c];
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0 : all[size_t(p * (all.size() - 1))] / 1000; };
  std::printf(
      "%-28s %d clients: %7.0f req/s, p50 %6.2f ms, p99 %6.2f ms, %zu requests, %d not 200\n",
      label, clients, all.size() / seconds, pct(0.5), pct(0.99), all.size(), failed);
  std::fflush(stdout);
}

// N synthetic chunks in documents of 1,000, made of the sample's words, then
// embedded with the current embedding model.
void add_synthetic_chunks(Store& store, const fs::path& home, int count) {
  std::vector<std::string> words;
  for (const auto& doc : store.features().latest_documents("Ines Calloway")) {
    std::istringstream in(doc.content);
    for (std::string w; in >> w;) words.push_back(w);
  }
  // Topics: each a seeded set of 30 of the sample's words; a chunk draws 60%
  // of its words from its topic and the rest from the whole sample, so the
  // chunks cluster as a real corpus's do (uniform word soup would not).
  std::mt19937_64 rng(7);
  std::vector<std::vector<std::string>> topics(200);
  for (auto& topic : topics)
    for (int w = 0; w < 30; ++w) topic.push_back(words[rng() % words.size()]);
  const int per_document = 1000;
  for (int d = 0; d * per_document < count; ++d) {
    DocumentToStore doc;
    doc.author = "Ines Calloway";
    doc.platform = "web";
    doc.kind = "article";
    doc.url = "https://example.invalid/synthetic/" + std::to_string(d);
    doc.title = "Synthetic " + std::to_string(d);
    std::vector<ChunkToStore> chunks;
    for (int c = 0; c < per_document && d * per_document + c < count; ++c) {
      std::string text;
      const auto& topic = topics[rng() % topics.size()];
      for (int w = 0; w < 120; ++w)
        text += (rng() % 10 < 6 ? topic[rng() % topic.size()] : words[rng() % words.size()]) + " ";
      chunks.push_back({"syn-" + std::to_string(d) + "-" + std::to_string(c), c,
                        int64_t(doc.content.size()), int64_t(doc.content.size() + text.size()),
                        text});
      doc.content += text;
    }
    StoredDocument stored = store.features().upsert_document(doc);
    CleanedDocumentRecord cleaned;
    cleaned.id = store.features().insert_cleaned_document(stored.id, "bench", doc.content, 0);
    cleaned.document_id = stored.id;
    cleaned.author = doc.author;
    cleaned.platform = doc.platform;
    cleaned.kind = doc.kind;
    cleaned.url = doc.url;
    cleaned.document_version = stored.version;
    cleaned.content = doc.content;
    store.features().replace_current_chunks(cleaned, "bench", "article", chunks, 0);
  }
  auto model = store.features().current_embedding_model("tfidf-svd-256");
  auto embedder = open_embedder(*model, home / "artifacts");
  auto pending = store.features().chunks_without_embedding(model->id, {});
  for (size_t at = 0; at < pending.size(); at += 2000) {
    const std::vector<ChunkText> page(pending.begin() + at,
                                      pending.begin() + std::min(pending.size(), at + 2000));
    std::vector<int64_t> ids;
    for (const ChunkText& chunk : page) ids.push_back(chunk.id);
    store.features().insert_embeddings(*model, ids, embed_chunks(*embedder, page), 0);
  }
  store.features()
      .refresh_feature_statistics();  // as the chunk and embed steps do after a bulk load
}

}  // namespace

int main() {
  const bool small = std::getenv("TWINFLOW_BENCH_SMALL") != nullptr;
  const fs::path home =
      fs::temp_directory_path() / ("twinflow-rag-bench-" + std::to_string(::getpid()));
  fs::create_directories(home);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  bench::BenchDatabase database(home, "twinflow_rag_bench_");
  const std::string url = database.url();
  {
    HttpServer site(static_files_handler(kSource / "sample" / "site"));
    site.start();
    const fs::path repo = home / "repo";
    const std::string make_repo = "bash '" + (kSource / "sample" / "make_repo.sh").string() +
                                  "' '" + repo.string() + "' >/dev/null";
    if (std::system(make_repo.c_str()) != 0) return 1;
    const auto start = Clock::now();
    const int code = run_twinflow(
        {"run", (kSource / "dags" / "llm_twin.yaml").string(), "-p", "site=" + site.base_url(),
         "-p", "repo=file://" + repo.string(), "-p", "epochs=2"},
        home, url, home / "pipeline.log");
    if (code != 0) {
      std::fprintf(stderr, "llm_twin.yaml failed; see %s\n", (home / "pipeline.log").c_str());
      return 1;
    }
    std::printf("llm_twin.yaml on the sample (2 epochs): %.1f s\n",
                std::chrono::duration<double>(Clock::now() - start).count());
  }
  const auto duration = std::chrono::seconds(small ? 3 : 10);
  load("sample (~150 chunks)", url, home, 4, duration);
  int synthetic = small ? 10000 : 100000;
  if (const char* n = std::getenv("TWINFLOW_BENCH_CHUNKS")) synthetic = std::atoi(n);
  {
    Store store(url);
    const auto start = Clock::now();
    add_synthetic_chunks(store, home, synthetic);
    std::printf("added and embedded %d synthetic chunks: %.1f s\n", synthetic,
                std::chrono::duration<double>(Clock::now() - start).count());
  }
  {
    // Where a request's time goes, one search at a time.
    Store store(url);
    Retriever retriever(store.features(), home / "artifacts");
    Retriever serving(store.features(), home / "artifacts", std::chrono::seconds(60));
    SearchQuery query;
    query.text = "how should I chunk documents for retrieval";
    query.k = 5;
    query.filter.author = "Ines Calloway";
    retriever.search(query);  // loads the vectors
    serving.search(query);
    auto time_ms = [](auto fn) {
      const auto start = Clock::now();
      for (int i = 0; i < 10; ++i) fn();
      return std::chrono::duration<double, std::milli>(Clock::now() - start).count() / 10;
    };
    auto model = store.features().current_embedding_model("tfidf-svd-256");
    SearchQuery vector_only = query;
    vector_only.mode = SearchMode::kVector;
    std::printf(
        "  one search: hybrid %.1f ms (%.1f ms as a server checks for new vectors, "
        "vector only %.1f ms) = vectors signature %.1f ms + text search %.1f ms + the rest\n",
        time_ms([&] { retriever.search(query); }), time_ms([&] { serving.search(query); }),
        time_ms([&] { serving.search(vector_only); }),
        time_ms([&] { store.features().vectors_signature(*model, query.filter); }),
        time_ms([&] { store.features().bm25_search(query.text, query.filter, 50, {}); }));
  }
  const std::string label = "sample + " + std::to_string(synthetic) + " chunks";
  load(label.c_str(), url, home, 4, duration);
  bench::search_at_scale(url, home, small ? 3 : 7, 20);
  return 0;
}
