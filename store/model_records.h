// The values that cross the Store boundary for the model registry and the RAG
// server's prompt log (migrations/0005_model_registry.sql).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace twinflow {

// Stages a model version moves through. "production" is held by at most one
// version of a model at a time.
inline constexpr const char* kModelStages[] = {"none", "staging", "production", "archived"};
bool is_model_stage(const std::string& stage);

struct ModelVersionRecord {
  int64_t id = 0;
  std::string model;
  int version = 0;
  std::string stage;
  int64_t artifact_version_id = 0;
  std::string artifact;  // the artifact's name and version number
  int artifact_version = 0;
  std::string uri;  // where the model lives in the blob store
  std::string content_hash;
  std::optional<int64_t> step_run_id;  // the attempt that registered it
  std::optional<int64_t> run_id;       // the run of the finetune attempt that made the artifact
  nlohmann::json metrics = nlohmann::json::object();
  std::string created_at;
};

struct ModelSummary {
  std::string name;
  int latest_version = 0;
  std::optional<int> production_version;
  int versions = 0;
  std::string created_at;
};

// Who changes a stage and why.
struct StageChangeRequest {
  std::string reason;
  std::string actor;                   // "cli", "deploy step", "dashboard"
  std::optional<int64_t> step_run_id;  // the deciding attempt, if a step decided
  nlohmann::json evaluation = nlohmann::json::object();
};

struct StageChangeRecord {
  int64_t id = 0;
  int version = 0;
  std::string from_stage, to_stage, reason, actor;
  std::optional<int64_t> step_run_id;
  nlohmann::json evaluation = nlohmann::json::object();
  std::string changed_at;
};

struct PromptLogEntry {
  std::string query, author;
  int k = 0;
  std::vector<int64_t> chunk_ids;
  std::string prompt, answer;
  std::string model_name;
  std::optional<int64_t> model_version_id;
  std::string generator;
  int status = 200;
  std::string error;
  double retrieval_ms = 0, generation_ms = 0, latency_ms = 0;
};

struct PromptLogRecord : PromptLogEntry {
  int64_t id = 0;
  std::optional<int> model_version;  // the version number, when known
  std::string created_at;
};

}  // namespace twinflow
