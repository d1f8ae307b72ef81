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

#include <nlohmann/json.hpp>

namespace twinflow {

using Millis = std::chrono::milliseconds;

// The kinds of step twinflow knows. `command` runs any program; the others are
// built-in typed steps run as `twinflow step TYPE` through the step protocol.
inline const std::vector<std::string>& known_step_types() {
  static const std::vector<std::string> kTypes = {
      "command", "crawl", "clean", "chunk", "embed", "dataset", "finetune", "evaluate", "deploy"};
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

// An input of a step: the output `output` of upstream step `step`, handed to
// the step under the name `name`.
struct InputRef {
  std::string name;
  std::string step;
  std::string output;
  SourcePos pos;
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
  bool enabled = true;
  std::vector<std::string> files;  // paths whose content joins the cache key
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
  SourcePos pos;
};

struct Dag {
  std::string name;
  std::string description;
  std::string file;          // path it was loaded from
  std::string content;       // the file's bytes, kept so a run can be replayed
  std::string content_hash;  // sha256 of content
  nlohmann::json params = nlohmann::json::object();  // defaults merged with -p overrides
  std::map<std::string, int> pools;                  // pool name -> slots
  std::vector<Step> steps;                           // in file order

  // Index of a step by id, or -1.
  int find_step(const std::string& id) const;
};

}  // namespace twinflow
