// OpenLineageSink (see openlineage_sink.h).
#include "scheduler/execution/openlineage_sink.h"

#include <curl/curl.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "scheduler/definition/cron.h"
#include "store/run_ledger.h"
#include "util/sha256.h"

namespace twinflow {

namespace {

const char* const kProducer = "https://github.com/twinflow/twinflow";
const char* const kSchemaUrl = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";

std::string now_iso() {
  return format_iso8601_utc(
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
}

nlohmann::json dataset(const std::string& ns, const NamedVersion& v) {
  return {{"namespace", ns},
          {"name", v.version.artifact},
          {"facets",
           {{"version",
             {{"_producer", kProducer},
              {"_schemaURL",
               "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json"},
              {"datasetVersion", std::to_string(v.version.version)}}}}}};
}

}  // namespace

std::unique_ptr<ProgressSink> openlineage_from_environment(Store& store, ProgressSink& next) {
  auto target = OpenLineageTarget::from_environment();
  if (!target) return nullptr;
  return std::make_unique<OpenLineageSink>(store, next, *target);
}

std::unique_ptr<OpenLineageTarget> OpenLineageTarget::from_environment() {
  const char* url = std::getenv("TWINFLOW_OPENLINEAGE_URL");
  const char* file = std::getenv("TWINFLOW_OPENLINEAGE_FILE");
  if (!(url && *url) && !(file && *file)) return nullptr;
  auto target = std::make_unique<OpenLineageTarget>();
  if (url) target->url = url;
  if (file) target->file = file;
  if (const char* ns = std::getenv("TWINFLOW_OPENLINEAGE_NAMESPACE"); ns && *ns)
    target->job_namespace = ns;
  return target;
}

std::string uuid_from(const std::string& text) {
  std::string hex = sha256_hex(text).substr(0, 32);
  hex[12] = '5';                                                    // version 5 layout
  hex[16] = "89ab"[std::stoi(hex.substr(16, 1), nullptr, 16) & 3];  // RFC 4122 variant
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

OpenLineageSink::OpenLineageSink(Store& store, ProgressSink& next, OpenLineageTarget target)
    : store_(store), next_(next), target_(std::move(target)) {}

OpenLineageSink::~OpenLineageSink() = default;

nlohmann::json OpenLineageSink::event(const std::string& type, const Step& step, int attempt) {
  const std::string run_key = "twinflow:" + std::to_string(run_id_);
  return {{"eventType", type},
          {"eventTime", now_iso()},
          {"producer", kProducer},
          {"schemaURL", kSchemaUrl},
          {"run",
           {{"runId", uuid_from(run_key + ":" + step.id + ":" + std::to_string(attempt))},
            {"facets",
             {{"parent",
               {{"_producer", kProducer},
                {"_schemaURL", "https://openlineage.io/spec/facets/1-0-1/ParentRunFacet.json"},
                {"run", {{"runId", uuid_from(run_key)}}},
                {"job", {{"namespace", target_.job_namespace}, {"name", pipeline_}}}}}}}}},
          {"job", {{"namespace", target_.job_namespace}, {"name", pipeline_ + "." + step.id}}},
          {"inputs", nlohmann::json::array()},
          {"outputs", nlohmann::json::array()}};
}

void OpenLineageSink::emit(const nlohmann::json& event) {
  const std::string line = event.dump();
  bool ok = true;
  std::string why;
  if (!target_.url.empty()) {
    CURL* curl = curl_easy_init();
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, target_.url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, line.c_str());
    curl_easy_setopt(
        curl, CURLOPT_WRITEFUNCTION,
        +[](char*, size_t size, size_t count, void*) { return size * count; });
    const CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    ok = rc == CURLE_OK && status >= 200 && status < 300;
    why = rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP " + std::to_string(status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
  } else {
    std::ofstream out(target_.file, std::ios::app);
    out << line << "\n";
    ok = bool(out);
    why = "cannot write " + target_.file;
  }
  if (!ok && !reported_failure_) {
    reported_failure_ = true;
    std::cerr << "twinflow: OpenLineage events are not delivered (" << why << ")\n";
  }
}

void OpenLineageSink::run_started(int64_t run_id, const Dag& dag, size_t steps_to_run) {
  run_id_ = run_id;
  pipeline_ = dag.name;
  next_.run_started(run_id, dag, steps_to_run);
}

void OpenLineageSink::step_started(const Step& step, int attempt, const std::string& log) {
  emit(event("START", step, attempt));
  next_.step_started(step, attempt, log);
}

void OpenLineageSink::step_ended(const Step& step, const StepEnd& end) {
  const bool succeeded = end.status == "succeeded" || end.status == "cached";
  nlohmann::json e = event(succeeded ? "COMPLETE" : "FAIL", step, end.attempt);
  if (auto attempt = store_.runs().find_step_run(run_id_, step.id, end.attempt)) {
    for (const LineageEdge& edge : store_.runs().edges_of_step_run(attempt->id))
      e[edge.direction == "input" ? "inputs" : "outputs"].push_back(
          dataset(target_.job_namespace, {edge.name, edge.version}));
    if (!succeeded)
      e["run"]["facets"]["errorMessage"] = {
          {"_producer", kProducer},
          {"_schemaURL", "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json"},
          {"message", end.reason.empty() ? end.status : end.reason},
          {"programmingLanguage", "shell"}};
  }
  emit(e);
  next_.step_ended(step, end);
}

void OpenLineageSink::steps_skipped(const std::vector<const Step*>& steps,
                                    const std::string& status) {
  next_.steps_skipped(steps, status);
}

void OpenLineageSink::run_finished(int64_t run_id, const std::string& status, double seconds) {
  next_.run_finished(run_id, status, seconds);
}

}  // namespace twinflow
