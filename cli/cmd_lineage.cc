// `twinflow lineage ARTIFACT[@VERSION]`: where a version came from (the steps
// and inputs upstream of it, and the documents it was made from, through the
// feature store) and what was made from it (downstream). A model registry
// name works too (`llm_twin@2`). `twinflow lineage --url URL`: the other way,
// from a page to every chunk, dataset, model version and deployment.
#include <CLI/CLI.hpp>
#include <iostream>
#include <set>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "cli/render.h"
#include "store/lineage_queries.h"
#include "store/model_registry.h"
#include "store/run_ledger.h"

namespace twinflow {
namespace {

std::string label(const ArtifactVersionRecord& v) {
  return v.artifact + "@v" + std::to_string(v.version);
}

// Walks producers of inputs, depth first, printing an indented tree.
void walk_upstream(Store& store, const ArtifactVersionRecord& version, int depth,
                   std::set<int64_t>& seen, nlohmann::json& out) {
  if (!version.producer_step_run_id || !seen.insert(version.id).second || depth > 50) return;
  for (const auto& edge : store.runs().edges_of_step_run(*version.producer_step_run_id)) {
    if (edge.direction != "input") continue;
    out.push_back({{"depth", depth},
                   {"step_run_id", edge.step_run_id},
                   {"run_id", edge.run_id},
                   {"step", edge.step_id},
                   {"input", edge.name},
                   {"version", label(edge.version)}});
    walk_upstream(store, edge.version, depth + 1, seen, out);
  }
}

void walk_downstream(Store& store, const ArtifactVersionRecord& version, int depth,
                     std::set<int64_t>& seen, nlohmann::json& out) {
  if (!seen.insert(version.id).second || depth > 50) return;
  for (const auto& edge : store.runs().edges_of_version(version.id)) {
    if (edge.direction != "input") continue;
    for (const auto& produced : store.runs().edges_of_step_run(edge.step_run_id)) {
      if (produced.direction != "output") continue;
      out.push_back({{"depth", depth},
                     {"step_run_id", edge.step_run_id},
                     {"run_id", edge.run_id},
                     {"step", edge.step_id},
                     {"output", produced.name},
                     {"version", label(produced.version)}});
      walk_downstream(store, produced.version, depth + 1, seen, out);
    }
  }
}

// A model registry name, when no artifact has that name: `llm_twin@2` is
// version 2 of model llm_twin; without a version, the production version (or
// the newest). Returns the model's artifact version and the model's JSON.
std::optional<ArtifactVersionRecord> resolve_model(Store& store, const std::string& name,
                                                   int version, nlohmann::json& model) {
  std::optional<ModelVersionRecord> mv;
  if (version > 0) {
    mv = store.models().find_model_version(name, version);
  } else if (!(mv = store.models().production_model(name))) {
    auto versions = store.models().model_versions(name);
    if (!versions.empty()) mv = versions.front();
  }
  if (!mv) return std::nullopt;
  model = {{"model", mv->model}, {"version", mv->version}, {"stage", mv->stage}};
  return store.runs().find_artifact_version(mv->artifact, mv->artifact_version);
}

// The documents a version was made from (store/lineage_queries.h), as text.
void print_sources(const nlohmann::json& sources) {
  const auto& documents = sources["documents"];
  std::cout << "sources (through the feature store): " << sources["urls"].get<int64_t>()
            << " URLs, " << documents.size() << " document versions\n";
  for (const auto& d : sources["datasets"])
    std::cout << "  dataset " << d["artifact"].get<std::string>() << "@v" << d["version"]
              << " read " << d["sources_found"] << " documents\n";
  for (const auto& d : documents) {
    std::cout << "  " << d["url"].get<std::string>() << "  v" << d["version"];
    if (d["crawl"].is_object())
      std::cout << "  (crawled by run " << d["crawl"]["run_id"] << " of "
                << d["crawl"]["pipeline"].get<std::string>() << ")";
    std::cout << "\n";
  }
}

// `twinflow lineage --url URL`: every version of the document at URL and what
// it reached: chunks, datasets, model versions and deployments.
int print_url_lineage(Store& store, const std::string& url, bool json) {
  const nlohmann::json lineage = url_lineage_json(store, url);
  if (lineage["documents"].empty()) {
    std::cerr << "twinflow: no document has the URL " << url << "\n";
    return kExitFailed;
  }
  if (json) {
    std::cout << lineage.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << url << "\n";
  for (const auto& d : lineage["documents"]) {
    std::cout << "  v" << d["version"] << (d["is_latest"].get<bool>() ? " (latest)" : "")
              << "  fetched " << d["fetched_at"].get<std::string>();
    if (d["crawl"].is_object())
      std::cout << " by run " << d["crawl"]["run_id"] << " of "
                << d["crawl"]["pipeline"].get<std::string>();
    int current = 0;
    for (const auto& c : d["chunks"]) current += c["is_current"].get<bool>() ? 1 : 0;
    std::cout << "\n    " << d["cleaned"].size() << " cleaned, " << d["chunks"].size()
              << " chunks (" << current << " current)\n";
    for (const auto& v : d["datasets"])
      std::cout << "    -> dataset " << v["artifact"].get<std::string>() << "@v" << v["version"]
                << "\n";
    for (const auto& m : d["models"])
      std::cout << "    -> model " << m["model"].get<std::string>() << "@" << m["version"] << " ("
                << m["stage"].get<std::string>() << ")\n";
    for (const auto& m : d["deployments"])
      std::cout << "    -> deployed " << m["model"].get<std::string>() << "@" << m["version"]
                << " at " << m["changed_at"].get<std::string>() << "\n";
  }
  return kExitOk;
}

void print_tree(const nlohmann::json& entries, const char* arrow) {
  for (const auto& e : entries)
    std::cout << std::string(2 + 2 * e["depth"].get<int>(), ' ') << arrow << " "
              << e["version"].get<std::string>() << "  (run " << e["run_id"] << ", step "
              << e["step"].get<std::string>() << ")\n";
}

}  // namespace

void add_lineage_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("lineage", "Show upstream and downstream lineage of an artifact");
  auto spec = std::make_shared<std::string>();
  auto url = std::make_shared<std::string>();
  cmd->add_option("artifact", *spec,
                  "ARTIFACT or ARTIFACT@VERSION (v prefix optional), or MODEL@VERSION of the "
                  "model registry")
      ->check(artifact_spec());
  cmd->add_option("--url", *url,
                  "Instead: where the document at this URL went, version by version");
  cmd->callback([&ctx, exit_code, spec, url] {
    if (url->empty() == spec->empty()) {
      std::cerr << "twinflow lineage: give either ARTIFACT[@VERSION] or --url URL\n";
      *exit_code = kExitUsage;
      return;
    }
    if (!url->empty()) {
      *exit_code = print_url_lineage(ctx.store(), *url, ctx.json);
      return;
    }
    auto [name, version] = split_artifact_spec(*spec);
    auto record = ctx.store().runs().find_artifact_version(name, version);
    nlohmann::json model;
    if (!record) record = resolve_model(ctx.store(), name, version, model);
    if (!record) {
      std::cerr << "twinflow: no artifact version " << *spec << "\n";
      *exit_code = kExitFailed;
      return;
    }
    nlohmann::json upstream = nlohmann::json::array(), downstream = nlohmann::json::array();
    std::set<int64_t> seen_up, seen_down;
    walk_upstream(ctx.store(), *record, 0, seen_up, upstream);
    walk_downstream(ctx.store(), *record, 0, seen_down, downstream);
    const nlohmann::json sources = lineage_sources_json(ctx.store(), record->id);
    if (ctx.json) {
      nlohmann::json doc = {{"version", to_json(*record)},
                            {"upstream", upstream},
                            {"downstream", downstream},
                            {"sources", sources}};
      if (!model.is_null()) doc["model"] = model;
      std::cout << doc.dump(2) << "\n";
    } else {
      std::cout << label(*record) << "  sha256:" << record->content_hash.substr(0, 12) << "\n";
      std::cout << "upstream (inputs of the step that produced it):\n";
      if (upstream.empty()) std::cout << "  (none)\n";
      print_tree(upstream, "<-");
      std::cout << "downstream (outputs of steps that consumed it):\n";
      if (downstream.empty()) std::cout << "  (none)\n";
      print_tree(downstream, "->");
      print_sources(sources);
    }
    *exit_code = kExitOk;
  });
}

}  // namespace twinflow
