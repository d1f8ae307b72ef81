#include "scheduler/execution/step_protocol.h"

#include <cctype>
#include <fstream>

#include "util/error.h"
#include "util/files.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

std::string env_name(std::string_view prefix, const std::string& name) {
  std::string out(prefix);
  for (char c : name)
    out.push_back(std::isalnum((unsigned char)c) ? std::toupper((unsigned char)c) : '_');
  return out;
}

nlohmann::json input_json(const NamedVersion& input) {
  const auto& v = input.version;
  return {{"path", v.uri},          {"artifact", v.artifact},         {"version", v.version},
          {"type", v.type},         {"content_hash", v.content_hash}, {"size_bytes", v.size_bytes},
          {"metadata", v.metadata}, {"artifact_version_id", v.id}};
}

std::optional<int64_t> metric_step(const nlohmann::json& line) {
  auto it = line.find("step");
  if (it == line.end() || !it->is_number()) return std::nullopt;
  return it->get<int64_t>();
}

}  // namespace

AttemptPaths attempt_paths(const fs::path& home, int64_t run_id, const std::string& step_id,
                           int attempt) {
  AttemptPaths paths;
  std::string run = std::to_string(run_id);
  // One directory per attempt, made with one mkdir: on some file systems a
  // mkdir costs more than starting the step's process.
  paths.dir = home / "runs" / run / (step_id + "." + std::to_string(attempt));
  paths.output_dir = paths.dir;
  paths.context = paths.dir / "context.json";
  paths.result = paths.dir / "result.json";
  paths.params = paths.dir / "params.json";
  paths.log = home / "logs" / run / (step_id + "." + std::to_string(attempt) + ".log");
  return paths;
}

void write_context(const AttemptContext& context, const AttemptPaths& paths) {
  std::error_code ec;
  if (!fs::create_directory(paths.dir, ec)) {
    // A leftover of an interrupted attempt with the same number, or a new run.
    fs::remove_all(paths.dir, ec);
    fs::create_directories(paths.dir);
  }
  fs::create_directories(paths.log.parent_path());
  const Step& step = *context.step;
  nlohmann::json inputs = nlohmann::json::object();
  for (const auto& input : context.inputs) inputs[input.name] = input_json(input);
  nlohmann::json outputs = nlohmann::json::array();
  for (const auto& output : step.outputs)
    outputs.push_back({{"name", output.name},
                       {"artifact", output.artifact},
                       {"type", output.type},
                       {"path", (paths.output_dir / output.name).string()}});
  nlohmann::json doc = {{"protocol", 1},
                        {"run_id", context.run_id},
                        {"pipeline", context.pipeline},
                        {"step_id", step.id},
                        {"step_type", step.type},
                        {"attempt", context.attempt},
                        {"params", step.params},
                        {"inputs", inputs},
                        {"outputs", outputs},
                        {"output_dir", paths.output_dir.string()},
                        {"result_file", paths.result.string()},
                        {"database_url", context.database_url},
                        {"home", context.home.string()}};
  write_file_atomically(paths.context, doc.dump(2));
  write_file_atomically(paths.params, step.params.dump());
}

std::vector<std::string> protocol_environment(const AttemptContext& context,
                                              const AttemptPaths& paths) {
  const Step& step = *context.step;
  std::vector<std::string> env = {
      "TWINFLOW_CONTEXT=" + paths.context.string(),
      "TWINFLOW_OUTPUT_DIR=" + paths.output_dir.string(),
      "TWINFLOW_RESULT=" + paths.result.string(),
      "TWINFLOW_RUN_ID=" + std::to_string(context.run_id),
      "TWINFLOW_PIPELINE=" + context.pipeline,
      "TWINFLOW_STEP_ID=" + step.id,
      "TWINFLOW_STEP_TYPE=" + step.type,
      "TWINFLOW_ATTEMPT=" + std::to_string(context.attempt),
      "TWINFLOW_PARAMS_FILE=" + paths.params.string(),
      "TWINFLOW_HOME=" + context.home.string(),
  };
  // Small params also come inline, as they always did; large ones (a crawl
  // of 20,000 links) only in the file, or the exec would fail.
  std::string params = step.params.dump();
  if (params.size() <= kMaxInlineParamsBytes) env.push_back("TWINFLOW_PARAMS=" + params);
  if (!context.database_url.empty()) env.push_back("TWINFLOW_DATABASE_URL=" + context.database_url);
  for (const auto& input : context.inputs)
    env.push_back(env_name("TWINFLOW_INPUT_", input.name) + "=" + input.version.uri);
  for (const auto& [name, value] : step.env) env.push_back(name + "=" + value);
  return env;
}

std::vector<std::string> step_argv(const Step& step, const std::string& self_exe) {
  if (step.type != "command") return {self_exe, "step", step.type};
  if (step.shell) return {"/bin/sh", "-c", step.command.at(0)};
  return step.command;
}

std::optional<std::vector<MetricPoint>> parse_metric_line(std::string_view line) {
  size_t first = line.find_first_not_of(" \t\r");
  if (first == std::string_view::npos || line[first] != '{') return std::nullopt;
  auto doc = nlohmann::json::parse(line.substr(first), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;
  auto metrics = doc.find("metrics");
  if (metrics == doc.end() || !metrics->is_object()) return std::nullopt;
  std::vector<MetricPoint> points;
  auto step = metric_step(doc);
  for (const auto& [key, value] : metrics->items())
    if (value.is_number()) points.push_back({key, value.get<double>(), step});
  return points;
}

namespace {

nlohmann::json read_result_file(const fs::path& path) {
  if (!fs::exists(path)) return nlohmann::json::object();
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object()) throw Error("result file " + path.string() + " is not a JSON object");
  return doc;
}

}  // namespace

AttemptResult collect_result(const Step& step, const AttemptPaths& paths) {
  nlohmann::json result = read_result_file(paths.result);
  nlohmann::json reported = result.value("outputs", nlohmann::json::object());
  AttemptResult out;
  for (const auto& decl : step.outputs) {
    ProducedOutput produced{&decl, paths.output_dir / decl.name, nlohmann::json::object()};
    if (reported.contains(decl.name)) {
      const auto& entry = reported[decl.name];
      if (entry.contains("path")) {
        fs::path path = entry["path"].get<std::string>();
        produced.path = path.is_absolute() ? path : paths.output_dir / path;
      }
      if (entry.contains("metadata")) produced.metadata = entry["metadata"];
    }
    if (!fs::exists(produced.path))
      throw Error("declared output '" + decl.name + "' was not produced (expected " +
                  produced.path.string() + ")");
    out.outputs.push_back(std::move(produced));
  }
  if (result.contains("metrics") && result["metrics"].is_object())
    for (const auto& [key, value] : result["metrics"].items())
      if (value.is_number()) out.metrics.push_back({key, value.get<double>(), std::nullopt});
  return out;
}

}  // namespace twinflow
