// Several schedulers sharing the steps of one run (step_offers): claims with
// SKIP LOCKED taken once each under concurrent claimers, revoked claims that
// can record nothing, two `twinflow scheduler` processes running the steps
// of one wide run (outputs made by one flowing into a step run by the
// other), a helper killed with SIGKILL mid-step whose step the owner
// retries, and a cancelled run whose helper stops the step it runs.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "scheduler/execution/executor.h"
#include "scheduler/execution/runner.h"
#include "store/run_ledger.h"
#include "store/run_queue.h"
#include "tests/support/twinflow_fixture.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

class StepSharingTest : public TwinflowTest {
 protected:
  // A running run of `dag`, owned by scheduler "owner-host:111".
  int64_t running_run(const Dag& dag) {
    return record_run_start(*store, prepare_fresh_run(dag), "owner-host", 111);
  }

  StepOffer offer_of(int64_t run_id, const std::string& step) {
    return StepOffer{run_id, step, 1, 0, "local", "", {}};
  }

  // A DAG of `width` independent steps, each a short sleep that writes its
  // name to an output, and a `gather` step that concatenates them all.
  std::string wide_dag(int width, const std::string& sleep) {
    std::string yaml = "name: wide\nsteps:\n";
    std::string inputs, cats;
    for (int i = 0; i < width; ++i) {
      const std::string id = "w" + std::to_string(i);
      yaml += "  - id: " + id + "\n    cache: false\n    command: sleep " + sleep + "; echo " + id +
              " > $TWINFLOW_OUTPUT_DIR/out\n    outputs: [out]\n";
      inputs += std::string(i ? ", " : "") + "i" + std::to_string(i) + ": " + id + ".out";
      cats += " $TWINFLOW_INPUT_I" + std::to_string(i);
    }
    yaml += "  - id: gather\n    cache: false\n    inputs: {" + inputs + "}\n    command: cat" +
            cats + " > $TWINFLOW_OUTPUT_DIR/all\n    outputs: [all]\n";
    return write_dag("wide", yaml);
  }

  pid_t start_scheduler(const std::string& name, std::vector<std::string> extra) {
    std::vector<std::string> args = {"scheduler", "--dags-dir", (home / "no-dags").string(),
                                     "--poll-ms", "200"};
    args.insert(args.end(), extra.begin(), extra.end());
    return spawn_twinflow(args, (home / (name + ".log")).string());
  }

  std::string logs() {
    std::string out;
    for (const char* name : {"owner", "helper", "first", "second"})
      if (fs::exists(home / (std::string(name) + ".log")))
        out += std::string("--- ") + name + "\n" + read_file(home / (std::string(name) + ".log"));
    return out;
  }

  void stop(pid_t pid) {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
  }

  // Waits up to `seconds` for `done`.
  bool wait_for(const std::function<bool()>& done, int seconds) {
    for (int i = 0; i < seconds * 20; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
  }

  std::string run_status(int64_t run_id) { return store->runs().find_run(run_id)->status; }

  int64_t trigger(const std::string& dag) {
    auto queued = twinflow({"trigger", dag, "--json"});
    EXPECT_EQ(queued.exit_code, 0) << queued.err;
    return nlohmann::json::parse(queued.out)["run_id"];
  }

  std::string claimer_of(pid_t pid) { return host_name() + ":" + std::to_string(pid); }

  // A run of two independent `sleep SECONDS` steps, x and y, owned by a
  // scheduler with one job slot: once a helper scheduler is up, the owner
  // offers the step it has no slot for and the helper runs it.
  struct HelpedRun {
    int64_t run_id = 0;
    pid_t owner = 0;
    pid_t helper = 0;
    std::string offered;   // the step the helper claimed
    StepRunRecord helped;  // its attempt, started (pid set)
  };
  HelpedRun start_helped_run(const std::string& seconds,
                             const std::vector<std::string>& owner_args = {}) {
    fs::create_directories(home / "no-dags");
    auto sleeper = [&](const std::string& id) {
      return "  - id: " + id + "\n    cache: false\n    command: sleep " + seconds + "\n";
    };
    const std::string dag = write_dag("pair", "name: pair\nsteps:\n" + sleeper("x") + sleeper("y"));
    HelpedRun r;
    std::vector<std::string> args = {"-j", "1", "--max-runs", "1"};
    args.insert(args.end(), owner_args.begin(), owner_args.end());
    r.owner = start_scheduler("owner", args);
    r.run_id = trigger(dag);
    EXPECT_TRUE(wait_for([&] { return run_status(r.run_id) == "running"; }, 30)) << logs();
    // Alone, the owner offers nothing.
    EXPECT_TRUE(claimers(r.run_id).empty());
    r.helper = start_scheduler("helper", {"-j", "1", "--max-runs", "1"});
    EXPECT_TRUE(wait_for([&] { return claimers(r.run_id).size() == 1; }, 30)) << logs();
    if (claimers(r.run_id).empty()) return r;
    r.offered = claimers(r.run_id).begin()->first;
    std::optional<StepRunRecord> attempt;
    EXPECT_TRUE(wait_for(
        [&] {
          attempt = store->runs().find_step_run(r.run_id, r.offered, 1);
          return attempt && attempt->pid > 0;
        },
        30))
        << logs();
    if (attempt) r.helped = *attempt;
    EXPECT_EQ(claimers(r.run_id)[r.offered], claimer_of(r.helper));
    return r;
  }

  // The claimers of a run's offers, by step, for attempt `attempt`.
  std::map<std::string, std::string> claimers(int64_t run_id, int attempt = 1) {
    pqxx::connection c(conninfo);
    pqxx::nontransaction tx(c);
    std::map<std::string, std::string> out;
    for (const auto& row :
         tx.exec_params("SELECT step_id, coalesce(claimed_by, '') FROM step_offers "
                        "WHERE run_id = $1 AND attempt = $2",
                        run_id, attempt))
      out[row[0].as<std::string>()] = row[1].as<std::string>();
    return out;
  }
};

TEST_F(StepSharingTest, ConcurrentClaimersTakeEachOfferOnce) {
  std::string yaml = "name: many\nsteps:\n";
  for (int i = 0; i < 100; ++i) yaml += "  - id: s" + std::to_string(i) + "\n    command: 'true'\n";
  const int64_t run_id = running_run(load(write_dag("many", yaml)));
  std::vector<StepOffer> offers;
  for (int i = 0; i < 100; ++i) offers.push_back(offer_of(run_id, "s" + std::to_string(i)));
  store->queue().offer_steps(offers);
  store->queue().offer_steps(offers);  // a repeat (a lost acknowledgement) offers nothing more

  // The owner's scheduler, as a helper, does not take its own run's offers.
  EXPECT_FALSE(store->queue().claim_step_offer("owner-host:111").has_value());

  std::vector<std::vector<std::string>> taken(3);
  std::vector<std::thread> claimers;
  for (int t = 0; t < 3; ++t)
    claimers.emplace_back([&, t] {
      Store own(conninfo);
      const std::string me = "helper-host:" + std::to_string(t);
      while (auto claim = own.queue().claim_step_offer(me)) {
        EXPECT_EQ(claim->run_id, run_id);
        taken[t].push_back(claim->step_id);
      }
    });
  for (auto& t : claimers) t.join();
  std::multiset<std::string> all;
  for (const auto& list : taken) all.insert(list.begin(), list.end());
  EXPECT_EQ(all.size(), 100u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 100u) << "an offer claimed twice";
  EXPECT_FALSE(store->queue().claim_step_offer("late-host:1").has_value());
}

TEST_F(StepSharingTest, TheOwnerTakesBackItsOffersAndInputsComeWithTheClaim) {
  auto outcome = execute(prepare_fresh_run(
      load(write_dag("producer",
                     "name: producer\nsteps:\n  - id: make\n    command: echo x > "
                     "$TWINFLOW_OUTPUT_DIR/out\n    outputs: [out]\n"))));
  ASSERT_EQ(outcome.status, "succeeded");
  const std::vector<NamedVersion> made = store->runs().step_outputs(outcome.run_id)["make"];
  ASSERT_EQ(made.size(), 1u);

  const int64_t run_id =
      running_run(load(write_dag("one", "name: one\nsteps:\n  - id: use\n    command: 'true'\n")));
  StepOffer offer = offer_of(run_id, "use");
  offer.inputs = {{"in", made[0].version}};
  offer.cache_key = "k1";
  store->queue().offer_steps({offer});
  auto claim = store->queue().claim_step_offer("owner-host:111", run_id);
  ASSERT_TRUE(claim.has_value());
  EXPECT_EQ(claim->cache_key, "k1");
  ASSERT_EQ(claim->inputs.size(), 1u);
  EXPECT_EQ(claim->inputs[0].name, "in");
  EXPECT_EQ(claim->inputs[0].version.id, made[0].version.id);
  EXPECT_EQ(claim->inputs[0].version.uri, made[0].version.uri);
  EXPECT_FALSE(store->queue().claim_step_offer("helper-host:1").has_value());
}

TEST_F(StepSharingTest, ARevokedClaimCanRecordNothing) {
  const int64_t run_id =
      running_run(load(write_dag("two",
                                 "name: two\nsteps:\n  - id: a\n    command: 'true'\n"
                                 "  - id: b\n    command: 'true'\n")));
  store->queue().offer_steps({offer_of(run_id, "a"), offer_of(run_id, "b")});
  auto a = store->queue().claim_step_offer("helper-host:1");
  auto b = store->queue().claim_step_offer("helper-host:1");
  ASSERT_TRUE(a && b);
  auto b_attempt = store->queue().start_claimed_attempt(*b, "helper-host:1", "helper-host", 42, "");
  ASSERT_TRUE(b_attempt.has_value());
  EXPECT_FALSE(store->queue().heartbeat_claim(*b, "helper-host:1"));  // fresh: carry on

  // A fresh claim is not revoked; past the limit (0 s here) it is.
  EXPECT_FALSE(store->queue().revoke_stale_claim(run_id, a->step_id, 1, 3600).revoked);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto revoked_a = store->queue().revoke_stale_claim(run_id, a->step_id, 1, 0);
  EXPECT_TRUE(revoked_a.revoked);
  EXPECT_FALSE(revoked_a.step_run_id.has_value());
  EXPECT_FALSE(store->queue().start_claimed_attempt(*a, "helper-host:1", "helper-host", 43, ""));
  EXPECT_TRUE(store->queue().heartbeat_claim(*a, "helper-host:1"));  // must stop

  auto revoked_b = store->queue().revoke_stale_claim(run_id, b->step_id, 1, 0);
  EXPECT_TRUE(revoked_b.revoked);
  EXPECT_EQ(revoked_b.step_run_id, b_attempt);
  EXPECT_TRUE(store->queue().heartbeat_claim(*b, "helper-host:1"));
  // Another claimer's heartbeat on the same offer is refused too.
  EXPECT_TRUE(store->queue().heartbeat_claim(*b, "other-host:2"));
}

TEST_F(StepSharingTest, TwoSchedulerProcessesRunTheStepsOfOneWideRun) {
  fs::create_directories(home / "no-dags");
  const std::string dag = wide_dag(16, "0.5");
  // The first scheduler takes the run; with two job slots, once it sees
  // another scheduler alive it offers the steps it has no slot for, and the
  // second scheduler (started once the run is taken, so it cannot own it)
  // claims some of them.
  pid_t first = start_scheduler("first", {"-j", "2", "--max-runs", "1"});
  const int64_t run_id = trigger(dag);
  ASSERT_TRUE(wait_for([&] { return run_status(run_id) == "running"; }, 30)) << logs();
  pid_t second = start_scheduler("second", {"-j", "2", "--max-runs", "2"});
  EXPECT_TRUE(wait_for([&] { return run_status(run_id) != "running"; }, 90)) << logs();
  stop(first);
  stop(second);
  ASSERT_EQ(run_status(run_id), "succeeded") << logs();

  std::string expected;
  for (int i = 0; i < 16; ++i) {
    const std::string id = "w" + std::to_string(i);
    EXPECT_EQ(attempts_of(run_id, id), 1) << id << logs();
    EXPECT_EQ(step_state(run_id, id), "succeeded") << id;
    expected += id + "\n";
  }
  EXPECT_EQ(attempts_of(run_id, "gather"), 1);
  // Outputs made by either scheduler reached the gathering step, in order.
  const auto outputs = store->runs().step_outputs(run_id);
  ASSERT_EQ(outputs.at("gather").size(), 1u);
  EXPECT_EQ(read_file(outputs.at("gather")[0].version.uri), expected);

  int by_second = 0;
  for (const auto& [step, claimer] : claimers(run_id)) by_second += claimer == claimer_of(second);
  EXPECT_GE(by_second, 1) << "the second scheduler ran none of the offered steps\n" << logs();
  // And the steps it ran are its own attempts: recorded once, with lineage.
  for (const auto& [step, claimer] : claimers(run_id)) {
    if (claimer != claimer_of(second)) continue;
    auto attempt = store->runs().find_step_run(run_id, step, 1);
    ASSERT_TRUE(attempt.has_value()) << step;
    EXPECT_EQ(attempt->status, "succeeded") << step;
    EXPECT_EQ(store->runs().outputs_of_step_run(attempt->id).size(), 1u) << step;
  }
}

TEST_F(StepSharingTest, AHelperKilledMidStepHasItsStepRetriedByTheOwner) {
  HelpedRun r = start_helped_run("3", {"--stale-after", "3"});
  ASSERT_GT(r.helped.pid, 0);
  ASSERT_EQ(::kill(r.helper, SIGKILL), 0);
  ::waitpid(r.helper, nullptr, 0);
  ::kill(-r.helped.pid, SIGKILL);  // the helper's orphaned step, which nobody waits for

  EXPECT_TRUE(wait_for([&] { return run_status(r.run_id) != "running"; }, 60)) << logs();
  stop(r.owner);
  ASSERT_EQ(run_status(r.run_id), "succeeded") << logs();
  auto first = store->runs().find_step_run(r.run_id, r.offered, 1);
  auto second = store->runs().find_step_run(r.run_id, r.offered, 2);
  ASSERT_TRUE(first && second) << logs();
  EXPECT_EQ(first->status, "interrupted");
  EXPECT_NE(first->error.find("stopped heartbeating"), std::string::npos) << first->error;
  EXPECT_EQ(second->status, "succeeded");
  EXPECT_EQ(attempts_of(r.run_id, r.offered), 2);
  EXPECT_EQ(step_state(r.run_id, r.offered), "succeeded");
}

TEST_F(StepSharingTest, CancellingARunStopsTheStepAnotherSchedulerRuns) {
  HelpedRun r = start_helped_run("60");
  ASSERT_GT(r.helped.pid, 0);
  auto cancelled = twinflow({"cancel", std::to_string(r.run_id)});
  ASSERT_EQ(cancelled.exit_code, 0) << cancelled.err;
  EXPECT_TRUE(wait_for([&] { return run_status(r.run_id) != "running"; }, 30)) << logs();
  stop(r.owner);
  stop(r.helper);
  EXPECT_EQ(run_status(r.run_id), "cancelled") << logs();
  auto attempt = store->runs().find_step_run(r.run_id, r.offered, 1);
  ASSERT_TRUE(attempt.has_value());
  EXPECT_EQ(attempt->status, "cancelled") << logs();
  EXPECT_EQ(attempts_of(r.run_id, r.offered), 1);
}

}  // namespace
}  // namespace twinflow
