// The chaos suite: real processes, real kill -9, a real database killed.
//
// Chaos.KillNineOfTwinflowRun: `twinflow run` killed with SIGKILL at random
//   moments, each followed by `twinflow rerun --failed` to success, with a
//   `twinflow web` running as the reaper: 0 outputs wrong, 0 steps recorded
//   succeeded that run again, 0 step processes (a `setsid sleep 60` among
//   them) alive 5 s after the kill, the run recorded interrupted by the
//   reaper.
// Chaos.DatabaseKilledLongerThanTheStaleThreshold: PostgreSQL's postmaster
//   killed with SIGKILL while a run runs, for longer than a reaping
//   scheduler's --stale-after: the run completes with each step once.
// Chaos.HelperSchedulerKilledMidStep: two schedulers, the one executing the
//   other's offered step killed with SIGKILL: 0 overlapping executions of a
//   step (each appends timestamped ticks with its pid to a ledger).
//
// CI runs a few trials; scripts/chaos.sh runs the full size
// (TWINFLOW_CHAOS_TRIALS, TWINFLOW_CHAOS_TAKEOVERS, TWINFLOW_CHAOS_SEED).
// Each test prints its figures.
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "process/process_tree.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "store/embedded_postgres.h"
#include "store/run_ledger.h"
#include "tests/support/spawn_process.h"
#include "tests/support/twinflow_fixture.h"
#include "util/duration.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace twinflow {
namespace {

int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::atoi(value) : fallback;
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

// Live processes whose environment holds `entry` (e.g. CHAOS_MARK=...):
// every process of a step inherits it, setsid'd ones included.
std::vector<pid_t> processes_with_env(const std::string& entry) {
  std::vector<pid_t> found;
  DIR* dir = opendir("/proc");
  if (!dir) return found;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long pid = strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/environ", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string needle = std::string(1, '\0') + entry + std::string(1, '\0');
    if ((std::string(1, '\0') + text).find(needle) == std::string::npos) continue;
    if (process_state(static_cast<pid_t>(pid), 0) != ProcessState::kGone)
      found.push_back(static_cast<pid_t>(pid));
  }
  closedir(dir);
  return found;
}

// A ledger line per tick: "NANOSECONDS PID". One execution of a step is
// the interval from its pid's first tick to its last.
struct Execution {
  int64_t first = 0, last = 0;
};
std::map<std::string, Execution> executions_in(const fs::path& ledger) {
  std::map<std::string, Execution> by_pid;
  std::ifstream in(ledger);
  int64_t at = 0;
  std::string pid;
  while (in >> at >> pid) {
    auto [it, fresh] = by_pid.try_emplace(pid, Execution{at, at});
    if (!fresh) {
      it->second.first = std::min(it->second.first, at);
      it->second.last = std::max(it->second.last, at);
    }
  }
  return by_pid;
}

// Pairs of executions of one step that overlap in time.
int overlaps_in(const fs::path& ledger) {
  std::vector<Execution> runs;
  for (const auto& [pid, e] : executions_in(ledger)) runs.push_back(e);
  std::sort(runs.begin(), runs.end(),
            [](const Execution& a, const Execution& b) { return a.first < b.first; });
  int overlaps = 0;
  for (size_t i = 0; i < runs.size(); ++i)
    for (size_t j = i + 1; j < runs.size(); ++j) overlaps += runs[j].first <= runs[i].last;
  return overlaps;
}

// A shell loop that ticks into `ledger` every 0.1 s for `ticks` ticks.
std::string ticking(const fs::path& ledger, int ticks) {
  return "i=0; while [ $i -lt " + std::to_string(ticks) + " ]; do echo $(date +%s%N) $$ >> '" +
         ledger.string() + "'; sleep 0.1; i=$((i+1)); done";
}

class Chaos : public TwinflowTest {
 protected:
  void TearDown() override {
    for (pid_t pid : background_) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    TwinflowTest::TearDown();
  }

  pid_t spawn(const std::vector<std::string>& args, const std::string& log,
              const std::vector<std::string>& extra_env = {}) {
    std::vector<std::string> argv = {TWINFLOW_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env = twinflow_env();
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    return spawn_with_files(argv, env, log, log);
  }
  pid_t background(const std::vector<std::string>& args, const std::string& name) {
    pid_t pid = spawn(args, (home / (name + ".log")).string());
    background_.push_back(pid);
    return pid;
  }
  void stop_background(pid_t pid) {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    std::erase(background_, pid);
  }

  std::optional<int64_t> newest_run_after(int64_t after) {
    for (const RunRecord& r : store->runs().list_runs({}))
      if (r.id > after) return r.id;
    return std::nullopt;
  }
  int64_t newest_run_id() {
    auto runs = store->runs().list_runs({});
    return runs.empty() ? 0 : runs[0].id;
  }

  std::vector<pid_t> background_;
};

// --- kill -9 of `twinflow run` ------------------------------------------------

TEST_F(Chaos, KillNineOfTwinflowRun) {
  const int trials = env_int("TWINFLOW_CHAOS_TRIALS", 3);
  unsigned seed = static_cast<unsigned>(env_int("TWINFLOW_CHAOS_SEED", 0));
  if (seed == 0) seed = std::random_device{}();
  std::mt19937 random(seed);
  const fs::path ledgers = home / "ledgers";
  fs::create_directories(ledgers);
  fs::create_directories(home / "no-dags");

  // Five steps that each write their name as their output (two of them
  // after a setsid'd sleeper of 60 s is started), a step over two of them
  // and one that gathers all.
  auto step = [&](const std::string& id, const std::string& extra) {
    return "  - id: " + id +
           "\n    cache: false\n    outputs: [out]\n    command: \"echo $(date +%s%N) $$ >> '" +
           (ledgers / id).string() + "'; " + extra + "echo " + id +
           " > $TWINFLOW_OUTPUT_DIR/out\"\n";
  };
  std::string yaml = "name: chaos\nsteps:\n";
  for (const char* id : {"s1", "s2", "s3"}) yaml += step(id, "sleep 0.6; ");
  yaml += step("spawner", "setsid sleep 60 & sleep 1; ");
  yaml += step("spawner2", "setsid sleep 60 & sleep 0.4; ");
  yaml +=
      "  - id: mid\n    cache: false\n    inputs: {a: s1.out, b: s2.out}\n    outputs: [out]\n"
      "    command: \"echo $(date +%s%N) $$ >> '" +
      (ledgers / "mid").string() +
      "'; sleep 0.5; cat $TWINFLOW_INPUT_A $TWINFLOW_INPUT_B > $TWINFLOW_OUTPUT_DIR/out\"\n"
      "  - id: gather\n    cache: false\n"
      "    inputs: {m: mid.out, c: s3.out, p: spawner.out, q: spawner2.out}\n    outputs: [out]\n"
      "    command: \"echo $(date +%s%N) $$ >> '" +
      (ledgers / "gather").string() +
      "'; cat $TWINFLOW_INPUT_M $TWINFLOW_INPUT_C $TWINFLOW_INPUT_P $TWINFLOW_INPUT_Q > "
      "$TWINFLOW_OUTPUT_DIR/out\"\n";
  const std::string dag = write_dag("chaos", yaml);
  const std::map<std::string, std::string> expected = {
      {"s1", "s1\n"},
      {"s2", "s2\n"},
      {"s3", "s3\n"},
      {"spawner", "spawner\n"},
      {"spawner2", "spawner2\n"},
      {"mid", "s1\ns2\n"},
      {"gather", "s1\ns2\ns3\nspawner\nspawner2\n"}};

  // The reaper: `twinflow web`, which records dead owners interrupted.
  const pid_t web = background(
      {"web", "--bind", "127.0.0.1:0", "--dags-dir", (home / "no-dags").string()}, "web");
  ASSERT_TRUE(eventually(
      [&] { return read_file(home / "web.log").find("listening") != std::string::npos; }, 60s))
      << read_file(home / "web.log");

  int killed = 0, finished_first = 0, orphans = 0, wrong_outputs = 0, succeeded_again = 0;
  double worst_reaping = 0;
  for (int trial = 0; trial < trials; ++trial) {
    const std::string mark = "CHAOS_MARK=" + home.string() + "/" + std::to_string(trial);
    const int64_t before = newest_run_id();
    const std::string log = (home / ("run-" + std::to_string(trial) + ".log")).string();
    const pid_t run = spawn({"run", dag, "-j", "3"}, log, {mark});
    ASSERT_GT(run, 0);
    // A random moment in the run's first three seconds, once it is recorded.
    ASSERT_TRUE(eventually([&] { return newest_run_after(before).has_value(); }, 60s))
        << read_file(log);
    const int64_t run_id = *newest_run_after(before);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 3000)(random)));
    if (::waitpid(run, nullptr, WNOHANG) == run) {
      ++finished_first;  // it won the race: nothing to kill
      continue;
    }
    ASSERT_EQ(::kill(run, SIGKILL), 0);
    const auto kill_time = Clock::now();
    ASSERT_EQ(::waitpid(run, nullptr, 0), run);
    ++killed;

    // The reaper records it interrupted (nobody else looks meanwhile).
    ASSERT_TRUE(
        eventually([&] { return store->runs().find_run(run_id)->status != "running"; }, 30s))
        << "run " << run_id << " still running\n"
        << read_file(home / "web.log");
    worst_reaping = std::max(worst_reaping, seconds_since(kill_time));
    const RunRecord killed_run = *store->runs().find_run(run_id);
    // A kill just before the run's last record may find it already done.
    if (killed_run.status == "succeeded") continue;
    EXPECT_EQ(killed_run.status, "interrupted");

    // No process of any step of the killed run 5 s after the kill.
    std::this_thread::sleep_for(5s - (Clock::now() - kill_time));
    const std::vector<pid_t> left = processes_with_env(mark);
    orphans += static_cast<int>(left.size());
    for (pid_t pid : left) {
      std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
      std::string argv0;
      std::getline(cmdline, argv0, '\0');
      ADD_FAILURE() << "trial " << trial << ": pid " << pid << " (" << argv0
                    << ") of the killed run is alive 5 s after the kill";
      ::kill(pid, SIGKILL);
    }

    std::set<std::string> done_before;
    for (const auto& attempt : store->runs().step_runs(run_id))
      if (attempt.status == "succeeded") done_before.insert(attempt.step_id);
    std::map<std::string, int> ledger_lines;
    for (const auto& [id, content] : expected) {
      std::ifstream in(ledgers / id);
      for (std::string line; std::getline(in, line);) ++ledger_lines[id];
    }

    auto rerun = twinflow({"rerun", std::to_string(run_id), "--failed", "-j", "3"});
    ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
    const int64_t rerun_id = newest_run_id();
    ASSERT_EQ(store->runs().find_run(rerun_id)->status, "succeeded");
    ASSERT_EQ(store->runs().find_run(rerun_id)->parent_run_id, run_id);
    for (const std::string& id : done_before) {
      int again = attempts_of(rerun_id, id);
      std::ifstream in(ledgers / id);
      int lines = 0;
      for (std::string line; std::getline(in, line);) ++lines;
      again += lines - ledger_lines[id];
      if (again > 0) ADD_FAILURE() << "trial " << trial << ": step " << id << " ran again";
      succeeded_again += again > 0;
    }
    const auto outputs = store->runs().step_outputs(rerun_id);
    for (const auto& [id, content] : expected) {
      auto it = outputs.find(id);
      const bool right = it != outputs.end() && it->second.size() == 1 &&
                         read_file(it->second[0].version.uri) == content;
      EXPECT_TRUE(right) << "trial " << trial << ": output of " << id << " is wrong";
      wrong_outputs += !right;
    }
  }
  stop_background(web);
  std::printf(
      "[chaos] kill -9 of twinflow run: seed %u, trials %d (killed %d, finished before the kill "
      "%d), orphans 5 s after the kill %d, wrong outputs %d, succeeded steps run again %d, "
      "slowest reaping by twinflow web %.2f s\n",
      seed, trials, killed, finished_first, orphans, wrong_outputs, succeeded_again, worst_reaping);
  EXPECT_EQ(orphans, 0);
  EXPECT_EQ(wrong_outputs, 0);
  EXPECT_EQ(succeeded_again, 0);
}

// --- PostgreSQL killed --------------------------------------------------------

class ChaosDatabase : public Chaos {
 protected:
  void SetUp() override {
    Chaos::SetUp();
    char pattern[] = "/tmp/tf-chaos-XXXXXX";  // short: the socket path must fit
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    cluster_home = pattern;
    // Durable: with synchronous_commit off, a killed postmaster takes the last
    // commits with it, which is not the outage this test is about.
    cluster = std::make_unique<EmbeddedPostgres>(EmbeddedPostgresOptions{cluster_home, true, ""});
    conninfo = cluster->ensure_running();  // what twinflow_env() hands the processes
    store = std::make_unique<Store>(conninfo);
    store->migrate();
  }
  void TearDown() override {
    for (pid_t pid : background_) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    background_.clear();
    store.reset();
    cluster->stop();
    std::error_code ec;
    fs::remove_all(cluster_home, ec);
    Chaos::TearDown();
  }

  // SIGKILL to the postmaster: no shutdown at all.
  void kill_postmaster() {
    std::ifstream pidfile(cluster->data_dir() / "postmaster.pid");
    pid_t pid = 0;
    pidfile >> pid;
    ASSERT_GT(pid, 0);
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
  }
  // Starts it again; its backends may take a moment to notice it died.
  void restart() {
    for (auto give_up = Clock::now() + 60s;;) {
      try {
        cluster->ensure_running();
        return;
      } catch (const std::exception& e) {
        if (Clock::now() > give_up) FAIL() << "the database does not start again: " << e.what();
        std::this_thread::sleep_for(200ms);
      }
    }
  }

  fs::path cluster_home;
  std::unique_ptr<EmbeddedPostgres> cluster;
};

TEST_F(ChaosDatabase, DatabaseKilledLongerThanTheStaleThreshold) {
  const int stale_after = 2;
  const fs::path ledgers = home / "ledgers";
  fs::create_directories(ledgers);
  fs::create_directories(home / "no-dags");
  auto step = [&](const std::string& id, const std::string& needs, int ticks) {
    return "  - id: " + id + "\n    cache: false\n" +
           (needs.empty() ? "" : "    needs: [" + needs + "]\n") + "    command: \"" +
           ticking(ledgers / id, ticks) + "\"\n";
  };
  const std::string dag =
      write_dag("outage", "name: outage\nsteps:\n" + step("a", "", 30) + step("b", "a", 10) +
                              step("c", "b", 1) + step("d", "", 40));
  // A scheduler that reaps stale runs after 2 s: it must not take this one.
  background({"scheduler", "--dags-dir", (home / "no-dags").string(), "--poll-ms", "200",
              "--stale-after", std::to_string(stale_after)},
             "reaper");
  const std::string log = (home / "run.log").string();
  const pid_t run = spawn({"run", dag, "-j", "2"}, log);
  ASSERT_TRUE(eventually([&] { return fs::exists(ledgers / "a"); }, 60s)) << read_file(log);

  store.reset();
  kill_postmaster();
  const auto outage_start = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(stale_after * 2 + 1));
  restart();
  const double outage = seconds_since(outage_start);
  // Any command now (the reproduction: `twinflow runs`) must not take it either.
  auto runs = twinflow({"runs"});
  EXPECT_EQ(runs.exit_code, 0) << runs.err;

  int status = 0;
  ASSERT_EQ(::waitpid(run, &status, 0), run);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(log) << "\n--- reaper\n"
                                                             << read_file(home / "reaper.log");
  store = std::make_unique<Store>(conninfo);
  const RunRecord recorded = store->runs().list_runs({}).at(0);
  EXPECT_EQ(recorded.status, "succeeded") << recorded.error;
  int executions = 0;
  for (const char* id : {"a", "b", "c", "d"}) {
    EXPECT_EQ(attempts_of(recorded.id, id), 1) << id;
    const size_t n = executions_in(ledgers / id).size();
    EXPECT_EQ(n, 1u) << "step " << id << " executed " << n << " times";
    executions += static_cast<int>(n);
  }
  std::printf(
      "[chaos] PostgreSQL killed -9 for %.1f s (stale threshold %d s): run %s, %d executions of "
      "4 steps\n",
      outage, stale_after, recorded.status.c_str(), executions);
}

// --- a helper scheduler killed mid-step -----------------------------------------

TEST_F(Chaos, HelperSchedulerKilledMidStep) {
  const int trials = env_int("TWINFLOW_CHAOS_TAKEOVERS", 1);
  fs::create_directories(home / "no-dags");
  const fs::path ledgers = home / "ledgers";
  int overlaps = 0, takeovers = 0;
  double worst_takeover = 0, total_takeover = 0;
  for (int trial = 0; trial < trials; ++trial) {
    const fs::path dir = ledgers / std::to_string(trial);
    fs::create_directories(dir);
    // Two steps of 6 s each (60 ticks); with one job slot the owner offers one.
    auto step = [&](const std::string& id) {
      return "  - id: " + id + "\n    cache: false\n    command: \"" + ticking(dir / id, 60) +
             "\"\n";
    };
    const std::string dag = write_dag("pair", "name: pair\nsteps:\n" + step("x") + step("y"));
    const std::string suffix = std::to_string(trial);
    const pid_t owner =
        background({"scheduler", "--dags-dir", (home / "no-dags").string(), "--poll-ms", "200",
                    "-j", "1", "--max-runs", "1", "--stale-after", "10"},
                   "owner" + suffix);
    auto queued = twinflow({"trigger", dag, "--json"});
    ASSERT_EQ(queued.exit_code, 0) << queued.err;
    const int64_t run_id = nlohmann::json::parse(queued.out)["run_id"];
    ASSERT_TRUE(
        eventually([&] { return store->runs().find_run(run_id)->status == "running"; }, 60s));
    const pid_t helper = background({"scheduler", "--dags-dir", (home / "no-dags").string(),
                                     "--poll-ms", "200", "-j", "1", "--max-runs", "1"},
                                    "helper" + suffix);
    const std::string claimer = host_name() + ":" + std::to_string(helper);
    std::string offered;
    ASSERT_TRUE(eventually(
        [&] {
          pqxx::connection c(conninfo);
          pqxx::nontransaction tx(c);
          auto rows = tx.exec_params(
              "SELECT o.step_id FROM step_offers o JOIN step_runs s ON s.id = o.step_run_id "
              "WHERE o.run_id = $1 AND o.claimed_by = $2 AND s.pid > 0",
              run_id, claimer);
          if (rows.empty()) return false;
          offered = rows[0][0].as<std::string>();
          return fs::exists(dir / offered);  // its process ticks
        },
        60s))
        << read_file(home / ("owner" + suffix + ".log"))
        << read_file(home / ("helper" + suffix + ".log"));
    std::this_thread::sleep_for(500ms);
    ASSERT_EQ(::kill(helper, SIGKILL), 0);
    const auto kill_time = Clock::now();
    ::waitpid(helper, nullptr, 0);
    std::erase(background_, helper);

    // Taken over: the owner records the attempt interrupted, to retry it.
    ASSERT_TRUE(eventually(
        [&] { return store->runs().find_step_run(run_id, offered, 1)->status == "interrupted"; },
        60s))
        << read_file(home / ("owner" + suffix + ".log"));
    const double takeover = seconds_since(kill_time);
    ++takeovers;
    worst_takeover = std::max(worst_takeover, takeover);
    total_takeover += takeover;
    ASSERT_TRUE(
        eventually([&] { return store->runs().find_run(run_id)->status != "running"; }, 120s));
    stop_background(owner);
    EXPECT_EQ(store->runs().find_run(run_id)->status, "succeeded");
    EXPECT_EQ(store->runs().find_step_run(run_id, offered, 1)->status, "interrupted");
    for (const char* id : {"x", "y"}) {
      const int n = overlaps_in(dir / id);
      EXPECT_EQ(n, 0) << "trial " << trial << ": executions of step " << id << " overlap";
      overlaps += n;
    }
  }
  std::printf(
      "[chaos] helper scheduler killed -9 mid-step: trials %d, overlapping executions %d, "
      "takeover latency mean %.2f s, worst %.2f s (claim stale after 10 s)\n",
      trials, overlaps, takeovers ? total_takeover / takeovers : 0.0, worst_takeover);
  EXPECT_EQ(overlaps, 0);
}

}  // namespace
}  // namespace twinflow
