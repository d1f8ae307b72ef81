// When a DAG's data trigger starts a run: the scheduler's decision, kept pure.
//
// Events (a new artifact version, a new document) arrive one by one: a crawl
// commits each page as it fetches it. Turning every pass's events into a run
// would start a dozen feature runs per crawl, and each of those a training.
// So events are coalesced into batches:
//
// * A DAG with a run queued or running gets no second run: new events wait
//   and the next run consumes all of them (the store enforces this too, under
//   a lock, whatever the number of schedulers).
// * Events wait until they settle: no new one for the trigger's `debounce`,
//   and no run that wrote one of them still running (the crawl that is still
//   fetching). One batch per crawl, however slowly it commits.
// * `max_wait` after the oldest waiting event, the batch fires even if it has
//   not settled (a producer that never stops).
// * An on_documents trigger waits for `min_new` events, however long.
//
// Nothing here reads a clock or a database: the caller passes what the
// store summed up (ages measured by the database's clock, so schedulers on
// machines with different clocks agree).
#pragma once

#include <optional>
#include <string>

#include "scheduler/definition/dag.h"
#include "store/trigger_records.h"

namespace twinflow {

struct TriggerDecision {
  enum class Verdict {
    kIdle,  // nothing to do: no events, or fewer than min_new
    kWait,  // events wait: a run is active, or they have not settled
    kFire,  // enqueue a run for them
  };
  Verdict verdict = Verdict::kIdle;
  // kWait: when the answer may change by time alone (the debounce or max_wait
  // runs out); none when only a new event or a run's end can change it.
  std::optional<Millis> recheck_in;
  std::string reason;  // for the daemon's log: "settled", "max_wait", "a run is active", ...
};

// The decision for one trigger of a DAG whose events `pending` are waiting;
// `dag_run_active`: a run of the DAG is queued or running.
TriggerDecision decide_trigger(const TriggerSpec& trigger, const PendingEvents& pending,
                               bool dag_run_active);

// The outbox events a trigger listens to.
EventFilter event_filter_of(const TriggerSpec& trigger);

// "on_artifact: NAME" or "on_documents (PLATFORM)", for logs.
std::string describe_trigger(const TriggerSpec& trigger);

}  // namespace twinflow
