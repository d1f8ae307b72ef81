// Records: the plain values that cross the store's boundary.
//
// The scheduler and the CLI speak in these types; only store/*.cc knows how
// they map to tables (migrations/). Times are ISO-8601 text as PostgreSQL
// renders them, because the CLI and the dashboard only display them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace twinflow {

// Statuses of a whole run (runs.status).
namespace run_status {
inline constexpr const char* kQueued = "queued";
inline constexpr const char* kRunning = "running";
inline constexpr const char* kSucceeded = "succeeded";
inline constexpr const char* kFailed = "failed";
inline constexpr const char* kCancelled = "cancelled";
inline constexpr const char* kInterrupted = "interrupted";
}  // namespace run_status

// Statuses of a step within a run (run_steps.status).
namespace step_status {
inline constexpr const char* kPending = "pending";
inline constexpr const char* kRunning = "running";
inline constexpr const char* kRetrying = "retrying";
inline constexpr const char* kSucceeded = "succeeded";
inline constexpr const char* kFailed = "failed";
inline constexpr const char* kCached = "cached";
inline constexpr const char* kReused = "reused";
inline constexpr const char* kUpstreamFailed = "upstream_failed";
inline constexpr const char* kCancelled = "cancelled";
inline constexpr const char* kInterrupted = "interrupted";
}  // namespace step_status

// Statuses of one attempt (step_runs.status).
namespace attempt_status {
inline constexpr const char* kRunning = "running";
inline constexpr const char* kSucceeded = "succeeded";
inline constexpr const char* kFailed = "failed";
inline constexpr const char* kTimedOut = "timed_out";
inline constexpr const char* kCached = "cached";
inline constexpr const char* kInterrupted = "interrupted";
inline constexpr const char* kCancelled = "cancelled";
}  // namespace attempt_status

struct NewRun {
  std::string pipeline;
  std::string dag_file;
  std::string dag_hash;
  std::string dag_content;
  std::optional<int64_t> parent_run_id;
  std::string trigger = "manual";
  nlohmann::json params = nlohmann::json::object();
  std::vector<std::string> step_ids;
  std::string host;
  int pid = 0;
};

// Where a queued run comes from: a schedule tick, or nothing in particular
// (`twinflow trigger`).
struct QueuePlacement {
  std::optional<int64_t> logical_time;  // seconds since the epoch (UTC)
};

// A row of outbox_events: a data change that may start triggered DAGs.
struct OutboxEvent {
  int64_t id = 0;
  std::string kind;  // artifact_version, document
  std::string artifact;
  int version = 0;
  int64_t artifact_version_id = 0;
  int64_t document_id = 0;
  std::string platform;
};

struct RunRecord {
  int64_t id = 0;
  std::string pipeline;
  std::string dag_file;
  std::string dag_hash;
  std::optional<int64_t> parent_run_id;
  std::string trigger;
  nlohmann::json params;
  std::string status;
  bool cancel_requested = false;
  std::string host;
  int pid = 0;
  std::string created_at, started_at, finished_at, heartbeat_at;
  double duration_seconds = 0;  // finished (or now) minus started
  std::string error;
  std::string logical_time;         // trigger schedule: the tick, ISO-8601 UTC; else empty
  std::optional<int64_t> event_id;  // trigger event: the outbox event that started it
};

struct RunStepRecord {
  std::string step_id;
  std::string status;
  int attempts = 0;
  std::optional<int64_t> result_step_run_id;
  std::string started_at, finished_at;
  double duration_seconds = 0;
};

struct StepRunRecord {
  int64_t id = 0;
  int64_t run_id = 0;
  std::string step_id;
  int attempt = 0;
  std::string status;
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::string error;
  std::string host;
  int pid = 0;
  std::string started_at, finished_at;
  double duration_seconds = 0;
  std::string log_path;
  std::string cache_key;
  std::optional<int64_t> cached_from;
};

// An artifact version as a consumer needs it: where its content is and what
// it is.
struct ArtifactVersionRecord {
  int64_t id = 0;
  std::string artifact;
  std::string type;
  int version = 0;
  std::string content_hash;
  std::string uri;  // absolute path in the blob store
  int64_t size_bytes = 0;
  nlohmann::json metadata = nlohmann::json::object();
  std::optional<int64_t> producer_step_run_id;
  std::string created_at;
};

// An output ready to be recorded: its content is already in the blob store.
struct OutputToRecord {
  std::string name;      // output name in the DAG
  std::string artifact;  // artifact name
  std::string type;
  std::string content_hash;
  std::string uri;
  int64_t size_bytes = 0;
  nlohmann::json metadata = nlohmann::json::object();
};

// A named output or input of a step run, resolved to its artifact version.
struct NamedVersion {
  std::string name;
  ArtifactVersionRecord version;
};

struct MetricPoint {
  std::string key;
  double value = 0;
  std::optional<int64_t> step;
};

struct MetricRecord {
  int64_t step_run_id = 0;
  std::string key;
  double value = 0;
  std::optional<int64_t> step;
  std::string recorded_at;
};

struct AttemptEnd {
  std::string status;  // attempt_status::k*
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::string error;
};

struct RunFilter {
  std::string pipeline;
  std::string status;
  std::string trigger;
  int limit = 20;
  int64_t before_id = 0;  // pagination: runs with id < before_id; 0 = newest
};

struct ArtifactSummary {
  std::string name;
  std::string type;
  int latest_version = 0;
  std::string created_at;
};

// One edge of the lineage graph: a step run and an artifact version it read or wrote.
struct LineageEdge {
  int64_t step_run_id = 0;
  int64_t run_id = 0;
  std::string step_id;
  std::string direction;  // input | output
  std::string name;
  ArtifactVersionRecord version;
};

}  // namespace twinflow
