// `twinflow artifacts [NAME]`: every artifact with its latest version, or the
// versions of one artifact.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/render.h"
#include "store/run_ledger.h"

namespace twinflow {
namespace {

void print_artifacts(AppContext& ctx) {
  auto artifacts = ctx.store().runs().list_artifacts();
  if (ctx.json) {
    nlohmann::json doc = nlohmann::json::array();
    for (const auto& a : artifacts)
      doc.push_back({{"name", a.name},
                     {"type", a.type},
                     {"latest_version", a.latest_version},
                     {"created_at", a.created_at}});
    std::cout << doc.dump(2) << "\n";
    return;
  }
  std::printf("%-44s %-12s %s\n", "ARTIFACT", "TYPE", "LATEST");
  for (const auto& a : artifacts)
    std::printf("%-44s %-12s v%d\n", a.name.c_str(), a.type.c_str(), a.latest_version);
}

int print_versions(AppContext& ctx, const std::string& name) {
  auto versions = ctx.store().runs().artifact_versions(name);
  if (versions.empty()) {
    std::cerr << "twinflow: no artifact named '" << name << "'\n";
    return kExitFailed;
  }
  if (ctx.json) {
    nlohmann::json doc = nlohmann::json::array();
    for (const auto& v : versions) doc.push_back(to_json(v));
    std::cout << doc.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("%-8s %-14s %-12s %-26s %s\n", "VERSION", "SHA256", "SIZE", "CREATED", "PATH");
  for (const auto& v : versions)
    std::printf("v%-7d %-14s %-12lld %-26s %s\n", v.version, v.content_hash.substr(0, 12).c_str(),
                static_cast<long long>(v.size_bytes), v.created_at.substr(0, 25).c_str(),
                v.uri.c_str());
  return kExitOk;
}

}  // namespace

void add_artifacts_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("artifacts", "List artifacts, or the versions of one");
  auto name = std::make_shared<std::string>();
  cmd->add_option("name", *name, "Artifact name");
  cmd->callback([&ctx, exit_code, name] {
    if (name->empty()) {
      print_artifacts(ctx);
      *exit_code = kExitOk;
    } else {
      *exit_code = print_versions(ctx, *name);
    }
  });
}

}  // namespace twinflow
