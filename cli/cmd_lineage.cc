// `twinflow lineage ARTIFACT[@VERSION]`: where a version came from (the steps
// and inputs upstream of it) and what was made from it (downstream).
#include <CLI/CLI.hpp>
#include <iostream>
#include <set>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "cli/render.h"

namespace twinflow {
namespace {

std::string label(const ArtifactVersionRecord& v) {
  return v.artifact + "@v" + std::to_string(v.version);
}

// Walks producers of inputs, depth first, printing an indented tree.
void walk_upstream(Store& store, const ArtifactVersionRecord& version, int depth,
                   std::set<int64_t>& seen, nlohmann::json& out) {
  if (!version.producer_step_run_id || !seen.insert(version.id).second || depth > 50) return;
  for (const auto& edge : store.edges_of_step_run(*version.producer_step_run_id)) {
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
  for (const auto& edge : store.edges_of_version(version.id)) {
    if (edge.direction != "input") continue;
    for (const auto& produced : store.edges_of_step_run(edge.step_run_id)) {
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
  cmd->add_option("artifact", *spec, "ARTIFACT or ARTIFACT@VERSION (v prefix optional)")
      ->required()
      ->check(artifact_spec());
  cmd->callback([&ctx, exit_code, spec] {
    auto [name, version] = split_artifact_spec(*spec);
    auto record = ctx.store().find_artifact_version(name, version);
    if (!record) {
      std::cerr << "twinflow: no artifact version " << *spec << "\n";
      *exit_code = kExitFailed;
      return;
    }
    nlohmann::json upstream = nlohmann::json::array(), downstream = nlohmann::json::array();
    std::set<int64_t> seen_up, seen_down;
    walk_upstream(ctx.store(), *record, 0, seen_up, upstream);
    walk_downstream(ctx.store(), *record, 0, seen_down, downstream);
    if (ctx.json) {
      std::cout << nlohmann::json{{"version", to_json(*record)},
                                  {"upstream", upstream},
                                  {"downstream", downstream}}
                       .dump(2)
                << "\n";
    } else {
      std::cout << label(*record) << "  sha256:" << record->content_hash.substr(0, 12) << "\n";
      std::cout << "upstream (inputs of the step that produced it):\n";
      if (upstream.empty()) std::cout << "  (none)\n";
      print_tree(upstream, "<-");
      std::cout << "downstream (outputs of steps that consumed it):\n";
      if (downstream.empty()) std::cout << "  (none)\n";
      print_tree(downstream, "->");
    }
    *exit_code = kExitOk;
  });
}

}  // namespace twinflow
