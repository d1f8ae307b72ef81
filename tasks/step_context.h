// StepContext: what a built-in step (`twinflow step TYPE`) knows about the
// attempt it runs in, read from the step protocol's context.json, and
// StepParams: typed, checked access to the step's `params`.
//
// docs/STEP_PROTOCOL.md is the contract; this is the step's side of it, as
// scheduler/execution/step_protocol.h is the executor's. Built-in steps write their
// outputs into output_dir under fixed names (docs/STEPS.md) and report
// metrics on stdout and in result.json through StepReport.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace twinflow {

class Store;

struct StepInput {
  std::filesystem::path path;
  std::string artifact;
  int version = 0;
  int64_t artifact_version_id = 0;
};

struct StepContext {
  int64_t run_id = 0;
  std::string pipeline, step_id, step_type;
  int attempt = 1;
  nlohmann::json params = nlohmann::json::object();
  std::map<std::string, StepInput> inputs;
  std::filesystem::path output_dir, result_file, home;
  std::string database_url;

  // The path of an output file named `name` in the output directory.
  std::filesystem::path output_path(const std::string& name) const { return output_dir / name; }
};

// Reads context.json. Throws Error naming the file when it is missing or
// malformed.
StepContext load_step_context(const std::filesystem::path& context_file);

// The id of this attempt's step_runs row, so rows a step writes can name it.
// The executor records the row right after starting the process, so this waits
// for it a little (up to `wait`). Returns 0 outside an executor (run_id 0).
int64_t find_own_step_run(Store& store, const StepContext& context,
                          std::chrono::milliseconds wait = std::chrono::seconds(10));

// Typed access to a step's params. Values may arrive as strings after
// ${params.x} substitution ("3" for 3), so numbers and booleans are parsed from
// strings too. Every error names the step type and the param.
class StepParams {
 public:
  StepParams(const nlohmann::json& params, std::string step_type);

  bool has(const std::string& name) const;
  std::string string(const std::string& name) const;  // required
  std::string string_or(const std::string& name, const std::string& fallback) const;
  int64_t integer_or(const std::string& name, int64_t fallback, int64_t min, int64_t max) const;
  double number_or(const std::string& name, double fallback, double min, double max) const;
  bool boolean_or(const std::string& name, bool fallback) const;
  std::chrono::milliseconds duration_or(const std::string& name,
                                        std::chrono::milliseconds fallback) const;
  // One of `choices`.
  std::string choice_or(const std::string& name, const std::string& fallback,
                        const std::vector<std::string>& choices) const;
  const nlohmann::json& raw(const std::string& name) const;  // null when absent

 private:
  [[noreturn]] void fail(const std::string& name, const std::string& what) const;

  const nlohmann::json& params_;
  std::string step_type_;
};

// What a step reports: metrics as they happen (a JSON line on stdout, which the
// executor records at once) and result.json (output metadata) at the end.
class StepReport {
 public:
  explicit StepReport(const StepContext& context) : context_(context) {}

  // Prints {"metrics": {...}} on stdout, where the executor records it.
  void metrics(const nlohmann::json& values);
  // The same, as points at `step` (a training step: loss curves).
  void metrics(const nlohmann::json& values, int64_t step);
  // Sets the metadata stored with an output's artifact version.
  void output_metadata(const std::string& output, nlohmann::json metadata);
  // Writes result.json.
  void write() const;

 private:
  const StepContext& context_;
  nlohmann::json outputs_ = nlohmann::json::object();
};

}  // namespace twinflow
