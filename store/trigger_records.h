// The values the scheduler's trigger coalescing exchanges with the store
// (store.h, "Trigger batches"; migrations/0013_trigger_batches.sql).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace twinflow {

// Which outbox events a trigger listens to: new versions of `artifact`, or
// new documents (of `platform`; empty: any).
struct EventFilter {
  bool documents = false;
  std::string artifact;  // !documents
  std::string platform;  // documents
};

// The events of one filter a pipeline has not consumed yet, summed up.
struct PendingEvents {
  int count = 0;
  int64_t oldest_age_ms = 0;  // since the oldest of them was recorded (database clock)
  int64_t newest_age_ms = 0;  // since the newest
  int64_t newest_event_id = 0;
  // A run that wrote one of them (the crawl of a document, the producer of an
  // artifact version) is still running: more of the same batch may follow.
  bool producer_running = false;
};

// A run enqueued for a batch of events.
struct TriggeredRun {
  int64_t run_id = 0;
  int events = 0;  // how many it consumed
};

// An event a run consumed: what it was and where its data came from.
struct ConsumedEvent {
  int64_t event_id = 0;
  std::string kind;  // artifact_version, document
  std::string created_at;
  std::string consumed_at;
  // artifact_version
  std::string artifact;
  int version = 0;
  int64_t artifact_version_id = 0;
  // document
  int64_t document_id = 0;
  int document_version = 0;
  std::string platform;
  std::string url;
  // the attempt that wrote the data, and its run (0: written outside a run)
  int64_t producer_step_run_id = 0;
  int64_t producer_run_id = 0;
};

}  // namespace twinflow
