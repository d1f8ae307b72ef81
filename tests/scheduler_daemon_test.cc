// The scheduler daemon over a real PostgreSQL with real step processes: cron
// ticks fired once each (catchup on and off after an outage, with the clock
// injected), pauses, data triggers from the outbox (a new artifact version,
// new documents), two scheduler processes sharing one queue, and
// `twinflow scheduler` woken by LISTEN/NOTIFY and drained by SIGTERM.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <atomic>
#include <pqxx/pqxx>
#include <thread>

#include "cctz/civil_time.h"
#include "scheduler/daemon/daemon.h"
#include "scheduler/execution/runner.h"
#include "store/feature_store.h"
#include "store/run_ledger.h"
#include "store/run_queue.h"
#include "tests/support/twinflow_fixture.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

using Clock = std::chrono::system_clock;

// An instant given in UTC.
Clock::time_point utc(int year, int month, int day, int hour, int minute = 0) {
  const auto civil = cctz::civil_second(year, month, day, hour, minute, 0);
  return Clock::time_point(std::chrono::seconds((civil - cctz::civil_second(1970, 1, 1, 0, 0, 0))));
}

class SchedulerDaemonTest : public TwinflowTest {
 protected:
  // One pass at `now`; `stop` true from the start fires and consumes but
  // claims nothing.
  PassSummary pass(
      Clock::time_point now, std::function<bool()> stop = [] { return false; }) {
    DaemonOptions options;
    options.dags_dir = home / "dags";
    options.executor = default_options();
    options.pid = static_cast<int>(::getpid());
    options.clock = [now] { return now; };
    SchedulerDaemon daemon(*store, *blobs, options);
    return daemon.run_once(stop);
  }

  std::string daily(bool catchup, int max_active_runs = 1) {
    return write_dag("daily",
                     "name: daily\nschedule: {cron: '0 6 * * *', timezone: UTC, catchup: " +
                         std::string(catchup ? "true" : "false") +
                         ", max_active_runs: " + std::to_string(max_active_runs) +
                         "}\nsteps:\n  - id: work\n    command: echo tick\n");
  }

  std::vector<RunRecord> runs_of(const std::string& pipeline) {
    RunFilter filter;
    filter.pipeline = pipeline;
    filter.limit = 1000;
    std::vector<RunRecord> runs = store->runs().list_runs(filter);
    std::reverse(runs.begin(), runs.end());  // oldest first
    return runs;
  }

  std::vector<std::string> logical_times(const std::string& pipeline) {
    std::vector<std::string> out;
    for (const RunRecord& run : runs_of(pipeline)) out.push_back(run.logical_time);
    return out;
  }
};

TEST_F(SchedulerDaemonTest, AScheduledDagRunsOncePerTickWithItsLogicalTime) {
  daily(false);
  PassSummary first = pass(utc(2026, 3, 10, 7));
  EXPECT_EQ(first.scheduled, 1);
  ASSERT_EQ(first.executed.size(), 1u);
  auto run = store->runs().find_run(first.executed[0]);
  EXPECT_EQ(run->status, "succeeded");
  EXPECT_EQ(run->trigger, "schedule");
  EXPECT_EQ(run->logical_time, "2026-03-10T06:00:00Z");

  PassSummary again = pass(utc(2026, 3, 10, 9));  // same tick still the latest
  EXPECT_EQ(again.scheduled, 0);
  EXPECT_TRUE(again.executed.empty());
  EXPECT_EQ(runs_of("daily").size(), 1u);
}

TEST_F(SchedulerDaemonTest, TheDaemonWakesForTheNextTickRatherThanAPollIntervalLater) {
  daily(false);
  DaemonOptions options;
  options.dags_dir = home / "dags";
  options.executor = default_options();
  options.pid = static_cast<int>(::getpid());
  options.poll_interval = std::chrono::milliseconds(60000);
  const auto now = utc(2026, 3, 2, 5, 59) + std::chrono::milliseconds(59500);
  options.clock = [now] { return now; };
  SchedulerDaemon daemon(*store, *blobs, options);
  std::vector<std::chrono::milliseconds> waits;
  daemon.serve([&] { return waits.size() == 1; },
               [&](std::chrono::milliseconds wait) { waits.push_back(wait); });
  ASSERT_EQ(waits.size(), 1u);
  EXPECT_EQ(waits[0], std::chrono::milliseconds(501));  // 06:00:00, plus a millisecond
}

TEST_F(SchedulerDaemonTest, CatchupRunsEveryTickMissedDuringAnOutage) {
  daily(true, 10);
  pass(utc(2026, 3, 10, 7));
  PassSummary after_outage = pass(utc(2026, 3, 13, 7));  // down for three days
  EXPECT_EQ(after_outage.scheduled, 3);
  EXPECT_EQ(after_outage.executed.size(), 3u);
  EXPECT_EQ(logical_times("daily"),
            (std::vector<std::string>{"2026-03-10T06:00:00Z", "2026-03-11T06:00:00Z",
                                      "2026-03-12T06:00:00Z", "2026-03-13T06:00:00Z"}));
  for (const RunRecord& run : runs_of("daily")) EXPECT_EQ(run.status, "succeeded");
}

TEST_F(SchedulerDaemonTest, WithoutCatchupOnlyTheLatestMissedTickRuns) {
  daily(false);
  pass(utc(2026, 3, 10, 7));
  PassSummary after_outage = pass(utc(2026, 3, 13, 7));
  EXPECT_EQ(after_outage.scheduled, 1);
  EXPECT_EQ(logical_times("daily"),
            (std::vector<std::string>{"2026-03-10T06:00:00Z", "2026-03-13T06:00:00Z"}));
}

TEST_F(SchedulerDaemonTest, MaxActiveRunsHoldsBackTicksWhileRunsAreQueued) {
  daily(true, 1);
  pass(utc(2026, 3, 10, 7));
  // A queued run of the DAG counts as active: the catchup waits for it.
  store->queue().enqueue_run(new_run_of(load(home / "dags" / "daily.yaml"), "api"), {});
  PassSummary held = pass(utc(2026, 3, 12, 7), [] { return true; });  // executes nothing
  EXPECT_EQ(held.scheduled, 0);
  EXPECT_EQ(store->queue().active_runs("daily"), 1);
}

TEST_F(SchedulerDaemonTest, APausedDagStartsNothingUntilUnpaused) {
  daily(false);
  store->queue().set_paused("daily", true);
  EXPECT_EQ(pass(utc(2026, 3, 10, 7)).scheduled, 0);
  EXPECT_TRUE(runs_of("daily").empty());
  store->queue().set_paused("daily", false);
  EXPECT_EQ(pass(utc(2026, 3, 10, 7)).scheduled, 1);
}

TEST_F(SchedulerDaemonTest, ANewArtifactVersionStartsTheTriggeredDagExactlyOnce) {
  const std::string producer =
      write_dag("producer",
                "name: producer\nparams: {text: v1}\nsteps:\n  - id: make\n"
                "    outputs: [{name: data, artifact: instruct_dataset}]\n"
                "    command: echo ${params.text} > \"$TWINFLOW_OUTPUT_DIR/data\"\n");
  write_dag("training",
            "name: training\ntriggers: [{on_artifact: instruct_dataset, debounce: 0s}]\nsteps:\n"
            "  - id: train\n    command: echo training\n");
  ASSERT_EQ(execute(prepare_fresh_run(load(producer))).status, "succeeded");

  PassSummary first = pass(Clock::now());
  EXPECT_EQ(first.triggered, 1);
  ASSERT_EQ(first.executed.size(), 1u);
  auto run = store->runs().find_run(first.executed[0]);
  EXPECT_EQ(run->pipeline, "training");
  EXPECT_EQ(run->trigger, "event");
  EXPECT_EQ(run->status, "succeeded");
  EXPECT_TRUE(run->event_id.has_value());

  EXPECT_EQ(pass(Clock::now()).triggered, 0);  // consumed: never again
  // The same content again is no new version, so no event.
  ASSERT_EQ(execute(prepare_fresh_run(load(producer))).status, "succeeded");
  EXPECT_EQ(pass(Clock::now()).triggered, 0);
  ASSERT_EQ(execute(prepare_fresh_run(load(producer, {{"text", "v2"}}))).status, "succeeded");
  EXPECT_EQ(pass(Clock::now()).triggered, 1);
  EXPECT_EQ(runs_of("training").size(), 2u);
}

TEST_F(SchedulerDaemonTest, ATriggeredRunTrainsOnTheVersionWhoseEventStartedIt) {
  const std::string producer =
      write_dag("producer",
                "name: producer\nparams: {text: v1}\nsteps:\n  - id: make\n"
                "    outputs: [{name: data, artifact: instruct_dataset}]\n"
                "    command: echo ${params.text} > \"$TWINFLOW_OUTPUT_DIR/data\"\n");
  write_dag("training",
            "name: training\ntriggers: [{on_artifact: instruct_dataset, debounce: 0s}]\nsteps:\n"
            "  - id: train\n    inputs: {data: 'artifact:instruct_dataset'}\n"
            "    outputs: [{name: seen, artifact: trained_on}]\n"
            "    command: cp \"$TWINFLOW_INPUT_DATA\" \"$TWINFLOW_OUTPUT_DIR/seen\"\n");
  ASSERT_EQ(execute(prepare_fresh_run(load(producer))).status, "succeeded");
  // The event of v1 is consumed and its run queued, but not run yet ...
  EXPECT_EQ(pass(Clock::now(), [] { return true; }).triggered, 1);
  // ... when v2 appears: it waits, as no second run is queued beside the first.
  ASSERT_EQ(execute(prepare_fresh_run(load(producer, {{"text", "v2"}}))).status, "succeeded");
  PassSummary second = pass(Clock::now());
  EXPECT_EQ(second.triggered, 0);
  ASSERT_EQ(second.executed.size(), 1u);  // v1's run
  PassSummary third = pass(Clock::now());
  EXPECT_EQ(third.triggered, 1);  // v2's event, now that v1's run has ended
  ASSERT_EQ(third.executed.size(), 1u);
  std::vector<std::string> seen;
  for (const auto& v : store->runs().artifact_versions("trained_on"))
    seen.push_back(read_file(fs::path(v.uri)));
  // Each run saw the version that started it (newest first).
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1], "v1\n");
  EXPECT_EQ(seen[0], "v2\n");
}

TEST_F(SchedulerDaemonTest, NewDocumentsStartAnOnDocumentsTriggerOncePastMinNew) {
  write_dag(
      "features",
      "name: features\ntriggers: [{on_documents: {platform: medium, min_new: 3}, debounce: 0s}]\n"
      "steps:\n  - id: clean\n    command: echo cleaning\n");
  auto add = [this](const std::string& platform, int n) {
    DocumentToStore doc;
    doc.author = "tester";
    doc.platform = platform;
    doc.kind = platform == "linkedin" ? "post" : "article";
    doc.url = "https://example.com/" + platform + "/" + std::to_string(n);
    doc.title = "Post " + std::to_string(n);
    doc.content = "Text number " + std::to_string(n);
    store->features().upsert_document(doc);
  };
  add("medium", 1);
  add("medium", 2);
  add("linkedin", 3);  // another platform does not count
  EXPECT_EQ(pass(Clock::now()).triggered, 0);
  add("medium", 4);
  PassSummary fired = pass(Clock::now());
  EXPECT_EQ(fired.triggered, 1);
  EXPECT_EQ(fired.executed.size(), 1u);
  EXPECT_EQ(pass(Clock::now()).triggered, 0);
}

TEST_F(SchedulerDaemonTest, TwoSchedulerProcessesShare200StepsAndRunEachOnce) {
  const Dag dag = load(write_dag("noop",
                                 "name: noop\nsteps:\n  - id: a\n    command: 'true'\n"
                                 "  - id: b\n    needs: [a]\n    command: 'true'\n"));
  std::vector<int64_t> queued;
  for (int i = 0; i < 100; ++i)
    queued.push_back(*store->queue().enqueue_run(new_run_of(dag, "api"), {}));
  const fs::path empty_dags = home / "no-dags";
  fs::create_directories(empty_dags);
  std::vector<pid_t> schedulers;
  for (int i = 0; i < 2; ++i)
    schedulers.push_back(
        spawn_twinflow({"scheduler", "--once", "--dags-dir", empty_dags.string(), "-j", "2"},
                       (home / ("scheduler" + std::to_string(i) + ".log")).string()));
  for (pid_t pid : schedulers) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << read_file(home / "scheduler0.log") << read_file(home / "scheduler1.log");
  }
  pqxx::connection c(conninfo);
  pqxx::nontransaction tx(c);
  for (int64_t run_id : queued) {
    EXPECT_EQ(store->runs().find_run(run_id)->status, "succeeded") << run_id;
    EXPECT_EQ(attempts_of(run_id, "a"), 1) << run_id;
    EXPECT_EQ(attempts_of(run_id, "b"), 1) << run_id;
  }
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM step_runs")[0].as<int>(), 200);  // 200 steps, each once
}

TEST_F(SchedulerDaemonTest, TheDaemonWakesOnATriggeredRunAndDrainsOnSigterm) {
  const std::string dag = write_dag("hello",
                                    "name: hello\nsteps:\n  - id: greet\n"
                                    "    command: echo hello\n");
  const std::string log = (home / "daemon.log").string();
  pid_t daemon = spawn_twinflow(
      {"scheduler", "--dags-dir", (home / "dags").string(), "--poll-ms", "60000", "--grace", "5"},
      log);
  // Wait for it to be listening (it registers itself first).
  pqxx::connection c(conninfo);
  for (int i = 0; i < 200; ++i) {
    pqxx::nontransaction tx(c);
    if (tx.exec1("SELECT count(*) FROM schedulers")[0].as<int>() > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // past its first pass
  // `trigger` NOTIFYs on commit: with a 60 s poll interval, only that can
  // wake the daemon within the 15 s this test waits.
  auto queued = twinflow({"trigger", dag, "--json"});
  ASSERT_EQ(queued.exit_code, 0) << queued.err;
  const int64_t run_id = nlohmann::json::parse(queued.out)["run_id"];
  std::string status;
  for (int i = 0; i < 300 && status != "succeeded"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = store->runs().find_run(run_id)->status;
  }
  EXPECT_EQ(status, "succeeded") << read_file(log);

  ASSERT_EQ(::kill(daemon, SIGTERM), 0);
  int wait_status = 0;
  ASSERT_EQ(::waitpid(daemon, &wait_status, 0), daemon);
  EXPECT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) << read_file(log);
  pqxx::nontransaction tx(c);
  EXPECT_FALSE(tx.exec1("SELECT stopped_at FROM schedulers")[0].is_null());
}

TEST_F(SchedulerDaemonTest, AKilledSchedulersRunIsResumedAndNoStepRunsTwice) {
  const fs::path marker = home / "second-attempt";
  const std::string dag = write_dag("long",
                                    "name: long\nsteps:\n  - id: first\n    command: echo first\n"
                                    "  - id: slow\n    needs: [first]\n    command: \"if [ -e '" +
                                        marker.string() + "' ]; then exit 0; fi; touch '" +
                                        marker.string() + "'; sleep 60\"\n");
  auto queued = twinflow({"trigger", dag, "--json"});
  ASSERT_EQ(queued.exit_code, 0) << queued.err;
  const int64_t run_id = nlohmann::json::parse(queued.out)["run_id"];
  const std::string log = (home / "killed.log").string();
  pid_t daemon = spawn_twinflow(
      {"scheduler", "--dags-dir", (home / "no-dags").string(), "--poll-ms", "100"}, log);
  for (int i = 0; i < 400 && !fs::exists(marker); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(marker)) << read_file(log);
  ASSERT_EQ(::kill(daemon, SIGKILL), 0);  // mid-step, no chance to clean up
  ::waitpid(daemon, nullptr, 0);

  // The next pass on this host notices, records it interrupted and finishes it.
  PassSummary pass_after = pass(Clock::now());
  EXPECT_EQ(pass_after.resumed, 1);
  ASSERT_EQ(pass_after.executed.size(), 1u);
  const int64_t resumed = pass_after.executed[0];
  EXPECT_EQ(store->runs().find_run(run_id)->status, "interrupted");
  auto child = store->runs().find_run(resumed);
  EXPECT_EQ(child->status, "succeeded");
  EXPECT_EQ(child->parent_run_id, run_id);
  EXPECT_EQ(step_state(resumed, "first"), "reused");
  EXPECT_EQ(attempts_of(run_id, "first"), 1);
  EXPECT_EQ(attempts_of(resumed, "first"), 0);  // not executed again
  EXPECT_EQ(attempts_of(resumed, "slow"), 1);
  EXPECT_EQ(pass(Clock::now()).resumed, 0);  // resumed once only
}

}  // namespace
}  // namespace twinflow

namespace twinflow {
namespace {

TEST_F(SchedulerDaemonTest, ALongRunDoesNotHoldBackTheRunQueuedAfterIt) {
  const fs::path flag = home / "quick-ran";
  // The first run can only succeed if the second runs while it waits.
  const Dag slow = load(
      write_dag("slow",
                "name: slow\nsteps:\n  - id: wait\n    cache: false\n    command: \"for i in $(seq "
                "400); do [ -e '" +
                    flag.string() + "' ] && exit 0; sleep 0.05; done; exit 1\"\n"));
  const Dag quick = load(write_dag(
      "quick", "name: quick\nsteps:\n  - id: touch\n    cache: false\n    command: \"touch '" +
                   flag.string() + "'\"\n"));
  const int64_t slow_run = *store->queue().enqueue_run(new_run_of(slow, "api"), {});
  const int64_t quick_run = *store->queue().enqueue_run(new_run_of(quick, "api"), {});
  DaemonOptions options;
  options.dags_dir = home / "no-dags";
  options.executor = default_options();
  options.pid = static_cast<int>(::getpid());
  options.max_parallel_runs = 2;
  SchedulerDaemon daemon(*store, *blobs, options);
  const PassSummary summary = daemon.run_once();
  EXPECT_EQ(summary.executed.size(), 2u);
  EXPECT_EQ(store->runs().find_run(slow_run)->status, "succeeded");
  EXPECT_EQ(store->runs().find_run(quick_run)->status, "succeeded");
}

// --- Trigger batches (scheduler/daemon/trigger_policy.h) ---

class TriggerBatchTest : public SchedulerDaemonTest {
 protected:
  void SetUp() override {
    SchedulerDaemonTest::SetUp();
    producer_ = write_dag("producer",
                          "name: producer\nparams: {text: v1}\nsteps:\n  - id: make\n"
                          "    outputs: [{name: data, artifact: instruct_dataset}]\n"
                          "    command: echo ${params.text} > \"$TWINFLOW_OUTPUT_DIR/data\"\n");
  }
  void consumer(const std::string& trigger_settings) {
    write_dag("training",
              "name: training\ntriggers: [{on_artifact: instruct_dataset" + trigger_settings +
                  "}]\nsteps:\n"
                  "  - id: train\n    inputs: {data: 'artifact:instruct_dataset'}\n"
                  "    outputs: [{name: seen, artifact: trained_on}]\n"
                  "    command: cp \"$TWINFLOW_INPUT_DATA\" \"$TWINFLOW_OUTPUT_DIR/seen\"\n");
  }
  void make_version(const std::string& text) {
    ASSERT_EQ(execute(prepare_fresh_run(load(producer_, {{"text", text}}))).status, "succeeded");
  }
  // Moves every event back in time, as if the database clock had run on.
  void age_events(std::chrono::minutes by) {
    pqxx::connection c(conninfo);
    pqxx::nontransaction tx(c);
    tx.exec_params("UPDATE outbox_events SET created_at = created_at - $1 * interval '1 minute'",
                   static_cast<int>(by.count()));
  }
  std::vector<int> versions_consumed(int64_t run_id) {
    std::vector<int> out;
    for (const ConsumedEvent& e : store->queue().run_events(run_id)) out.push_back(e.version);
    return out;
  }
  std::string producer_;
};

TEST_F(TriggerBatchTest, EventsArrivingWhileARunIsQueuedWaitAndTheNextRunTakesThemAll) {
  consumer(", debounce: 0s");
  make_version("v1");
  ASSERT_EQ(pass(Clock::now(), [] { return true; }).triggered, 1);  // queued, not run
  make_version("v2");
  make_version("v3");
  make_version("v4");
  EXPECT_EQ(pass(Clock::now(), [] { return true; }).triggered, 0);  // one is queued already
  PassSummary first = pass(Clock::now());
  EXPECT_EQ(first.triggered, 0);
  ASSERT_EQ(first.executed.size(), 1u);
  PassSummary second = pass(Clock::now());
  EXPECT_EQ(second.triggered, 1);
  ASSERT_EQ(second.executed.size(), 1u);
  EXPECT_EQ(runs_of("training").size(), 2u);
  EXPECT_EQ(versions_consumed(first.executed[0]), (std::vector<int>{1}));
  EXPECT_EQ(versions_consumed(second.executed[0]), (std::vector<int>{2, 3, 4}));
  // The batch's run trains on the newest version it consumed.
  EXPECT_EQ(read_file(fs::path(store->runs().artifact_versions("trained_on")[0].uri)), "v4\n");
  // `twinflow show RUN --json` lists them.
  auto shown = twinflow({"show", std::to_string(second.executed[0]), "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const auto events = nlohmann::json::parse(shown.out)["events"];
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2]["artifact"], "instruct_dataset");
  EXPECT_EQ(events[2]["version"], 4);
  EXPECT_TRUE(events[2]["producer_run_id"].is_number());
  EXPECT_EQ(pass(Clock::now()).triggered, 0);  // nothing left
}

TEST_F(TriggerBatchTest, TheDebounceHoldsEventsUntilTheyHaveBeenQuiet) {
  consumer(", debounce: 30m, max_wait: 2h");
  make_version("v1");
  const Clock::time_point now = Clock::now();
  PassSummary waiting = pass(now);
  EXPECT_EQ(waiting.triggered, 0);
  ASSERT_TRUE(waiting.next_tick);  // the daemon wakes when the quiet period ends
  EXPECT_GT(*waiting.next_tick, now + std::chrono::minutes(29));
  EXPECT_LE(*waiting.next_tick, now + std::chrono::minutes(30));
  make_version("v2");
  age_events(std::chrono::minutes(20));
  EXPECT_EQ(pass(Clock::now()).triggered, 0);  // 20 minutes of quiet are not 30
  age_events(std::chrono::minutes(15));
  PassSummary fired = pass(Clock::now());
  EXPECT_EQ(fired.triggered, 1);
  ASSERT_EQ(fired.executed.size(), 1u);
  EXPECT_EQ(versions_consumed(fired.executed[0]), (std::vector<int>{1, 2}));
}

TEST_F(TriggerBatchTest, MaxWaitStartsARunThoughEventsKeepComing) {
  consumer(", debounce: 30m, max_wait: 1h");
  make_version("v1");
  age_events(std::chrono::minutes(50));
  make_version("v2");
  EXPECT_EQ(pass(Clock::now()).triggered, 0);  // the oldest has waited 50 minutes
  age_events(std::chrono::minutes(11));
  make_version("v3");  // never quiet for 30 minutes
  PassSummary fired = pass(Clock::now());
  EXPECT_EQ(fired.triggered, 1);
  ASSERT_EQ(fired.executed.size(), 1u);
  EXPECT_EQ(versions_consumed(fired.executed[0]), (std::vector<int>{1, 2, 3}));
}

TEST_F(SchedulerDaemonTest, DocumentsWaitForTheEndOfTheRunThatIsWritingThem) {
  write_dag("features",
            "name: features\ntriggers: [{on_documents: null, debounce: 0s}]\n"
            "steps:\n  - id: clean\n    command: echo cleaning\n");
  const Dag crawler = load(write_dag("crawler",
                                     "name: crawler\nsteps:\n  - id: crawl\n"
                                     "    command: 'true'\n"));
  const int64_t crawl_run = store->runs().create_run(new_run_of(crawler, "manual"));
  const int64_t attempt = store->runs().start_attempt(crawl_run, "crawl", 1, "here", 1, "", "");
  for (int n = 0; n < 3; ++n) {
    DocumentToStore doc;
    doc.author = "tester";
    doc.platform = "medium";
    doc.kind = "article";
    doc.url = "https://example.com/post/" + std::to_string(n);
    doc.title = "Post";
    doc.content = "Text " + std::to_string(n);
    doc.step_run_id = attempt;
    store->features().upsert_document(doc);
    // However long the crawl pauses between pages, nothing starts while it runs.
    EXPECT_EQ(pass(Clock::now(), [] { return true; }).triggered, 0);
  }
  store->runs().finish_run(crawl_run, run_status::kSucceeded);
  PassSummary fired = pass(Clock::now(), [] { return true; });
  EXPECT_EQ(fired.triggered, 1);
  const std::vector<RunRecord> runs = runs_of("features");
  ASSERT_EQ(runs.size(), 1u);
  const std::vector<ConsumedEvent> events = store->queue().run_events(runs[0].id);
  ASSERT_EQ(events.size(), 3u);
  for (const ConsumedEvent& e : events) {
    EXPECT_EQ(e.kind, "document");
    EXPECT_EQ(e.producer_run_id, crawl_run);
    EXPECT_EQ(e.producer_step_run_id, attempt);
  }
  EXPECT_EQ(events[0].url, "https://example.com/post/0");
}

TEST_F(SchedulerDaemonTest, SchedulersDecidingAtOnceQueueOneRunAndConsumeEachEventOnce) {
  const Dag features = load(write_dag("features",
                                      "name: features\ntriggers: [{on_documents: null}]\n"
                                      "steps:\n  - id: clean\n    command: 'true'\n"));
  EventFilter all_documents;
  all_documents.documents = true;
  int next_doc = 0;
  auto add_documents = [&](int n) {
    for (int i = 0; i < n; ++i, ++next_doc) {
      DocumentToStore doc;
      doc.author = "tester";
      doc.platform = "web";
      doc.kind = "article";
      doc.url = "https://example.com/" + std::to_string(next_doc);
      doc.title = "Page";
      doc.content = "Text " + std::to_string(next_doc);
      store->features().upsert_document(doc);
    }
  };
  pqxx::connection c(conninfo);
  for (int round = 0; round < 5; ++round) {
    add_documents(10 + round);
    std::vector<std::optional<TriggeredRun>> results(6);
    std::vector<std::thread> schedulers;
    std::atomic<int> ready{0};
    for (size_t i = 0; i < results.size(); ++i)
      schedulers.emplace_back([&, i] {
        Store own(conninfo);
        ++ready;
        while (ready.load() < static_cast<int>(results.size())) std::this_thread::yield();
        results[i] = own.queue().enqueue_triggered_run("features", {all_documents},
                                                       new_run_of(features, "event"));
      });
    for (auto& t : schedulers) t.join();
    int queued = 0;
    int64_t run_id = 0;
    for (const auto& r : results)
      if (r) {
        ++queued;
        run_id = r->run_id;
        EXPECT_EQ(r->events, 10 + round);
      }
    EXPECT_EQ(queued, 1) << "round " << round;
    pqxx::nontransaction tx(c);
    EXPECT_EQ(
        tx.exec_params1("SELECT count(*) FROM event_consumptions WHERE run_id = $1", run_id)[0]
            .as<int>(),
        10 + round);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM event_consumptions")[0].as<int>(), next_doc);
    EXPECT_EQ(store->queue().pending_events("features", all_documents).count, 0);
    // While it is queued, nothing else is; once it ended, the next batch may go.
    add_documents(1);
    EXPECT_FALSE(store->queue().enqueue_triggered_run("features", {all_documents},
                                                      new_run_of(features, "event")));
    tx.exec_params("UPDATE runs SET status = 'succeeded' WHERE id = $1", run_id);
    auto leftover = store->queue().enqueue_triggered_run("features", {all_documents},
                                                         new_run_of(features, "event"));
    ASSERT_TRUE(leftover);
    EXPECT_EQ(leftover->events, 1);
    tx.exec_params("UPDATE runs SET status = 'succeeded' WHERE id = $1", leftover->run_id);
  }
}

}  // namespace
}  // namespace twinflow
