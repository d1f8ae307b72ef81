#include "cli/render.h"

#include <cstdio>
#include <map>
#include <ostream>

#include "store/run_ledger.h"
#include "store/store.h"

namespace twinflow {

std::string format_seconds(double seconds) {
  char buf[32];
  if (seconds < 60)
    std::snprintf(buf, sizeof buf, "%.2fs", seconds);
  else
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(seconds) / 60, int(seconds) % 60);
  return buf;
}

namespace {

std::string pad(const std::string& text, size_t width) {
  return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

template <typename T>
nlohmann::json optional_json(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json to_json(const RunRecord& r) {
  return {{"id", r.id},
          {"pipeline", r.pipeline},
          {"dag_file", r.dag_file},
          {"dag_hash", r.dag_hash},
          {"parent_run_id", optional_json(r.parent_run_id)},
          {"trigger", r.trigger},
          {"params", r.params},
          {"status", r.status},
          {"host", r.host},
          {"pid", r.pid},
          {"created_at", r.created_at},
          {"started_at", r.started_at},
          {"finished_at", r.finished_at},
          {"duration_seconds", r.duration_seconds},
          {"error", r.error}};
}

nlohmann::json to_json(const RunStepRecord& s) {
  return {{"step_id", s.step_id},
          {"status", s.status},
          {"attempts", s.attempts},
          {"result_step_run_id", optional_json(s.result_step_run_id)},
          {"started_at", s.started_at},
          {"finished_at", s.finished_at},
          {"duration_seconds", s.duration_seconds}};
}

nlohmann::json to_json(const StepRunRecord& a) {
  return {{"id", a.id},
          {"step_id", a.step_id},
          {"attempt", a.attempt},
          {"status", a.status},
          {"exit_code", optional_json(a.exit_code)},
          {"signal", optional_json(a.signal)},
          {"error", a.error},
          {"host", a.host},
          {"pid", a.pid},
          {"started_at", a.started_at},
          {"finished_at", a.finished_at},
          {"duration_seconds", a.duration_seconds},
          {"log_path", a.log_path},
          {"cache_key", a.cache_key},
          {"cached_from", optional_json(a.cached_from)}};
}

nlohmann::json to_json(const ArtifactVersionRecord& v) {
  return {{"id", v.id},
          {"artifact", v.artifact},
          {"type", v.type},
          {"version", v.version},
          {"content_hash", v.content_hash},
          {"uri", v.uri},
          {"size_bytes", v.size_bytes},
          {"metadata", v.metadata},
          {"producer_step_run_id", optional_json(v.producer_step_run_id)},
          {"created_at", v.created_at}};
}

void print_runs_table(std::ostream& out, const std::vector<RunRecord>& runs) {
  out << pad("RUN", 8) << pad("PIPELINE", 24) << pad("STATUS", 13) << pad("TRIGGER", 9)
      << pad("PARENT", 8) << pad("DURATION", 10) << "STARTED\n";
  for (const auto& r : runs)
    out << pad(std::to_string(r.id), 8) << pad(r.pipeline, 24) << pad(r.status, 13)
        << pad(r.trigger, 9) << pad(r.parent_run_id ? std::to_string(*r.parent_run_id) : "-", 8)
        << pad(format_seconds(r.duration_seconds), 10) << r.started_at << "\n";
}

nlohmann::json run_details_json(Store& store, const RunRecord& run) {
  nlohmann::json doc = to_json(run);
  doc["steps"] = nlohmann::json::array();
  for (const auto& s : store.runs().run_steps(run.id)) doc["steps"].push_back(to_json(s));
  doc["attempts"] = nlohmann::json::array();
  for (const auto& a : store.runs().step_runs(run.id)) {
    nlohmann::json attempt = to_json(a);
    if (auto job = store.runs().slurm_job_id(a.id)) attempt["slurm_job_id"] = *job;
    doc["attempts"].push_back(std::move(attempt));
  }
  doc["outputs"] = nlohmann::json::object();
  for (const auto& [step, outputs] : store.runs().step_outputs(run.id))
    for (const auto& named : outputs) doc["outputs"][step][named.name] = to_json(named.version);
  doc["metrics"] = nlohmann::json::array();
  for (const auto& m : store.runs().metrics_of_run(run.id))
    doc["metrics"].push_back({{"step_run_id", m.step_run_id},
                              {"key", m.key},
                              {"value", m.value},
                              {"step", optional_json(m.step)}});
  return doc;
}

void print_run_details(std::ostream& out, Store& store, const RunRecord& run) {
  out << "run " << run.id << "  " << run.pipeline << "  " << run.status << "  (" << run.trigger;
  if (run.parent_run_id) out << " of run " << *run.parent_run_id;
  out << ", " << format_seconds(run.duration_seconds) << ")\n";
  out << "  dag: " << run.dag_file << "  params: " << run.params.dump() << "\n";
  if (!run.error.empty()) out << "  error: " << run.error << "\n";
  std::map<std::string, StepRunRecord> last_attempt;
  for (const auto& a : store.runs().step_runs(run.id)) last_attempt[a.step_id] = a;
  auto outputs = store.runs().step_outputs(run.id);
  out << "\n  " << pad("STEP", 22) << pad("STATUS", 16) << pad("ATTEMPTS", 9) << pad("DURATION", 10)
      << "DETAIL\n";
  for (const auto& s : store.runs().run_steps(run.id)) {
    std::string detail;
    auto it = last_attempt.find(s.step_id);
    if (it != last_attempt.end() && !it->second.error.empty()) detail = it->second.error;
    if (it != last_attempt.end())
      if (auto job = store.runs().slurm_job_id(it->second.id))
        detail = "slurm job " + *job + (detail.empty() ? "" : ": " + detail);
    for (const auto& named : outputs[s.step_id])
      detail += (detail.empty() ? "" : ", ") + named.name + " -> " + named.version.artifact + "@v" +
                std::to_string(named.version.version);
    out << "  " << pad(s.step_id, 22) << pad(s.status, 16) << pad(std::to_string(s.attempts), 9)
        << pad(s.started_at.empty() ? "-" : format_seconds(s.duration_seconds), 10) << detail
        << "\n";
  }
  auto metrics = store.runs().metrics_of_run(run.id);
  if (!metrics.empty()) out << "\n  " << metrics.size() << " metric points recorded\n";
}

}  // namespace twinflow
