// The step side of the step protocol: context.json in, metrics and
// result.json out. See step_context.h.
#include "tasks/step_context.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "store/run_ledger.h"
#include "store/store.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/files.h"

namespace twinflow {
namespace fs = std::filesystem;

StepContext load_step_context(const fs::path& context_file) {
  const std::string text = read_file(context_file, "the step context");
  try {
    auto doc = nlohmann::json::parse(text);
    StepContext c;
    c.run_id = doc.value("run_id", int64_t{0});
    c.pipeline = doc.value("pipeline", "");
    c.step_id = doc.value("step_id", "");
    c.step_type = doc.value("step_type", "");
    c.attempt = doc.value("attempt", 1);
    c.params = doc.value("params", nlohmann::json::object());
    // Named: iterating items() of the temporary that value() returns would dangle.
    const nlohmann::json inputs = doc.value("inputs", nlohmann::json::object());
    for (const auto& [name, input] : inputs.items())
      c.inputs[name] = {input.value("path", ""), input.value("artifact", ""),
                        input.value("version", 0), input.value("artifact_version_id", int64_t{0})};
    c.output_dir = doc.value("output_dir", context_file.parent_path().string());
    c.result_file = doc.value("result_file", (c.output_dir / "result.json").string());
    c.home = doc.value("home", "");
    c.database_url = doc.value("database_url", "");
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw Error("malformed step context " + context_file.string() + ": " + e.what());
  }
}

int64_t find_own_step_run(Store& store, const StepContext& context,
                          std::chrono::milliseconds wait) {
  if (context.run_id == 0) return 0;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (auto row = store.runs().find_step_run(context.run_id, context.step_id, context.attempt))
      return row->id;
    if (std::chrono::steady_clock::now() > deadline)
      throw Error("no step run recorded for run " + std::to_string(context.run_id) + " step " +
                  context.step_id + " attempt " + std::to_string(context.attempt));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// --- StepParams -----------------------------------------------------------------

StepParams::StepParams(const nlohmann::json& params, std::string step_type)
    : params_(params), step_type_(std::move(step_type)) {}

void StepParams::fail(const std::string& name, const std::string& what) const {
  throw Error(step_type_ + " step: param '" + name + "' " + what);
}

bool StepParams::has(const std::string& name) const {
  return params_.is_object() && params_.contains(name) && !params_.at(name).is_null();
}

const nlohmann::json& StepParams::raw(const std::string& name) const {
  static const nlohmann::json kNull;
  return has(name) ? params_.at(name) : kNull;
}

std::string StepParams::string(const std::string& name) const {
  if (!has(name)) fail(name, "is required");
  const auto& v = params_.at(name);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  fail(name, "must be a string, got " + std::string(v.type_name()));
}

std::string StepParams::string_or(const std::string& name, const std::string& fallback) const {
  return has(name) ? string(name) : fallback;
}

double StepParams::number_or(const std::string& name, double fallback, double min,
                             double max) const {
  if (!has(name)) return fallback;
  const auto& v = params_.at(name);
  double value = 0;
  if (v.is_number()) {
    value = v.get<double>();
  } else if (v.is_string()) {
    const std::string s = v.get<std::string>();
    char* end = nullptr;
    value = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0') fail(name, "must be a number, got '" + s + "'");
  } else {
    fail(name, "must be a number, got " + std::string(v.type_name()));
  }
  if (value < min || value > max)
    fail(name, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                   std::to_string(value));
  return value;
}

int64_t StepParams::integer_or(const std::string& name, int64_t fallback, int64_t min,
                               int64_t max) const {
  if (!has(name)) return fallback;
  double value = number_or(name, static_cast<double>(fallback), static_cast<double>(min),
                           static_cast<double>(max));
  if (value != static_cast<double>(static_cast<int64_t>(value)))
    fail(name, "must be a whole number, got " + std::to_string(value));
  return static_cast<int64_t>(value);
}

bool StepParams::boolean_or(const std::string& name, bool fallback) const {
  if (!has(name)) return fallback;
  const auto& v = params_.at(name);
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "true" || s == "yes" || s == "1") return true;
    if (s == "false" || s == "no" || s == "0") return false;
  }
  fail(name, "must be true or false, got " + v.dump());
}

std::chrono::milliseconds StepParams::duration_or(const std::string& name,
                                                  std::chrono::milliseconds fallback) const {
  if (!has(name)) return fallback;
  const auto& v = params_.at(name);
  std::string text = v.is_string() ? v.get<std::string>() : v.dump();
  auto parsed = parse_duration(text);
  if (!parsed) fail(name, "must be a duration such as 500ms, 30s or 5m, got '" + text + "'");
  return *parsed;
}

std::string StepParams::choice_or(const std::string& name, const std::string& fallback,
                                  const std::vector<std::string>& choices) const {
  std::string value = string_or(name, fallback);
  for (const auto& c : choices)
    if (c == value) return value;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  fail(name, "must be one of " + list + ", got '" + value + "'");
}

// --- StepReport -------------------------------------------------------------------

void StepReport::metrics(const nlohmann::json& values) {
  // Streamed only: the executor records stdout metric lines as they arrive,
  // so repeating them in result.json would record them twice.
  std::cout << nlohmann::json{{"metrics", values}}.dump() << std::endl;
}

void StepReport::metrics(const nlohmann::json& values, int64_t step) {
  std::cout << nlohmann::json{{"metrics", values}, {"step", step}}.dump() << std::endl;
}

void StepReport::output_metadata(const std::string& output, nlohmann::json metadata) {
  outputs_[output] = {{"path", output}, {"metadata", std::move(metadata)}};
}

void StepReport::write() const {
  nlohmann::json doc = {{"outputs", outputs_}};
  write_file_atomically(context_.result_file, doc.dump(2));
}

}  // namespace twinflow
