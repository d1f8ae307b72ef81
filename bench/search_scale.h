// Search at scale, for rag_bench: over the feature store a benchmark has
// filled (the sample plus N synthetic chunks of author "Ines Calloway",
// embedded with the deployed model), prints each figure beside a baseline
// measured in the same run:
// - text ranking through the BM25 postings (migration 0016) beside the
//   tsvector expansion of migration 0012 it replaced, and whether both give
//   the same top-10 ids and scores;
// - the IVF index build, and recall@10 of approximate vector search against
//   exact search over the same queries;
// - a fresh `twinflow search -k 10` process per mode: median wall time and
//   peak RSS, beside `--exact` vector search;
// - warm top-10 retrieval as `twinflow serve` does it (every vector in
//   memory, ranked by int8 codes and re-scored; text postings kept between
//   searches) with the codes' recall@10, beside exact search over the same
//   vectors and through the IVF index (a Retriever kept between searches,
//   checking the index each time);
// - a server's reload after 1% of the vectors were rewritten, reading only
//   what changed (vector_loading.h), beside a full load of the same state,
//   and the warm top-10 of the reloaded index beside the fresh one's;
// - a real `twinflow serve` answering POST /rag (k 10, extractive): median
//   latency of serial requests and the server's peak RSS (VmHWM).
#pragma once

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/spawn_twinflow.h"
#include "store/feature_store.h"
#include "store/store.h"
#include "tasks/search/ivf_search.h"
#include "tasks/search/retriever.h"
#include "tasks/search/vector_loading.h"

namespace twinflow::bench {

using ScaleClock = std::chrono::steady_clock;

inline double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Queries of 6 words from one chunk each (seeded): words that occur together.
inline std::vector<std::string> scale_queries(Store& store, const ChunkFilter& filter, int count) {
  std::vector<int64_t> ids = store.features().current_chunk_ids(filter);
  std::mt19937_64 random(11);
  std::vector<int64_t> picked;
  for (int i = 0; i < count && !ids.empty(); ++i) picked.push_back(ids[random() % ids.size()]);
  std::vector<std::string> out;
  for (const ChunkDetail& c : store.features().chunk_details(picked)) {
    std::istringstream in(c.content);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    std::string q;
    for (int w = 0; w < 6 && !words.empty(); ++w) q += words[random() % words.size()] + " ";
    out.push_back(q);
  }
  return out;
}

// The text ranking of migration 0012: every candidate chunk's tsvector
// expanded to find its term frequencies. The baseline of the postings. Chunks
// keep no tsvector since migration 0023: compare_text_ranking builds the
// 0012 layout (chunk_tsv: PostgreSQL's tsvector and a GIN index) first.
inline const char* const kExpansionSql =
    "WITH terms AS (SELECT * FROM unnest($4::text[], $5::float8[], $6::float8[]) "
    "  AS t (lexeme, qtf, idf)), "
    "q AS (SELECT string_agg('''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') "
    "  || '''', ' | ')::tsquery AS tsq FROM terms), "
    "candidates AS ( "
    "  SELECT c.id, c.document_id FROM q, chunk_tsv v JOIN chunks c ON c.id = v.id "
    "  JOIN documents d ON d.id = c.document_id "
    "  WHERE v.tsv @@ q.tsq AND c.is_current AND d.is_latest AND ($1 = '' OR d.author = $1) "
    "  AND ($2 = '' OR c.kind = $2) AND ($3 = '' OR d.platform = $3) "
    "  UNION "
    "  SELECT c.id, c.document_id FROM q, bm25_titles bt "
    "  JOIN chunks c ON c.document_id = bt.document_id AND c.is_current "
    "  JOIN documents d ON d.id = c.document_id WHERE bt.title @@ q.tsq AND d.is_latest "
    "  AND ($1 = '' OR d.author = $1) AND ($2 = '' OR c.kind = $2) "
    "  AND ($3 = '' OR d.platform = $3)), "
    "frequencies AS ( "
    "  SELECT k.id, u.lexeme, coalesce(array_length(u.positions, 1), 1) AS body, 0 AS title "
    "  FROM candidates k JOIN chunk_tsv v ON v.id = k.id, unnest(v.tsv) u "
    "  WHERE u.lexeme = ANY ($4::text[]) "
    "  UNION ALL "
    "  SELECT k.id, u.lexeme, 0, coalesce(array_length(u.positions, 1), 1) "
    "  FROM candidates k JOIN bm25_titles bt ON bt.document_id = k.document_id, "
    "  unnest(bt.title) u WHERE u.lexeme = ANY ($4::text[])), "
    "weighted AS ( "
    "  SELECT f.id, f.lexeme, "
    "    sum(f.body)::float8 / (1 - $9::float8 + $9::float8 * b.body_length / "
    "greatest($11::float8, 1e-9)) "
    "    + $10::float8 * sum(f.title)::float8 / (1 - $9::float8 + $9::float8 * b.title_length / "
    "greatest($12::float8, 1e-9)) AS tf "
    "  FROM frequencies f JOIN bm25_chunks b ON b.chunk_id = f.id "
    "  GROUP BY f.id, f.lexeme, b.body_length, b.title_length), "
    "parts AS (SELECT w.id, "
    "  CASE WHEN w.tf > 0 THEN t.qtf * t.idf * w.tf * ($8::float8 + 1) / ($8::float8 + w.tf) "
    "  ELSE 0 END AS part FROM weighted w JOIN terms t ON t.lexeme = w.lexeme) "
    "SELECT id, sum(part) AS score FROM parts GROUP BY id ORDER BY score DESC, id LIMIT $7::int";

inline std::string pg_array(const std::vector<std::string>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    out += i ? ",\"" : "\"";
    for (char c : v[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// Text ranking: postings (Store::bm25_search) beside the 0012 expansion.
inline void compare_text_ranking(Store& store, const std::string& url,
                                 const std::vector<std::string>& queries,
                                 const ChunkFilter& filter) {
  pqxx::connection c(url);
  pqxx::nontransaction(c).exec(
      "CREATE TEMP TABLE chunk_tsv AS "
      "SELECT id, to_tsvector('english', content) AS tsv FROM chunks WHERE is_current; "
      "ALTER TABLE chunk_tsv ADD PRIMARY KEY (id); "
      "CREATE INDEX ON chunk_tsv USING GIN (tsv); ANALYZE chunk_tsv");
  std::vector<double> postings_ms, expansion_ms;
  int same = 0;
  for (const std::string& q : queries) {
    auto start = ScaleClock::now();
    const Bm25Result r = store.features().bm25_search(q, filter, 10);
    postings_ms.push_back(
        std::chrono::duration<double, std::milli>(ScaleClock::now() - start).count());
    // The same terms and parameters, ranked by expansion (the terms query is
    // the same in both designs and not timed again).
    std::vector<const Bm25Term*> scored;
    for (const Bm25Term& t : r.terms)
      if (t.chunks > 0) scored.push_back(&t);
    std::stable_sort(scored.begin(), scored.end(),
                     [](const Bm25Term* a, const Bm25Term* b) { return a->chunks < b->chunks; });
    if (scored.size() > kMaxScoredTerms) scored.resize(kMaxScoredTerms);
    std::vector<std::string> lexemes, qtfs, idfs;
    for (const Bm25Term* t : scored) {
      lexemes.push_back(t->lexeme);
      qtfs.push_back(std::to_string(t->weight));
      char buffer[40];
      std::snprintf(buffer, sizeof buffer, "%.17g", t->idf);
      idfs.push_back(buffer);
    }
    auto avg = pqxx::nontransaction(c).exec_params1(
        "SELECT coalesce(sum(body_length), 0)::float8 / greatest(sum(chunks), 1), "
        "coalesce(sum(title_length), 0)::float8 / greatest(sum(chunks), 1) FROM bm25_scopes "
        "WHERE ($1 = '' OR author = $1) AND ($2 = '' OR kind = $2) AND ($3 = '' OR platform = $3)",
        filter.author, filter.kind, filter.platform);
    const double avg_body = avg[0].as<double>(), avg_title = avg[1].as<double>();
    start = ScaleClock::now();
    pqxx::nontransaction tx(c);
    auto rows = tx.exec_params(kExpansionSql, filter.author, filter.kind, filter.platform,
                               pg_array(lexemes), pg_array(qtfs), pg_array(idfs), 10, 1.2, 0.75,
                               2.0, avg_body, avg_title);
    expansion_ms.push_back(
        std::chrono::duration<double, std::milli>(ScaleClock::now() - start).count());
    bool equal = rows.size() == r.hits.size();
    for (size_t i = 0; equal && i < rows.size(); ++i)
      equal = rows[i][0].as<int64_t>() == r.hits[i].id &&
              std::abs(rows[i][1].as<double>() - r.hits[i].score) <= 1e-9;
    same += equal;
  }
  std::printf(
      "  text top-10, %zu queries: postings (0016) median %.1f ms beside tsvector expansion "
      "(0012) %.1f ms; same ids and scores in %d of %zu\n",
      queries.size(), median_of(postings_ms), median_of(expansion_ms), same, queries.size());
}

struct FreshRun {
  double wall_ms = 0, cpu_ms = 0, rss_mb = 0;
};

// Runs `twinflow search`: wall and CPU (user + system) time, peak RSS. The
// RSS comes from /usr/bin/time (its %M): a child spawned straight from this
// big process would report this process's peak as its own.
inline FreshRun fresh_search(const std::vector<std::string>& args,
                             const std::filesystem::path& home, const std::string& url) {
  const auto rss_file = home / "search.rss";
  std::filesystem::remove(rss_file);
  const bool timed = std::filesystem::exists("/usr/bin/time");
  std::vector<std::string> argv = {TWINFLOW_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  if (timed) argv.insert(argv.begin(), {"/usr/bin/time", "-f", "%M", "-o", rss_file.string()});
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    if (std::string_view(*e).substr(0, 9) != "TWINFLOW_") env.emplace_back(*e);
  env.push_back("TWINFLOW_HOME=" + home.string());
  env.push_back("TWINFLOW_DATABASE_URL=" + url);
  std::vector<char*> a, e;
  for (auto& x : argv) a.push_back(x.data());
  a.push_back(nullptr);
  for (auto& x : env) e.push_back(x.data());
  e.push_back(nullptr);
  const auto log = home / "search.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  const auto start = ScaleClock::now();
  pid_t pid = -1;
  if (posix_spawn(&pid, a[0], &actions, nullptr, a.data(), e.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  const double ms = std::chrono::duration<double, std::milli>(ScaleClock::now() - start).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    std::fprintf(stderr, "twinflow search failed; see %s\n", (home / "search.log").c_str());
  auto millis = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  double rss_kb = static_cast<double>(usage.ru_maxrss);
  if (timed) {
    std::ifstream in(rss_file);
    in >> rss_kb;
  }
  return {ms, millis(usage.ru_utime) + millis(usage.ru_stime), rss_kb / 1024.0};
}

inline size_t scale_discard(char*, size_t size, size_t count, void*) {
  return size * count;
}

// A server's reload after the data changed: a load of every vector, then
// the vectors of 1% of the chunks rewritten (as by a re-embed: new row
// versions), then the reload a server does now (only what changed,
// vector_loading.h) beside the full load it did before, over the same state.
inline void reload_figures(Store& store, const std::string& url, const EmbeddingModelRecord& model,
                           const ChunkFilter& filter) {
  const auto seconds_since = [](ScaleClock::time_point start) {
    return std::chrono::duration<double>(ScaleClock::now() - start).count();
  };
  VectorLoadStats first_stats, reload_stats, full_stats;
  auto start = ScaleClock::now();
  auto previous = load_vector_index(store.features(), model, filter, nullptr, &first_stats);
  const double first_s = seconds_since(start);
  {
    pqxx::connection c(url);
    pqxx::work tx(c);
    tx.exec_params(
        "UPDATE embeddings SET vector = vector WHERE model_id = $1 AND chunk_id % 100 = 0",
        model.id);
    tx.commit();
  }
  start = ScaleClock::now();
  const auto reloaded =
      load_vector_index(store.features(), model, filter, previous.get(), &reload_stats);
  const double reload_s = seconds_since(start);
  previous.reset();
  start = ScaleClock::now();
  const auto full = load_vector_index(store.features(), model, filter, nullptr, &full_stats);
  const double full_s = seconds_since(start);
  std::printf(
      "  server reload after 1%% of the vectors were rewritten: %.2f s reading what changed "
      "(%zu read, %zu kept in place; %zu segments, %zu vectors resident) beside %.2f s reading "
      "all %zu (first load %.2f s)\n",
      reload_s, reload_stats.read, reload_stats.kept, reloaded->segments(), reloaded->resident(),
      full_s, full_stats.read, first_s);
  // The same 50 queries (stored vectors) against both, as a server ranks.
  std::vector<double> reloaded_ms, full_ms;
  for (size_t q = 0; q < 50; ++q) {
    const float* query = full->vector_at(q * full->size() / 50);
    start = ScaleClock::now();
    reloaded->top_k_coded(query, 40, coded_candidates(40));
    reloaded_ms.push_back(seconds_since(start) * 1000);
    start = ScaleClock::now();
    full->top_k_coded(query, 40, coded_candidates(40));
    full_ms.push_back(seconds_since(start) * 1000);
  }
  std::printf(
      "  vector top-40 by codes: median %.1f ms on the reloaded index beside %.1f ms on the fresh "
      "one\n",
      median_of(reloaded_ms), median_of(full_ms));
}

// A real `twinflow serve` (extractive answers): median latency of serial
// POST /rag with k 10, and the server's VmHWM in MB.
inline void serve_figures(const std::filesystem::path& home, const std::string& url,
                          const std::vector<std::string>& queries) {
  const auto port_file = home / "serve.port";
  std::filesystem::remove(port_file);
  const pid_t pid =
      spawn_twinflow({"serve", "--bind", "127.0.0.1:0", "--port-file", port_file.string(),
                      "--author", "Ines Calloway", "--generator", "extractive"},
                     home, url, home / "serve.log");
  std::string port;
  for (int i = 0; i < 600 && port.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(port_file);
    std::getline(in, port);
  }
  if (port.empty()) {
    std::fprintf(stderr, "twinflow serve did not start; see %s\n", (home / "serve.log").c_str());
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return;
  }
  CURL* curl = curl_easy_init();
  const std::string endpoint = "http://127.0.0.1:" + port + "/rag";
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, endpoint.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &scale_discard);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  std::vector<double> ms;
  int failed = 0;
  for (size_t i = 0; i < queries.size() + 3; ++i) {
    std::string escaped;
    for (char ch : queries[i % queries.size()])
      if (ch == '"' || ch == '\\')
        escaped += std::string("\\") + ch;
      else if (static_cast<unsigned char>(ch) >= 0x20)
        escaped += ch;
    const std::string body = "{\"query\": \"" + escaped + "\", \"k\": 10}";
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    const auto start = ScaleClock::now();
    long status = 0;
    if (curl_easy_perform(curl) == CURLE_OK)
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) ++failed;
    if (i >= 3)  // the first three warm the session up
      ms.push_back(std::chrono::duration<double, std::milli>(ScaleClock::now() - start).count());
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  std::string hwm = "?";
  std::ifstream status_file("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status_file, line);)
    if (line.rfind("VmHWM:", 0) == 0) hwm = line.substr(6);
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  std::printf(
      "  twinflow serve, POST /rag k 10 (hybrid retrieval + extractive answer), serial: median "
      "%.1f ms over %zu requests (%d not 200); server VmHWM %s\n",
      median_of(ms), ms.size(), failed, hwm.c_str());
}

// The share of the (non-empty) `truth` hits that `found` holds.
inline double recall_against(const std::vector<SearchHit>& found,
                             const std::vector<SearchHit>& truth) {
  std::set<int64_t> ids;
  for (const SearchHit& h : truth) ids.insert(h.chunk.id);
  int hits = 0;
  for (const SearchHit& h : found) hits += ids.count(h.chunk.id) > 0;
  return static_cast<double>(hits) / static_cast<double>(ids.size());
}

inline void search_at_scale(const std::string& url, const std::filesystem::path& home,
                            int fresh_runs, int query_count) {
  std::printf("search at scale:\n");
  Store store(url);
  const ChunkFilter filter{"Ines Calloway", "", ""};
  const std::vector<std::string> queries = scale_queries(store, filter, query_count);
  std::printf("  %lld searchable chunks, %zu queries of 6 words from random chunks\n",
              static_cast<long long>(store.features().searchable_chunks(filter)), queries.size());
  compare_text_ranking(store, url, queries, filter);

  auto model = store.features().current_embedding_model("tfidf-svd-256");
  const auto built = build_vector_index(store.features(), *model);
  if (built)
    std::printf(
        "  IVF index: %lld vectors in %d lists (centroids fitted on %lld), built in %.1f s\n",
        static_cast<long long>(built->vectors), built->lists,
        static_cast<long long>(built->trained_on), built->seconds);

  // Recall@10 and warm latency. IVF: rechecks per search as a fresh process
  // does (the model file stays loaded); served: as `twinflow serve` holds
  // it, every vector in memory, ranked by codes; exact: the same, --exact.
  Retriever approximate(store.features(), home / "artifacts");
  Retriever served(store.features(), home / "artifacts", std::chrono::seconds(60));
  Retriever exact(store.features(), home / "artifacts", std::chrono::seconds(60));
  auto ask = [&](Retriever& r, const std::string& text, SearchMode mode, bool is_exact,
                 int probes = 0, bool expand = true, size_t k = 10) {
    SearchQuery q;
    q.expand = expand;
    q.probes = probes;
    q.text = text;
    q.k = k;
    q.mode = mode;
    q.filter = filter;
    q.exact = is_exact;
    return r.search(q);
  };
  // Warm as a server that has answered other questions: 40 queries from
  // other chunks than the measured ones, in every mode.
  const std::vector<std::string> more = scale_queries(store, filter, 60);
  for (Retriever* r : {&approximate, &served, &exact})
    for (size_t i = queries.size(); i < more.size(); ++i)
      for (SearchMode mode : {SearchMode::kText, SearchMode::kVector, SearchMode::kHybrid})
        ask(*r, more[i], mode, r == &exact);
  const int lists = built ? built->lists : default_ivf_lists(1);
  for (int probes : {default_ivf_probes(lists), 2 * default_ivf_probes(lists)}) {
    double recall = 0;
    int measured = 0;
    std::vector<double> ms;
    for (const std::string& text : queries) {
      const auto start = ScaleClock::now();
      const auto a = ask(approximate, text, SearchMode::kVector, false, probes);
      ms.push_back(std::chrono::duration<double, std::milli>(ScaleClock::now() - start).count());
      const auto e = ask(exact, text, SearchMode::kVector, true);
      if (e.empty()) continue;
      recall += recall_against(a, e);
      ++measured;
    }
    std::printf(
        "  vector recall@10 of the IVF index against exact search, %d of %d lists probed%s: "
        "%.3f (%d queries), warm median %.1f ms\n",
        std::min(probes, lists), lists, probes == default_ivf_probes(lists) ? " (default)" : "",
        measured ? recall / measured : 0.0, measured, median_of(ms));
  }
  // At hybrid search's depth (50 vector hits for a top 10), and what a
  // fresh hybrid search returns against one over exact vectors.
  {
    double recall50 = 0, hybrid = 0;
    int measured = 0;
    for (const std::string& text : queries) {
      const auto e = ask(exact, text, SearchMode::kVector, true, 0, true, 50);
      const auto eh = ask(exact, text, SearchMode::kHybrid, true);
      if (e.empty() || eh.empty()) continue;
      recall50 +=
          recall_against(ask(approximate, text, SearchMode::kVector, false, 0, true, 50), e);
      hybrid += recall_against(ask(approximate, text, SearchMode::kHybrid, false), eh);
      ++measured;
    }
    std::printf(
        "  IVF index (default probes) against exact search: vector recall@50 %.3f, hybrid "
        "top-10 overlap %.3f (%d queries)\n",
        measured ? recall50 / measured : 0.0, measured ? hybrid / measured : 0.0, measured);
  }
  // A server's in-memory ranking by int8 codes (the default) against its
  // exact one (--exact): recall@10.
  {
    double recall = 0;
    int measured = 0;
    for (const std::string& text : queries) {
      const auto e = ask(exact, text, SearchMode::kVector, true);
      const auto c = ask(served, text, SearchMode::kVector, false);
      if (e.empty()) continue;
      recall += recall_against(c, e);
      ++measured;
    }
    std::printf(
        "  vector recall@10 of a server's int8-code scan (re-scored) against exact search: %.3f "
        "(%d queries)\n",
        measured ? recall / measured : 0.0, measured);
  }
  // Warm means warm for all three: each has read every query's postings (a
  // hybrid search reads those of the text search, expansion included) and
  // holds what it keeps of the vectors before anything is timed. Without
  // this pass a served text search was timed reading its postings from the
  // database (41 ms at 1M chunks) where the others had them from the
  // recall measurements above.
  for (const std::string& text : queries) {
    ask(approximate, text, SearchMode::kHybrid, false);
    ask(served, text, SearchMode::kHybrid, false);
    ask(exact, text, SearchMode::kHybrid, true);
  }
  for (SearchMode mode : {SearchMode::kText, SearchMode::kVector, SearchMode::kHybrid}) {
    std::vector<double> a_ms, s_ms, e_ms;
    for (const std::string& text : queries) {
      auto start = ScaleClock::now();
      ask(approximate, text, mode, false);
      a_ms.push_back(std::chrono::duration<double, std::milli>(ScaleClock::now() - start).count());
      start = ScaleClock::now();
      ask(served, text, mode, false);
      s_ms.push_back(std::chrono::duration<double, std::milli>(ScaleClock::now() - start).count());
      start = ScaleClock::now();
      ask(exact, text, mode, true);
      e_ms.push_back(std::chrono::duration<double, std::milli>(ScaleClock::now() - start).count());
    }
    std::printf(
        "  warm top-10, %-6s: median %.1f ms as twinflow serve (every vector in memory, int8 codes "
        "re-scored) beside %.1f ms (--exact) and %.1f ms (IVF through the database)\n",
        search_mode_name(mode), median_of(s_ms), median_of(e_ms), median_of(a_ms));
  }
  // What query expansion (on by default) costs a server.
  for (SearchMode mode : {SearchMode::kText, SearchMode::kHybrid}) {
    std::vector<double> ms;
    for (const std::string& text : queries) {
      const auto start = ScaleClock::now();
      ask(served, text, mode, false, 0, false);
      ms.push_back(std::chrono::duration<double, std::milli>(ScaleClock::now() - start).count());
    }
    std::printf("  warm top-10, %-6s --no-expand: median %.1f ms (as twinflow serve)\n",
                search_mode_name(mode), median_of(ms));
  }

  reload_figures(store, url, *model, filter);

  // Fresh processes.
  struct Variant {
    const char* label;
    std::vector<std::string> extra;
  };
  const std::vector<Variant> variants = {{"text", {"--mode", "text"}},
                                         {"vector", {"--mode", "vector"}},
                                         {"hybrid", {"--mode", "hybrid"}},
                                         {"vector --exact", {"--mode", "vector", "--exact"}},
                                         {"hybrid --exact", {"--mode", "hybrid", "--exact"}}};
  for (const Variant& v : variants) {
    std::vector<double> ms, cpu, rss;
    for (int i = 0; i < fresh_runs; ++i) {
      std::vector<std::string> args = {"search", "--json", "-k", "10", "--author", "Ines Calloway"};
      args.insert(args.end(), v.extra.begin(), v.extra.end());
      args.push_back(queries[static_cast<size_t>(i) % queries.size()]);
      const FreshRun run = fresh_search(args, home, url);
      ms.push_back(run.wall_ms);
      cpu.push_back(run.cpu_ms);
      rss.push_back(run.rss_mb);
    }
    std::printf(
        "  fresh `twinflow search -k 10 %s`: median %.0f ms wall (%.0f ms CPU in the process), "
        "peak RSS %.0f MB (%d runs)\n",
        v.label, median_of(ms), median_of(cpu), median_of(rss), fresh_runs);
  }
  serve_figures(home, url, queries);
  std::fflush(stdout);
}

}  // namespace twinflow::bench
