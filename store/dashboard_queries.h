// DashboardQueries: the read models of the web dashboard (`twinflow web`)
// that Store's operations do not answer: pipelines with their latest
// snapshot, artifact versions by id, the lineage graph around a version (up to
// source documents, down to registered models), the figures /metrics exports,
// and a set-based seeding of synthetic runs for benchmarks.
//
// It borrows a Store's connection (one per thread, like Store) and every query
// is parameterised. Results are plain values or JSON documents the dashboard
// sends as they are.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/records.h"

namespace twinflow {

class Store;

struct PipelineSummary {
  std::string name;
  std::string dag_file;
  std::string dag_hash;  // the snapshot its latest run used
  int64_t runs = 0;
  std::string last_status;
  std::optional<int64_t> last_run_id;
  bool paused = false;
};

// What /metrics exports, read in one snapshot.
struct DashboardFigures {
  std::vector<std::pair<std::string, int64_t>> runs_by_status;
  int64_t queue_depth = 0;
  // Step duration histogram over finished, executed attempts: cumulative
  // counts for each upper bound (seconds), then +Inf = count.
  std::vector<double> duration_bounds;
  std::vector<int64_t> duration_cumulative;
  double duration_sum = 0;
  int64_t duration_count = 0;
  struct Scheduler {
    int64_t id = 0;
    std::string host;
    int pid = 0;
    double heartbeat_epoch = 0;
    double heartbeat_age_seconds = 0;
  };
  std::vector<Scheduler> schedulers;  // not stopped
};

class DashboardQueries {
 public:
  explicit DashboardQueries(Store& store) : store_(store) {}

  // False once the connection broke (the caller then drops this Store).
  bool connected();

  // Store::list_runs as the dashboard asks it many times a second, as a JSON
  // array built by PostgreSQL (no per-row work in C++), with the number of
  // runs in it and the id of the oldest. One prepared statement per
  // combination of filters, each with a plain WHERE clause so that its
  // generic plan uses the matching index, planned once per connection.
  struct RunsJson {
    std::string json;
    int count = 0;
    int64_t oldest_id = 0;
  };
  RunsJson runs_page_json(const RunFilter& filter);

  std::vector<PipelineSummary> pipelines();
  std::optional<PipelineSummary> find_pipeline(const std::string& name);
  std::optional<ArtifactVersionRecord> find_version_by_id(int64_t artifact_version_id);
  // The lineage graph around a version, at most `depth` hops each way:
  // {"nodes": [{"id", "kind": version|step_run|document|model, ...}],
  //  "edges": [{"from", "to"}]}. Upstream it reaches the documents the crawl
  // attempts wrote (at most `max_documents`), downstream the model versions
  // registered from any reached version.
  nlohmann::json lineage(int64_t artifact_version_id, int depth, int max_documents);
  // Latest document versions, newest first, without their bodies.
  nlohmann::json documents(int limit, int64_t before_id);
  DashboardFigures figures();

  // Benchmarks: `count` finished runs of `pipeline` (with `steps` step rows
  // each) in one INSERT ... SELECT generate_series. The pipeline and its DAG
  // snapshot are recorded first. Returns the largest run id.
  int64_t seed_synthetic_runs(const NewRun& pipeline, int64_t count);

 private:
  Store& store_;
  std::set<std::string> prepared_;    // statements prepared on this connection
  uint64_t prepared_generation_ = 0;  // ... whose StoreConnection::generation() this is
};

}  // namespace twinflow
