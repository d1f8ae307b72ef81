// `twinflow search "text"`: retrieval over the feature store, the same
// library call (tasks/search/retriever.h) the RAG server makes.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "tasks/search/retriever.h"

namespace twinflow {
namespace {

struct SearchArgs {
  std::string text, mode = "hybrid", author, kind, platform, model = "tfidf-svd-256";
  size_t k = 10;
};

// The first `max` characters of a chunk on one line, for the table.
std::string preview(const std::string& text, size_t max) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max) break;
    out.push_back(c == '\n' || c == '\t' ? ' ' : c);
  }
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
  if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
  return out.size() < text.size() ? out + "..." : out;
}

nlohmann::json hit_json(const SearchHit& hit) {
  const ChunkDetail& c = hit.chunk;
  return {{"chunk_id", c.id},
          {"score", hit.score},
          {"vector_rank", hit.vector_rank},
          {"text_rank", hit.text_rank},
          {"document_id", c.document_id},
          {"url", c.url},
          {"title", c.title},
          {"author", c.author},
          {"platform", c.platform},
          {"kind", c.kind},
          {"position", c.position},
          {"content", c.content}};
}

int run_search(AppContext& ctx, const SearchArgs& args) {
  SearchQuery query;
  query.text = args.text;
  query.k = args.k;
  query.mode = parse_search_mode(args.mode);
  query.filter = {args.author, args.kind, args.platform};
  query.model_name = args.model;
  Retriever retriever(ctx.store(), ctx.home() / "artifacts");
  std::vector<SearchHit> hits = retriever.search(query);
  if (ctx.json) {
    nlohmann::json doc = nlohmann::json::array();
    for (const auto& hit : hits) doc.push_back(hit_json(hit));
    std::cout << doc.dump(2) << "\n";
    return kExitOk;
  }
  if (hits.empty()) std::cout << "no results\n";
  for (size_t i = 0; i < hits.size(); ++i) {
    const ChunkDetail& c = hits[i].chunk;
    std::printf("%2zu. %.4f  %s [%s, %s]\n    %s\n    %s\n", i + 1, hits[i].score,
                c.title.empty() ? "(untitled)" : c.title.c_str(), c.platform.c_str(),
                c.kind.c_str(), c.url.c_str(), preview(c.content, 160).c_str());
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
  cmd->callback([&ctx, exit_code, args] { *exit_code = run_search(ctx, *args); });
}

}  // namespace twinflow
