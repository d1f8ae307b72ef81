// `twinflow search "text"`: retrieval over the feature store, the same
// library call (tasks/search/retriever.h) the RAG server makes. --explain
// shows, for each hit, its rank and score in each mode and the query words
// its text score came from; --json always carries the same as "explain".
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "tasks/search/retriever.h"
#include "tasks/text/utf8.h"
#include "util/error.h"

namespace twinflow {
namespace {

struct SearchArgs {
  std::string text, mode = "hybrid", author, kind, platform, model = "tfidf-svd-256";
  size_t k = 10;
  bool explain = false, exact = false, no_expand = false;
  int probes = 0;
  Bm25Params bm25;
  FusionParams fusion;
  std::string fusion_method = "rrf";
  ExpansionParams expansion;
};

// The first `max` characters of a chunk on one line, for the table.
std::string preview(const std::string& text, size_t max) {
  std::string out = text.substr(0, utf8_floor(text, max));
  for (char& c : out)
    if (c == '\n' || c == '\t') c = ' ';
  return out.size() < text.size() ? out + "..." : out;
}

nlohmann::json explain_json(const SearchHit& hit) {
  nlohmann::json text = {{"rank", hit.text_rank}, {"score", hit.text_score}};
  text["terms"] = nlohmann::json::object();
  for (const auto& [lexeme, part] : hit.text_terms) text["terms"][lexeme] = part;
  return {{"vector", {{"rank", hit.vector_rank}, {"score", hit.vector_score}}}, {"text", text}};
}

nlohmann::json hit_json(const SearchHit& hit) {
  const ChunkDetail& c = hit.chunk;
  return {{"chunk_id", c.id},
          {"score", hit.score},
          {"vector_rank", hit.vector_rank},
          {"text_rank", hit.text_rank},
          {"explain", explain_json(hit)},
          {"document_id", c.document_id},
          {"url", c.url},
          {"title", c.title},
          {"author", c.author},
          {"platform", c.platform},
          {"kind", c.kind},
          {"position", c.position},
          {"content", c.content}};
}

// "rank 3, 0.4210" or "absent"
std::string rank_text(int rank, double score) {
  if (rank == 0) return "absent";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "rank %d, %.4f", rank, score);
  return buffer;
}

void print_explanation(const SearchHit& hit, SearchMode mode) {
  if (mode != SearchMode::kText)
    std::printf("    vector: %s\n", rank_text(hit.vector_rank, hit.vector_score).c_str());
  if (mode == SearchMode::kVector) return;
  std::string terms;
  for (const auto& [lexeme, part] : hit.text_terms) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, " %.4f", part);
    terms += (terms.empty() ? " (" : ", ") + lexeme + buffer;
  }
  std::printf("    text:   %s%s\n", rank_text(hit.text_rank, hit.text_score).c_str(),
              terms.empty() ? "" : (terms + ")").c_str());
}

void print_terms(const SearchResult& result) {
  if (result.terms.empty()) return;
  std::printf("query words (of %lld searchable chunks):",
              static_cast<long long>(result.searchable_chunks));
  for (const Bm25Term& t : result.terms) {
    char weight[32] = "";
    if (t.weight != 1) std::snprintf(weight, sizeof weight, " x%.3g", t.weight);
    std::printf(" %s%s df %lld idf %.3f;", t.lexeme.c_str(), weight,
                static_cast<long long>(t.chunks), t.idf);
  }
  std::printf("\n");
}

int run_search(AppContext& ctx, const SearchArgs& args) {
  if (args.text.find_first_not_of(" \t\r\n\f\v") == std::string::npos) {
    std::fprintf(stderr, "twinflow search: the query is empty: say what to search for\n");
    return kExitUsage;
  }
  SearchQuery query;
  query.text = args.text;
  query.k = args.k;
  query.mode = parse_search_mode(args.mode);
  query.filter = {args.author, args.kind, args.platform};
  query.model_name = args.model;
  query.bm25 = args.bm25;
  query.fusion = args.fusion;
  query.exact = args.exact;
  query.probes = args.probes;
  query.fusion.method = parse_fusion_method(args.fusion_method);
  query.expand = !args.no_expand;
  query.expansion = args.expansion;
  try {
    validate(query.bm25);
    validate(query.fusion);
    validate(query.expansion);
  } catch (const Error& e) {
    std::fprintf(stderr, "twinflow search: %s\n", e.what());
    return kExitUsage;
  }
  // A search process lives for one query: memory it frees stays in its heap
  // for the next allocation instead of going back to the system, to be
  // faulted in again page by page (12 µs a page on these VMs; a hybrid
  // search at 100,000 chunks touched 5,200 pages).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  Retriever retriever(ctx.store().features(), ctx.home() / "artifacts");
  const SearchResult result = retriever.search_explained(query);
  for (const std::string& note : result.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  if (ctx.json) {
    nlohmann::json doc = nlohmann::json::array();
    for (const auto& hit : result.hits) doc.push_back(hit_json(hit));
    std::cout << doc.dump(2) << "\n";
    return kExitOk;
  }
  if (args.explain) print_terms(result);
  if (result.hits.empty()) std::cout << "no results\n";
  for (size_t i = 0; i < result.hits.size(); ++i) {
    const SearchHit& hit = result.hits[i];
    const ChunkDetail& c = hit.chunk;
    std::printf("%2zu. %.4f  %s [%s, %s]\n    %s\n    %s\n", i + 1, hit.score,
                c.title.empty() ? "(untitled)" : c.title.c_str(), c.platform.c_str(),
                c.kind.c_str(), c.url.c_str(), preview(c.content, 160).c_str());
    if (args.explain) print_explanation(hit, query.mode);
  }
  return kExitOk;
}

}  // namespace

void add_search_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("search", "Search the feature store's chunks");
  auto args = std::make_shared<SearchArgs>();
  cmd->add_option("text", args->text, "What to look for")->required();
  cmd->add_option("-k,--k", args->k, "How many results")
      ->capture_default_str()
      ->check(whole_number(1, 1000));
  cmd->add_option("--mode", args->mode, "vector, text or hybrid")
      ->capture_default_str()
      ->check(CLI::IsMember({"vector", "text", "hybrid"}));
  cmd->add_option("--author", args->author, "Only this author's documents");
  cmd->add_option("--kind", args->kind, "Only chunks of this kind")
      ->check(CLI::IsMember({"article", "post", "code"}));
  cmd->add_option("--platform", args->platform, "Only documents from this platform")
      ->check(CLI::IsMember({"medium", "substack", "linkedin", "github", "web"}));
  cmd->add_option("--model", args->model, "Embedding model name")->capture_default_str();
  cmd->add_flag("--explain", args->explain,
                "Show each hit's rank and score per mode and its text score per query word");
  cmd->add_option("--k1", args->bm25.k1, "BM25 term-frequency saturation")->capture_default_str();
  cmd->add_option("--b", args->bm25.b, "BM25 length normalisation (0..1)")->capture_default_str();
  cmd->add_option("--title-weight", args->bm25.title_weight,
                  "BM25F weight of a title word against a body word's 1")
      ->capture_default_str();
  cmd->add_option("--fusion", args->fusion_method, "hybrid: rrf (reciprocal ranks) or score")
      ->capture_default_str()
      ->check(CLI::IsMember({"rrf", "score"}));
  cmd->add_option("--k-rrf", args->fusion.k_rrf, "hybrid, rrf: the rank offset")
      ->capture_default_str();
  cmd->add_option("--vector-weight", args->fusion.vector_weight, "hybrid: weight of vector hits")
      ->capture_default_str();
  cmd->add_option("--text-weight", args->fusion.text_weight, "hybrid: weight of text hits")
      ->capture_default_str();
  cmd->add_flag("--no-expand", args->no_expand,
                "text, hybrid: rank by the query alone, without pseudo-relevance feedback");
  cmd->add_option("--feedback-chunks", args->expansion.feedback_chunks,
                  "Expansion: best chunks of the first ranking read as relevant")
      ->capture_default_str()
      ->check(whole_number(1, 1000));
  cmd->add_option("--feedback-terms", args->expansion.feedback_terms,
                  "Expansion: words the feedback adds to the query")
      ->capture_default_str()
      ->check(whole_number(1, 1000));
  cmd->add_option("--original-weight", args->expansion.original_weight,
                  "Expansion: the original query's share of the expanded one (0..1)")
      ->capture_default_str();
  cmd->add_option("--max-share", args->expansion.max_share,
                  "Expansion: added words in more than this share of chunks are not scored (0..1]")
      ->capture_default_str();
  cmd->add_option("--vector-feedback", args->expansion.vector_feedback_weight,
                  "Expansion, hybrid: weight of the feedback chunks' mean embedding in the vector "
                  "query")
      ->capture_default_str();
  cmd->add_flag("--exact", args->exact,
                "Vector ranking over every vector instead of the approximate (IVF) index");
  cmd->add_option("--probes", args->probes,
                  "Approximate vector ranking: how many IVF lists to read (0: the default)")
      ->capture_default_str()
      ->check(whole_number(0, 4096));
  cmd->callback([&ctx, exit_code, args] { *exit_code = run_search(ctx, *args); });
}

}  // namespace twinflow
