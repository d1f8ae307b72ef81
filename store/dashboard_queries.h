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
#include <map>
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
  // runs in it and the ids at its ends. One prepared statement per
  // combination of filters, each with a plain WHERE clause so that its
  // generic plan uses the matching index, planned once per connection.
  // `after_id` > 0 asks for the page of runs just newer than it (the
  // "newer" link; still returned newest first).
  //
  // `validator` says which rows the page holds and in which version (an md5
  // of their ids and xmin), read in the same statement: when it equals
  // `known_validator` the JSON is not built (`unchanged`, `json` empty) and
  // the caller's copy of it is exactly what would have been built, except
  // for the running runs' durations (`live`), which follow the clock.
  struct RunsJson {
    std::string json;
    int count = 0;
    bool more = false;  // runs beyond this page in the direction asked
    int64_t oldest_id = 0;
    int64_t newest_id = 0;
    std::string validator;
    bool unchanged = false;
    bool live = false;  // a run on the page has not finished
  };
  RunsJson runs_page_json(const RunFilter& filter, int64_t after_id = 0,
                          const std::string& known_validator = "");

  // Every pipeline, A to Z, as a JSON array built by PostgreSQL: [{name,
  // dag_file, runs, last_status, last_run_id, paused}], and with `recent` > 0
  // the pipelines grid too: each pipeline's last `recent` runs, newest first,
  // with their steps' states: {..., "steps": [step ids in the newest run's
  // order], "recent_runs": [{id, status, trigger, created_at,
  // duration_seconds, steps: {step_id: [status, attempts]}}]}.
  // `validator` (the rows' ids and versions and the counts) and `live` (a
  // recent run not finished: its duration follows the clock) as in
  // runs_page_json; the JSON is not built when it equals `known_validator`.
  struct PipelinesJson {
    std::string json;
    std::string validator;
    bool unchanged = false;
    bool live = false;
  };
  PipelinesJson pipelines_json(int recent, const std::string& known_validator = "");
  std::optional<PipelineSummary> find_pipeline(const std::string& name);
  std::optional<ArtifactVersionRecord> find_version_by_id(int64_t artifact_version_id);
  // The lineage graph around a version, at most `depth` hops each way:
  // {"nodes": [{"id", "kind": version|step_run|document|model, ...}],
  //  "edges": [{"from", "to"}]}. Upstream it reaches the documents the crawl
  // attempts wrote (at most `max_documents`), downstream the model versions
  // registered from any reached version.
  nlohmann::json lineage(int64_t artifact_version_id, int depth, int max_documents);
  // Every version of the document `document_id` is one of (same author and
  // URL), newest first, at most `limit`: [{id, version, fetched_at, sha256,
  // title, is_latest}].
  nlohmann::json document_versions(int64_t document_id, int limit);
  DashboardFigures figures();

  // The run page's document, built by PostgreSQL in one statement:
  // {"run", "steps" (with each step's "inputs" and "outputs" [{name,
  // version}]), "attempts", "events"}, times RFC 3339, durations null while
  // unfinished. `fingerprint` is run_fingerprint's value read in the same
  // statement; when it equals `known_fingerprint` the document is not built
  // (`unchanged`, `json` empty): the caller's copy is what it would be.
  // nullopt: no such run.
  struct RunDocument {
    std::string fingerprint;
    std::string json;
    std::string dag_hash, dag_file, params;  // to load the DAG snapshot
    bool unchanged = false;
  };
  std::optional<RunDocument> run_document(int64_t run_id,
                                          const std::string& known_fingerprint = "");
  // What changes when anything run_document shows changes (the run's row, its
  // steps' states, its attempts), as an md5 hex: one statement over
  // primary-key and run_id indexes, for an ETag check without building the
  // document. nullopt: no such run.
  std::optional<std::string> run_fingerprint(int64_t run_id);

  // Keyset pages of the lists, as JSON arrays built by PostgreSQL, each one
  // statement whose plan walks an index from the cursor (no OFFSET). A list
  // has its order: ids newest first (prompts, documents), names A to Z
  // (artifacts, models). A forward page holds at most `limit` rows after
  // `cursor` in that order (empty cursor: from the start); a backward page
  // the `limit` rows just before `cursor`, returned in the list's order too.
  struct PageRequest {
    int limit = 50;
    std::string cursor;  // an id (digits) or a name
    bool backward = false;
  };
  struct PageJson {
    std::string json;
    int count = 0;
    bool more = false;        // rows beyond this page in the direction asked
    std::string first, last;  // the cursors of the first and last rows ("" if none)
  };
  // A keyset page of an artifact's versions, newest first, ordered like an id
  // list by version number (the cursor): forward, the versions below the
  // cursor; backward, the `limit` versions just above it.
  struct VersionsPage {
    std::vector<ArtifactVersionRecord> versions;
    bool more = false;  // versions beyond this page in the direction asked
  };
  VersionsPage artifact_versions_page(const std::string& name, const PageRequest& page);
  // The prompt log: [{id, query, author, k, chunk_ids, answer, model,
  // model_version, generator, status, error, latency_ms, created_at}].
  PageJson prompts_page_json(const PageRequest& page);
  // Latest document versions without their bodies: [{id, author, platform,
  // kind, url, version, title, fetched_at, step_run_id}].
  PageJson documents_page_json(const PageRequest& page);
  // [{name, type, latest_version, created_at}].
  PageJson artifacts_page_json(const PageRequest& page);
  // [{name, latest_version, production_version, versions, created_at}].
  PageJson models_page_json(const PageRequest& page);

  // Sets up the current connection for the dashboard (JIT off) once per
  // connection, again after a reconnection.
  void ready();
  // Prepares `sql` as statement `name` on the current connection, once per
  // connection (again after a reconnection).
  void prepare_once(const std::string& name, const std::string& sql);
  // Whether `name` is prepared on the current connection (to skip building
  // its text again).
  bool is_prepared(const std::string& name);

  // Benchmarks: `count` finished runs of `pipeline` (with `steps` step rows
  // each) in one INSERT ... SELECT generate_series. The pipeline and its DAG
  // snapshot are recorded first. Returns the largest run id.
  int64_t seed_synthetic_runs(const NewRun& pipeline, int64_t count);

 private:
  // pipelines(): each pipeline's number of runs with ids up to `upto`.
  struct SettledCount {
    int64_t settled = 0, upto = 0;
  };
  static constexpr int64_t kUnsettledRuns = 1000;
  std::map<int64_t, SettledCount> run_counts_;  // by pipeline id

  Store& store_;
  std::set<std::string> prepared_;    // statements prepared on this connection
  uint64_t prepared_generation_ = 0;  // ... whose StoreConnection::generation() this is
  bool configured_ = false;           // ready() ran on it
};

}  // namespace twinflow
