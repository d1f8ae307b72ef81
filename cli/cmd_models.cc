// `twinflow models`: the model registry. Lists models, shows one model's
// versions and stage history, promotes a version to a stage, and rolls back
// production to the version before.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <limits>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "store/model_registry.h"
#include "store/store.h"
#include "util/error.h"

namespace twinflow {
namespace {

nlohmann::json to_json(const ModelVersionRecord& v) {
  return {{"model", v.model},
          {"version", v.version},
          {"stage", v.stage},
          {"artifact", v.artifact},
          {"artifact_version", v.artifact_version},
          {"uri", v.uri},
          {"sha256", v.content_hash},
          {"run_id", v.run_id ? nlohmann::json(*v.run_id) : nlohmann::json()},
          {"metrics", v.metrics},
          {"created_at", v.created_at}};
}

nlohmann::json to_json(const StageChangeRecord& c) {
  return {{"version", c.version},      {"from", c.from_stage}, {"to", c.to_stage},
          {"reason", c.reason},        {"actor", c.actor},     {"evaluation", c.evaluation},
          {"changed_at", c.changed_at}};
}

void print_models(AppContext& ctx) {
  auto models = ctx.store().models().list_models();
  if (ctx.json) {
    nlohmann::json doc = nlohmann::json::array();
    for (const auto& m : models)
      doc.push_back(
          {{"name", m.name},
           {"latest_version", m.latest_version},
           {"production_version",
            m.production_version ? nlohmann::json(*m.production_version) : nlohmann::json()},
           {"versions", m.versions},
           {"created_at", m.created_at}});
    std::cout << doc.dump(2) << "\n";
    return;
  }
  std::printf("%-32s %-8s %-12s %s\n", "MODEL", "LATEST", "PRODUCTION", "VERSIONS");
  for (const auto& m : models) {
    const std::string production =
        m.production_version ? "v" + std::to_string(*m.production_version) : "-";
    std::printf("%-32s v%-7d %-12s %d\n", m.name.c_str(), m.latest_version, production.c_str(),
                m.versions);
  }
}

// The metrics a reader compares versions by, in one short cell.
std::string metrics_cell(const nlohmann::json& metrics) {
  std::string out;
  for (const char* key : {"perplexity", "base_perplexity", "judge_accuracy", "judge_style"}) {
    if (!metrics.contains(key) || !metrics[key].is_number()) continue;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s=%.3g", out.empty() ? "" : " ", key,
                  metrics[key].get<double>());
    out += buf;
  }
  return out.empty() ? "-" : out;
}

int show_model(AppContext& ctx, const std::string& name) {
  auto versions = ctx.store().models().model_versions(name);
  if (versions.empty()) {
    std::cerr << "twinflow: no model named '" << name << "'\n";
    return kExitFailed;
  }
  auto history = ctx.store().models().stage_history(name);
  if (ctx.json) {
    nlohmann::json doc = {{"name", name},
                          {"versions", nlohmann::json::array()},
                          {"history", nlohmann::json::array()}};
    for (const auto& v : versions) doc["versions"].push_back(to_json(v));
    for (const auto& c : history) doc["history"].push_back(to_json(c));
    std::cout << doc.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("%-8s %-11s %-8s %-22s %s\n", "VERSION", "STAGE", "RUN", "ARTIFACT", "METRICS");
  for (const auto& v : versions) {
    const std::string artifact = v.artifact + " v" + std::to_string(v.artifact_version);
    const std::string run = v.run_id ? std::to_string(*v.run_id) : "-";
    std::printf("v%-7d %-11s %-8s %-22s %s\n", v.version, v.stage.c_str(), run.c_str(),
                artifact.c_str(), metrics_cell(v.metrics).c_str());
  }
  if (!history.empty()) std::printf("\nHISTORY\n");
  for (const auto& c : history)
    std::printf("%s  v%d %s -> %s  by %s%s%s\n", c.changed_at.substr(0, 19).c_str(), c.version,
                c.from_stage.c_str(), c.to_stage.c_str(), c.actor.c_str(),
                c.reason.empty() ? "" : ": ", c.reason.c_str());
  return kExitOk;
}

void print_version(AppContext& ctx, const ModelVersionRecord& v, const char* what) {
  if (ctx.json) {
    std::cout << to_json(v).dump(2) << "\n";
    return;
  }
  std::printf("%s: %s v%d is now %s\n", what, v.model.c_str(), v.version, v.stage.c_str());
}

void add_promote(CLI::App& models, AppContext& ctx, int* exit_code) {
  auto* cmd = models.add_subcommand("promote", "Move a model version to a stage");
  struct Args {
    std::string name, stage = "production", reason;
    int version = 0;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("name", args->name, "Model name")->required();
  cmd->add_option("version", args->version, "Version number")
      ->required()
      ->check(whole_number(1, std::numeric_limits<int>::max()));
  cmd->add_option("--stage", args->stage, "none, staging, production or archived")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "staging", "production", "archived"}));
  cmd->add_option("--reason", args->reason, "Why, recorded in the history");
  cmd->callback([&ctx, exit_code, args] {
    StageChangeRequest why{args->reason, "cli", std::nullopt, nlohmann::json::object()};
    print_version(ctx,
                  ctx.store().models().set_model_stage(args->name, args->version, args->stage, why),
                  "promoted");
    *exit_code = kExitOk;
  });
}

void add_rollback(CLI::App& models, AppContext& ctx, int* exit_code) {
  auto* cmd = models.add_subcommand(
      "rollback", "Put back the production version before the current one (archiving it)");
  auto name = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  cmd->add_option("name", *name, "Model name")->required();
  cmd->add_option("--reason", *reason, "Why, recorded in the history");
  cmd->callback([&ctx, exit_code, name, reason] {
    StageChangeRequest why{*reason, "cli", std::nullopt, nlohmann::json::object()};
    print_version(ctx, ctx.store().models().rollback_model(*name, why), "rolled back");
    *exit_code = kExitOk;
  });
}

}  // namespace

void add_models_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* models = app.add_subcommand("models", "The model registry: versions, stages, promotion");
  auto* show = models->add_subcommand("show", "A model's versions, metrics and stage history");
  auto name = std::make_shared<std::string>();
  show->add_option("name", *name, "Model name")->required();
  show->callback([&ctx, exit_code, name] { *exit_code = show_model(ctx, *name); });
  add_promote(*models, ctx, exit_code);
  add_rollback(*models, ctx, exit_code);
  models->callback([&ctx, exit_code, models] {
    if (models->get_subcommands().empty()) {
      print_models(ctx);
      *exit_code = kExitOk;
    }
  });
}

}  // namespace twinflow
