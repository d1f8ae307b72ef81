// OpenLineageSink: an OpenLineage RunEvent for every step attempt a run
// executes, for lineage tools (Marquez, DataHub, ...) that speak OpenLineage.
//
// START when an attempt starts, then COMPLETE (with the attempt's input and
// output artifact versions as datasets, read from the store's lineage edges)
// or FAIL (also for timeouts and cancellations) when it ends; cached attempts
// are COMPLETE at once. Each attempt is an OpenLineage run (a UUID derived from
// the twinflow run, step and attempt) of the job "PIPELINE.STEP", with the
// twinflow run as its parent. Events go to a file (one JSON object per line)
// or are POSTed to an HTTP endpoint; a failing endpoint is reported once on
// stderr and never fails the run.
//
// It decorates another ProgressSink (the console's, say): every event is
// passed on to it unchanged.
#pragma once

#include <memory>
#include <string>

#include "scheduler/execution/progress.h"
#include "store/store.h"

namespace twinflow {

struct OpenLineageTarget {
  std::string url;  // POST each event here (the API endpoint, e.g. http://host:5000/api/v1/lineage)
  std::string file;  // else append each event to this file
  std::string job_namespace = "twinflow";

  // From TWINFLOW_OPENLINEAGE_URL, TWINFLOW_OPENLINEAGE_FILE and
  // TWINFLOW_OPENLINEAGE_NAMESPACE; nullptr when neither destination is set.
  static std::unique_ptr<OpenLineageTarget> from_environment();
};

class OpenLineageSink : public ProgressSink {
 public:
  OpenLineageSink(Store& store, ProgressSink& next, OpenLineageTarget target);
  ~OpenLineageSink() override;

  void run_started(int64_t run_id, const Dag& dag, size_t steps_to_run) override;
  void step_started(const Step& step, int attempt, const std::string& log) override;
  void step_ended(const Step& step, const StepEnd& end) override;
  void steps_skipped(const std::vector<const Step*>& steps, const std::string& status) override;
  void run_finished(int64_t run_id, const std::string& status, double seconds) override;

 private:
  void emit(const nlohmann::json& event);
  nlohmann::json event(const std::string& type, const Step& step, int attempt);

  Store& store_;
  ProgressSink& next_;
  OpenLineageTarget target_;
  int64_t run_id_ = 0;
  std::string pipeline_;
  bool reported_failure_ = false;
};

// `next` decorated with OpenLineage events when the environment names a
// target (OpenLineageTarget::from_environment), else nullptr: the caller then
// reports to `next` alone. What `twinflow run` and the daemon use.
std::unique_ptr<ProgressSink> openlineage_from_environment(Store& store, ProgressSink& next);

// A UUID (version 5 layout) made from `text`'s SHA-256: the same attempt
// always gets the same OpenLineage run id.
std::string uuid_from(const std::string& text);

}  // namespace twinflow
