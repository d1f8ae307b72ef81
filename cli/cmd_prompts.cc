// `twinflow prompts [--limit N]`: the RAG server's prompt log, newest first:
// the query, what was retrieved, the answer, the model version and latency.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "store/model_registry.h"
#include "store/store.h"
#include "tasks/text/utf8.h"

namespace twinflow {
namespace {

nlohmann::json to_json(const PromptLogRecord& p) {
  return {{"id", p.id},
          {"created_at", p.created_at},
          {"query", p.query},
          {"author", p.author},
          {"k", p.k},
          {"chunk_ids", p.chunk_ids},
          {"prompt", p.prompt},
          {"answer", p.answer},
          {"model", p.model_name},
          {"model_version", p.model_version ? nlohmann::json(*p.model_version) : nlohmann::json()},
          {"generator", p.generator},
          {"status", p.status},
          {"error", p.error},
          {"retrieval_ms", p.retrieval_ms},
          {"generation_ms", p.generation_ms},
          {"latency_ms", p.latency_ms}};
}

// One line of a table cell: newlines shown as spaces, cut at `width`.
std::string cell(const std::string& text, size_t width) {
  std::string out;
  for (char c : text) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (out.size() > width) {
    out.resize(utf8_floor(out, width - 3));
    out += "...";
  }
  return out;
}

}  // namespace

void add_prompts_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("prompts", "The RAG server's prompt log, newest first");
  auto limit = std::make_shared<int>(20);
  cmd->add_option("--limit", *limit, "How many")
      ->capture_default_str()
      ->check(whole_number(1, 100000));
  cmd->callback([&ctx, exit_code, limit] {
    auto prompts = ctx.store().models().list_prompts(*limit);
    if (ctx.json) {
      nlohmann::json doc = nlohmann::json::array();
      for (const auto& p : prompts) doc.push_back(to_json(p));
      std::cout << doc.dump(2) << "\n";
    } else {
      std::printf("%-6s %-19s %-6s %-10s %-9s %-36s %s\n", "ID", "TIME", "STATUS", "MODEL",
                  "LATENCY", "QUERY", "ANSWER");
      for (const auto& p : prompts) {
        const std::string model =
            p.model_version ? "v" + std::to_string(*p.model_version) : p.generator;
        std::printf("%-6lld %-19s %-6d %-10s %7.1fms %-36s %s\n", static_cast<long long>(p.id),
                    p.created_at.substr(0, 19).c_str(), p.status, cell(model, 10).c_str(),
                    p.latency_ms, cell(p.query, 36).c_str(),
                    cell(p.status == 200 ? p.answer : p.error, 60).c_str());
      }
    }
    *exit_code = kExitOk;
  });
}

}  // namespace twinflow
