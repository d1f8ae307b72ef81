// StepHelper: runs, on this scheduler, one step that another scheduler's run
// offered (step_offers; see executor.h), so that several schedulers share the
// steps of one run, not only whole runs.
//
// run_one() claims the oldest open offer with FOR UPDATE SKIP LOCKED (so no
// two schedulers run it), loads the run's DAG from its snapshot, runs the
// attempt exactly as the owner would (attempt.h), heartbeats the claim while
// it runs, and records the attempt's end, outputs, lineage and metrics. The
// owner learns of the end from the database and decides what follows. A
// claim the owner revoked (this scheduler looked dead), a cancelled run, or
// a run no longer running makes the helper stop the step; when its own
// scheduler stops (drain), the attempt is recorded interrupted, which the
// owner retries without using up a retry.
#pragma once

#include <functional>
#include <string>

#include "scheduler/execution/executor.h"
#include "store/blob_store.h"
#include "store/offer_records.h"
#include "store/store.h"

namespace twinflow {

class StepHelper {
 public:
  // `options`: as for an Executor; its claimer names this scheduler and its
  // cancel_requested turns true when this scheduler stops.
  StepHelper(Store& store, BlobStore& blobs, ExecutorOptions options,
             std::function<void(const std::string&)> log);

  // Claims one offer and runs it to its end. False when no offer was open.
  bool run_one();

 private:
  void run_claimed(const StepOffer& claim);

  Store& store_;
  BlobStore& blobs_;
  ExecutorOptions options_;
  std::function<void(const std::string&)> log_;
};

}  // namespace twinflow
