// Dag and Step: a pipeline as the user wrote it in a DAG file, validated.
//
// This is plain data: the loader (dag_loader.h) builds it from YAML and checks
// it; the planner and executor read it. Every Step keeps the position of its
// definition so that later errors can still point into the file.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include "util/duration.h"

#include <nlohmann/json.hpp>

namespace twinflow {

// The kinds of step twinflow knows. `command` runs any program; the others are
// built-in typed steps run as `twinflow step TYPE` through the step protocol.
inline const std::vector<std::string>& known_step_types() {
  static const std::vector<std::string> kTypes = {"command", "crawl",   "clean",    "chunk",
                                                  "embed",   "dataset", "finetune", "evaluate",
                                                  "deploy",  "import"};
  return kTypes;
}

struct SourcePos {
  int line = 0;  // 1-based, 0 = unknown
  int column = 0;
};

struct RetryPolicy {
  int count = 0;                                // retries after the first attempt
  Millis backoff_base{1000};                    // delay before retry n is base * 2^(n-1) ...
  Millis backoff_cap{60000};                    // ... capped here
  Millis delay_before(int retry_number) const;  // retry_number starts at 1
};

// An input of a step, handed to the step under the name `name`: either the
// output `output` of upstream step `step` ("step.output"), or a version of an
// artifact another pipeline made ("artifact:NAME" or "artifact:NAME@N"): the
// version whose event started the run when a trigger fired on NAME, else the
// latest; `artifact_version` pins one.
struct InputRef {
  std::string name;
  std::string step;
  std::string output;
  std::string artifact;                 // set for an artifact input (step and output empty)
  std::optional<int> artifact_version;  // "@N"
  SourcePos pos;

  bool is_artifact() const { return !artifact.empty(); }
};

// An output a step promises to produce. Versions of it are recorded under the
// artifact `artifact` (default "<pipeline>.<step>.<name>").
struct OutputDecl {
  std::string name;
  std::string artifact;
  std::string type = "file";  // free text: dataset, model, manifest, ...
  SourcePos pos;
};

struct CachePolicy {
  bool enabled = true;             // the loader applies cached_by_default() when the DAG is silent
  std::vector<std::string> files;  // paths whose content joins the cache key
};

// Whether a step of this type may reuse an earlier result when its DAG says
// nothing about `cache`. The feature-store steps answer to the world and the
// database, not only to their declared inputs (a crawl must see the pages as
// they are now; embed must see the chunks other runs added), and are
// incremental anyway: a rerun over unchanged data costs little and does nothing.
// evaluate and deploy answer to the registry (which version is in production
// now), so reusing an old decision would be wrong.
inline bool cached_by_default(const std::string& step_type) {
  return step_type != "crawl" && step_type != "clean" && step_type != "chunk" &&
         step_type != "embed" && step_type != "evaluate" && step_type != "deploy" &&
         step_type != "import";
}

// Where a step can run: "local" (a subprocess of the scheduler) or "slurm"
// (a batch job on a Slurm cluster; scheduler/launchers/slurm_launcher.h).
inline const std::vector<std::string>& known_executors() {
  static const std::vector<std::string> kExecutors = {"local", "slurm"};
  return kExecutors;
}

// What a Slurm step asks sbatch for (the DAG's `slurm:` keys). Empty fields
// are left to the cluster's defaults. None of it joins the cache key: where a
// step ran does not change what it computed.
struct SlurmResources {
  std::string partition;
  std::string time;         // a Slurm time limit: "30", "1:30:00", "2-00:00:00", ...
  std::optional<int> cpus;  // --cpus-per-task
  std::string mem;          // "4G", "500M", ...
  std::string gres;         // "gpu:1"
  std::string account;
  std::string qos;
  std::vector<std::string> extra_args;  // more sbatch options, as written
};

struct Step {
  std::string id;
  std::string type = "command";
  std::string description;
  std::vector<std::string> needs;  // explicit upstreams plus those implied by inputs
  std::vector<InputRef> inputs;
  std::vector<OutputDecl> outputs;
  nlohmann::json params = nlohmann::json::object();  // after ${params.x} substitution
  // A command given as a YAML string runs through /bin/sh -c; a YAML list is argv.
  std::vector<std::string> command;
  bool shell = false;
  std::map<std::string, std::string> env;
  RetryPolicy retries;
  std::optional<Millis> timeout;
  CachePolicy cache;
  std::string pool;  // empty: no pool
  // "local" or "slurm"; empty: the DAG's `executor`, else $TWINFLOW_EXECUTOR,
  // else local (resolved by the Executor).
  std::string executor;
  SlurmResources slurm;  // the DAG's `slurm:` defaults, overridden key by key
  SourcePos pos;
};

// When the scheduler starts the pipeline by itself: `cron` in the IANA zone
// `timezone`. The loader has checked both, so Schedule::parse (cron.h)
// accepts them; dag.h stays free of cctz for its many includers.
struct ScheduleSpec {
  std::string cron;
  std::string timezone = "UTC";
  bool catchup = false;     // after downtime: every missed tick, not only the latest
  int max_active_runs = 1;  // at most this many scheduled runs of the DAG at once
  SourcePos pos;            // of the 'schedule' value
};

// The platforms raw documents come from, which an on_documents trigger may name.
inline const std::vector<std::string>& known_document_platforms() {
  static const std::vector<std::string> kPlatforms = {"medium", "substack", "linkedin", "github",
                                                      "web"};
  return kPlatforms;
}

// An event that starts the pipeline: a new version of an artifact, or enough
// new raw documents. Each trigger is one kind; the fields of the other are unused.
struct TriggerSpec {
  enum class Kind { kArtifact, kDocuments };
  Kind kind = Kind::kArtifact;
  std::string artifact;  // kArtifact: the artifact whose new version fires
  std::string platform;  // kDocuments: only documents of this platform; empty = any
  int min_new = 1;       // kDocuments: fires once this many new documents arrived
  // Coalescing (scheduler/daemon/trigger_policy.h): the waiting events start one run
  // once they settle: no new one for `debounce` and the runs that wrote them
  // ended; `max_wait` after the oldest of them at the latest.
  Millis debounce{kDefaultTriggerDebounce};
  Millis max_wait{kDefaultTriggerMaxWait};
  SourcePos pos;  // of the list item

  static constexpr Millis kDefaultTriggerDebounce{5000};    // 5s
  static constexpr Millis kDefaultTriggerMaxWait{3600000};  // 1h
};

struct Dag {
  std::string name;
  std::string description;
  std::string file;          // path it was loaded from
  std::string content;       // the file's bytes, kept so a run can be replayed
  std::string content_hash;  // sha256 of content
  nlohmann::json params = nlohmann::json::object();  // defaults merged with -p overrides
  std::map<std::string, int> pools;                  // pool name -> slots
  std::string executor;                              // the steps' default; empty: see Step
  std::vector<Step> steps;                           // in file order
  std::optional<ScheduleSpec> schedule;              // none: runs only when asked or triggered
  std::vector<TriggerSpec> triggers;                 // in file order

  // Index of a step by id, or -1.
  int find_step(const std::string& id) const;
};

}  // namespace twinflow
