// Tests for scheduler/daemon/trigger_policy.h (when waiting trigger events start a
// run: min_new, an active run, debounce, a producer still running, max_wait)
// and for the trigger keys `debounce` and `max_wait` of the DAG loader. Pure:
// every case states the ages the store would have measured.
#include "scheduler/daemon/trigger_policy.h"

#include <gtest/gtest.h>

#include <string>

#include "scheduler/definition/dag_loader.h"

namespace twinflow {
namespace {

using Verdict = TriggerDecision::Verdict;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

TriggerSpec artifact_trigger(Millis debounce = seconds(5), Millis max_wait = hours(1)) {
  TriggerSpec t;
  t.kind = TriggerSpec::Kind::kArtifact;
  t.artifact = "cleaned_documents";
  t.debounce = debounce;
  t.max_wait = max_wait;
  return t;
}

TriggerSpec documents_trigger(int min_new = 1) {
  TriggerSpec t;
  t.kind = TriggerSpec::Kind::kDocuments;
  t.min_new = min_new;
  return t;
}

PendingEvents pending(int count, int64_t oldest_ms, int64_t newest_ms, bool producer = false) {
  PendingEvents p;
  p.count = count;
  p.oldest_age_ms = oldest_ms;
  p.newest_age_ms = newest_ms;
  p.newest_event_id = 100;
  p.producer_running = producer;
  return p;
}

TEST(TriggerPolicy, NoEventsIsIdle) {
  const TriggerDecision d = decide_trigger(artifact_trigger(), pending(0, 0, 0), false);
  EXPECT_EQ(d.verdict, Verdict::kIdle);
  EXPECT_FALSE(d.recheck_in);
}

TEST(TriggerPolicy, FewerThanMinNewStaysIdleHoweverOld) {
  // min_new is a threshold, not a timer: max_wait does not lower it.
  const TriggerDecision d =
      decide_trigger(documents_trigger(5), pending(4, 86'400'000, 86'400'000), false);
  EXPECT_EQ(d.verdict, Verdict::kIdle);
  EXPECT_EQ(decide_trigger(documents_trigger(5), pending(5, 60'000, 60'000), false).verdict,
            Verdict::kFire);
}

TEST(TriggerPolicy, SettledEventsFire) {
  const TriggerDecision d = decide_trigger(artifact_trigger(), pending(3, 20'000, 5'000), false);
  EXPECT_EQ(d.verdict, Verdict::kFire);
  EXPECT_EQ(d.reason, "settled");
}

TEST(TriggerPolicy, AnActiveRunMakesEventsWaitEvenPastMaxWait) {
  // At most one run per DAG is queued or running: not even max_wait starts a second.
  const TriggerDecision d = decide_trigger(artifact_trigger(), pending(7, 7'200'000, 60'000), true);
  EXPECT_EQ(d.verdict, Verdict::kWait);
  EXPECT_FALSE(d.recheck_in);  // the run's end, not a timer, changes this
}

TEST(TriggerPolicy, EventsWaitOutTheDebounceAndSayWhenToLookAgain) {
  const TriggerDecision d = decide_trigger(artifact_trigger(), pending(2, 4'000, 1'500), false);
  EXPECT_EQ(d.verdict, Verdict::kWait);
  ASSERT_TRUE(d.recheck_in);
  EXPECT_EQ(*d.recheck_in, milliseconds(3'500));  // 5 s after the newest
  // Exactly at the end of the quiet period it fires.
  EXPECT_EQ(decide_trigger(artifact_trigger(), pending(2, 9'000, 5'000), false).verdict,
            Verdict::kFire);
}

TEST(TriggerPolicy, ARunStillWritingTheEventsHoldsThemUntilMaxWait) {
  // A crawl that commits documents one by one, with gaps longer than the debounce.
  const TriggerDecision d =
      decide_trigger(documents_trigger(), pending(18, 60'000, 30'000, true), false);
  EXPECT_EQ(d.verdict, Verdict::kWait);
  ASSERT_TRUE(d.recheck_in);
  EXPECT_EQ(*d.recheck_in, milliseconds(3'600'000 - 60'000));
  TriggerSpec capped = documents_trigger();
  capped.max_wait = seconds(60);
  const TriggerDecision late = decide_trigger(capped, pending(18, 60'000, 1'000, true), false);
  EXPECT_EQ(late.verdict, Verdict::kFire);
  EXPECT_EQ(late.reason, "max_wait");
}

TEST(TriggerPolicy, MaxWaitCutsAnEndlessTrickleShort) {
  // An event every second: never 5 s of quiet; the oldest waits 10 s at most.
  const TriggerSpec t = artifact_trigger(seconds(5), seconds(10));
  const TriggerDecision early = decide_trigger(t, pending(8, 8'000, 500), false);
  EXPECT_EQ(early.verdict, Verdict::kWait);
  EXPECT_EQ(*early.recheck_in, milliseconds(2'000));  // max_wait comes before the debounce
  EXPECT_EQ(decide_trigger(t, pending(10, 10'000, 500), false).verdict, Verdict::kFire);
}

TEST(TriggerPolicy, ZeroDebounceFiresAtOnce) {
  EXPECT_EQ(decide_trigger(artifact_trigger(Millis(0)), pending(1, 0, 0), false).verdict,
            Verdict::kFire);
}

TEST(TriggerPolicy, FiltersFollowTheTriggerKind) {
  const EventFilter a = event_filter_of(artifact_trigger());
  EXPECT_FALSE(a.documents);
  EXPECT_EQ(a.artifact, "cleaned_documents");
  TriggerSpec d = documents_trigger();
  d.platform = "medium";
  const EventFilter f = event_filter_of(d);
  EXPECT_TRUE(f.documents);
  EXPECT_EQ(f.platform, "medium");
  EXPECT_EQ(describe_trigger(d), "on_documents (medium)");
}

// --- the DAG keys ---

LoadResult load(const std::string& triggers) {
  return load_dag_string(
      "name: t\ntriggers:\n" + triggers + "steps:\n  - id: a\n    command: 'true'\n", "t.yaml");
}

TEST(TriggerKeys, DefaultsAreFiveSecondsAndOneHour) {
  LoadResult r = load("  - on_artifact: x\n");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.diagnostics);
  EXPECT_EQ(r.dag->triggers[0].debounce, seconds(5));
  EXPECT_EQ(r.dag->triggers[0].max_wait, hours(1));
}

TEST(TriggerKeys, DebounceAndMaxWaitSitBesideTheKind) {
  LoadResult r = load(
      "  - on_documents: {platform: medium, min_new: 2}\n    debounce: 30s\n    max_wait: 2h\n"
      "  - {on_artifact: x, debounce: 0s}\n");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.diagnostics);
  EXPECT_EQ(r.dag->triggers[0].debounce, seconds(30));
  EXPECT_EQ(r.dag->triggers[0].max_wait, hours(2));
  EXPECT_EQ(r.dag->triggers[0].min_new, 2);
  EXPECT_EQ(r.dag->triggers[1].debounce, Millis(0));
}

TEST(TriggerKeys, BadValuesAreOneClearLineEach) {
  const std::string bad_duration =
      format_diagnostics(load("  - {on_artifact: x, debounce: soon}\n").diagnostics);
  EXPECT_NE(bad_duration.find("bad duration 'soon' for 'debounce'"), std::string::npos)
      << bad_duration;
  const std::string zero =
      format_diagnostics(load("  - {on_artifact: x, max_wait: 0s}\n").diagnostics);
  EXPECT_NE(zero.find("'max_wait' of trigger at index 0 must be greater than zero"),
            std::string::npos)
      << zero;
  const std::string inverted =
      format_diagnostics(load("  - {on_artifact: x, debounce: 2m, max_wait: 1m}\n").diagnostics);
  EXPECT_NE(inverted.find("must not exceed its 'max_wait'"), std::string::npos) << inverted;
  const std::string kindless = format_diagnostics(load("  - {debounce: 1s}\n").diagnostics);
  EXPECT_NE(kindless.find("has no kind: expected 'on_artifact' or 'on_documents'"),
            std::string::npos)
      << kindless;
  const std::string typo =
      format_diagnostics(load("  - {on_artifact: x, debounse: 1s}\n").diagnostics);
  EXPECT_NE(typo.find("did you mean 'debounce'"), std::string::npos) << typo;
}

}  // namespace
}  // namespace twinflow
