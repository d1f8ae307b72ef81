// The coalescing policy of data triggers. See trigger_policy.h for the rules.
#include "scheduler/daemon/trigger_policy.h"

#include <algorithm>

namespace twinflow {

TriggerDecision decide_trigger(const TriggerSpec& trigger, const PendingEvents& pending,
                               bool dag_run_active) {
  using Verdict = TriggerDecision::Verdict;
  TriggerDecision d;
  const int needed = trigger.kind == TriggerSpec::Kind::kDocuments ? trigger.min_new : 1;
  if (pending.count <= 0 || pending.count < needed) {
    d.reason = pending.count <= 0 ? "no events" : "fewer than min_new";
    return d;
  }
  if (dag_run_active) {
    d.verdict = Verdict::kWait;  // the run's end is seen by a later pass
    d.reason = "a run is queued or running";
    return d;
  }
  const Millis oldest{std::max<int64_t>(0, pending.oldest_age_ms)};
  const Millis newest{std::max<int64_t>(0, pending.newest_age_ms)};
  if (oldest >= trigger.max_wait) {
    d.verdict = Verdict::kFire;
    d.reason = "max_wait";
    return d;
  }
  const Millis to_max_wait = trigger.max_wait - oldest;
  if (pending.producer_running) {
    d.verdict = Verdict::kWait;
    d.recheck_in = to_max_wait;  // or earlier, when the producer's run ends
    d.reason = "the run that wrote them is still running";
    return d;
  }
  if (newest < trigger.debounce) {
    d.verdict = Verdict::kWait;
    d.recheck_in = std::min(trigger.debounce - newest, to_max_wait);
    d.reason = "debounce";
    return d;
  }
  d.verdict = Verdict::kFire;
  d.reason = "settled";
  return d;
}

EventFilter event_filter_of(const TriggerSpec& trigger) {
  EventFilter filter;
  filter.documents = trigger.kind == TriggerSpec::Kind::kDocuments;
  if (filter.documents)
    filter.platform = trigger.platform;
  else
    filter.artifact = trigger.artifact;
  return filter;
}

std::string describe_trigger(const TriggerSpec& trigger) {
  if (trigger.kind == TriggerSpec::Kind::kArtifact) return "on_artifact " + trigger.artifact;
  return "on_documents" + (trigger.platform.empty() ? "" : " (" + trigger.platform + ")");
}

}  // namespace twinflow
