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

// The API's one format for times: RFC 3339 in UTC with milliseconds
// ("2026-12-02T08:38:32.926Z"), which every browser's Date.parse reads.
// Converts PostgreSQL's text output of a timestamptz ("2026-12-02
// 08:38:32.926822+00", any offset, with or without a fraction) and passes an
// RFC 3339 time through (normalised to UTC); null for "" or anything else.
nlohmann::json rfc3339(const std::string& postgres_timestamp);
// The same in SQL, for JSON PostgreSQL builds: TWINFLOW_RFC3339_SQL("r.x")
// is that column as RFC 3339 text (NULL stays NULL).
#define TWINFLOW_RFC3339_SQL(column) \
  "to_char((" column ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

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
  // A keyset page of an artifact's versions, newest first: at most `limit`
  // versions numbered below `before` (0: from the newest).
  std::vector<ArtifactVersionRecord> artifact_versions_page(const std::string& name, int limit,
                                                            int before);
  // The lineage graph around a version, at most `depth` hops each way:
  // {"nodes": [{"id", "kind": version|step_run|document|model, ...}],
  //  "edges": [{"from", "to"}]}. Upstream it reaches the documents the crawl
  // attempts wrote (at most `max_documents`), downstream the model versions
  // registered from any reached version.
  nlohmann::json lineage(int64_t artifact_version_id, int depth, int max_documents);
  // Latest document versions, newest first, without their bodies.
  nlohmann::json documents(int limit, int64_t before_id);
  // Every version of the document `document_id` is one of (same author and
  // URL), newest first, at most `limit`: [{id, version, fetched_at, sha256,
  // title, is_latest}].
  nlohmann::json document_versions(int64_t document_id, int limit);
  // The pipelines grid: each pipeline's last `runs` runs, newest first, with
  // their steps' states, as JSON text built by PostgreSQL: {"NAME": {"steps":
  // [step ids in the newest run's order], "runs": [{id, status, trigger,
  // created_at, duration_seconds, steps: {step_id: [status, attempts]}}]}}.
  std::string pipeline_grid_json(int runs);
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
