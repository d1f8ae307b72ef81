// The step protocol: how twinflow hands a step its context and takes back its
// results. docs/STEP_PROTOCOL.md is the user-facing description; this file is
// the executor's side of it (the `twinflow step` side is in tasks/).
//
// In:  environment variables (TWINFLOW_CONTEXT, TWINFLOW_OUTPUT_DIR, ...) and a
//      context.json file with run and step ids, params, inputs and outputs.
// Out: files or directories named after each declared output in the output
//      directory, or anywhere a result.json names; metrics as JSON lines on
//      stdout ({"metrics": {"loss": 0.3}, "step": 10}) or in result.json.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "scheduler/definition/dag.h"
#include "store/records.h"

namespace twinflow {

// Where one attempt of a step keeps its files.
struct AttemptPaths {
  std::filesystem::path dir;         // home/runs/RUN/STEP.ATTEMPT
  std::filesystem::path output_dir;  // the same directory: outputs are named files in it
  std::filesystem::path context;     // dir/context.json
  std::filesystem::path result;      // dir/result.json
  std::filesystem::path params;      // dir/params.json: the step's params, any size
  std::filesystem::path log;         // home/logs/RUN/STEP.ATTEMPT.log
};

AttemptPaths attempt_paths(const std::filesystem::path& home, int64_t run_id,
                           const std::string& step_id, int attempt);

struct AttemptContext {
  int64_t run_id = 0;
  std::string pipeline;
  const Step* step = nullptr;
  int attempt = 1;
  std::vector<NamedVersion> inputs;
  std::string database_url;
  std::filesystem::path home;
};

// Params up to this size are also passed inline in TWINFLOW_PARAMS; larger
// ones only in TWINFLOW_PARAMS_FILE (and context.json), since Linux caps one
// environment variable at 128 KiB.
inline constexpr size_t kMaxInlineParamsBytes = 64 * 1024;

// Creates the attempt's directories and writes context.json and params.json.
void write_context(const AttemptContext& context, const AttemptPaths& paths);
// The TWINFLOW_* variables for the attempt, to add to the environment.
std::vector<std::string> protocol_environment(const AttemptContext& context,
                                              const AttemptPaths& paths);
// The program to run: the command, or `self_exe step TYPE` for typed steps.
std::vector<std::string> step_argv(const Step& step, const std::string& self_exe);

// Parses one stdout line as streamed metrics; nullopt when it is not one.
std::optional<std::vector<MetricPoint>> parse_metric_line(std::string_view line);

// What a succeeded attempt produced: one entry per output, its path and the
// metadata result.json gave. Throws Error naming the missing output when a
// declared output is absent, or when result.json is malformed.
struct ProducedOutput {
  const OutputDecl* decl = nullptr;
  std::filesystem::path path;
  nlohmann::json metadata = nlohmann::json::object();
};
struct AttemptResult {
  std::vector<ProducedOutput> outputs;
  std::vector<MetricPoint> metrics;
};
AttemptResult collect_result(const Step& step, const AttemptPaths& paths);

}  // namespace twinflow
