// Losing PostgreSQL and losing a scheduler, with real servers and processes:
// store operations wait out a database restart; the RAG server and the
// dashboard answer 503 while the database is away and recover when it is
// back; `twinflow scheduler` and
// `twinflow run` survive one mid-step and record each result once; a result committed twice (a
// lost acknowledgement) or late (a zombie whose run was taken over) is
// recorded once or refused; a frozen scheduler's run is taken over by another
// after its heartbeat goes stale; two schedulers resuming one run queue one
// rerun.
//
// The restart tests run their own PostgreSQL cluster, so stopping it never
// disturbs the other tests' shared server.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "http/http_server.h"
#include "scheduler/execution/runner.h"
#include "serve/rag_service.h"
#include "store/embedded_postgres.h"
#include "store/run_ledger.h"
#include "store/run_queue.h"
#include "tests/support/http_client.h"
#include "tests/support/twinflow_fixture.h"
#include "util/error.h"
#include "web/dashboard.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace twinflow {
namespace {

// Polls `done` every 50 ms for up to `limit`; returns whether it came true.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 60s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

int count_lines(const fs::path& file) {
  std::ifstream in(file);
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

int64_t queue_run(Store& store, const Dag& dag) {
  return *store.queue().enqueue_run(new_run_of(dag, "api"), {});
}

// A test whose database lives on a cluster of its own, which it may stop.
class DatabaseOutageTest : public TwinflowTest {
 protected:
  void SetUp() override {
    TwinflowTest::SetUp();
    // A short home: the cluster's socket path must fit in sockaddr_un.
    char pattern[] = "/tmp/tf-outage-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    cluster_home = pattern;
    cluster = std::make_unique<EmbeddedPostgres>(EmbeddedPostgresOptions{cluster_home, false, ""});
    conninfo = cluster->ensure_running();  // twinflow_env() hands this to spawned processes
    store = std::make_unique<Store>(conninfo);
    store->migrate();
  }
  void TearDown() override {
    store.reset();
    cluster->stop();
    std::error_code ec;
    fs::remove_all(cluster_home, ec);
    TwinflowTest::TearDown();
  }

  // A store that waits up to `patience` for a lost database.
  std::unique_ptr<Store> patient_store(std::chrono::milliseconds patience) {
    auto patient = std::make_unique<Store>(conninfo);
    ReconnectPolicy policy;
    policy.give_up_after = patience;
    patient->set_reconnect_policy(policy);
    return patient;
  }

  fs::path cluster_home;
  std::unique_ptr<EmbeddedPostgres> cluster;
};

TEST_F(DatabaseOutageTest, AStoreOperationWaitsForTheDatabaseToComeBack) {
  auto patient = patient_store(60s);
  const int64_t run_id = queue_run(*patient, load(write_dag("one",
                                                            "name: one\nsteps:\n"
                                                            "  - id: a\n    command: 'true'\n")));
  cluster->stop();
  std::thread restart([this] {
    std::this_thread::sleep_for(1500ms);
    cluster->ensure_running();
  });
  // Issued while the server is down; it goes through once the server is back.
  auto claimed = patient->queue().claim_queued_run("host", 1);
  restart.join();
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->id, run_id);
  EXPECT_EQ(patient->runs().find_run(run_id)->status, "running");
}

TEST_F(DatabaseOutageTest, WithoutPatienceALostDatabaseIsAClearError) {
  Store impatient(conninfo);  // the default policy: no retry
  cluster->stop();
  try {
    impatient.runs().find_run(1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("find_run: lost the connection to the database"),
              std::string::npos)
        << e.what();
  }
}

// A stopped database is a 503 that says so (and when to retry), not a raw
// database error; both servers answer again once it is back, without a
// restart of their own.
TEST_F(DatabaseOutageTest, ServersSay503WhileTheDatabaseIsAwayAndRecoverWhenItIsBack) {
  RagService rag(conninfo, home / "artifacts", RagOptions{});
  HttpServer rag_server([&](const HttpRequest& r) { return rag.handle(r); });
  rag_server.start();
  DashboardOptions options;
  options.conninfo = conninfo;
  options.home = home;
  Dashboard dashboard(options);
  HttpServer web_server([&](const HttpRequest& r) { return dashboard.handle(r); });
  web_server.start();
  TestHttpClient client;
  const std::string question = R"({"query": "how do I chunk documents?", "k": 3})";
  const auto ask = [&] { return client.post_json(rag_server.base_url() + "/rag", question); };
  const auto health = [&] { return client.get(rag_server.base_url() + "/health"); };
  const auto runs = [&] { return client.get(web_server.base_url() + "/api/v1/runs"); };
  ASSERT_EQ(ask().status, 200);
  ASSERT_EQ(health().status, 200);
  ASSERT_EQ(runs().status, 200);

  cluster->stop();
  for (const HttpReply& reply : {ask(), ask(), health(), runs()}) {
    EXPECT_EQ(reply.status, 503) << reply.body;
    EXPECT_NE(reply.body.find("the database is unavailable; try again shortly"), std::string::npos)
        << reply.body;
    EXPECT_EQ(reply.body.find("socket"), std::string::npos) << reply.body;
    EXPECT_NE(reply.headers.find("Retry-After: 5\r\n"), std::string::npos) << reply.headers;
  }

  // A command says it in one line (libpq's message has two) and fails.
  const CommandResult cli = twinflow({"runs"});
  EXPECT_EQ(cli.exit_code, 1);
  EXPECT_EQ(cli.err.rfind("twinflow: cannot connect to the database: ", 0), 0u) << cli.err;
  EXPECT_EQ(std::count(cli.err.begin(), cli.err.end(), '\n'), 1) << cli.err;

  cluster->ensure_running();
  // Each server's sessions reconnect on their next use.
  EXPECT_TRUE(eventually([&] { return ask().status == 200; }, 30s));
  EXPECT_EQ(ask().status, 200);
  EXPECT_EQ(health().status, 200);
  EXPECT_TRUE(eventually([&] { return runs().status == 200; }, 30s));
  // The answers after the outage were logged; none of the refused ones could be.
  pqxx::connection db(conninfo);
  pqxx::nontransaction tx(db);
  EXPECT_GE(tx.exec1("SELECT count(*) FROM prompt_logs WHERE status = 200")[0].as<int>(), 3);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM prompt_logs WHERE status = 503")[0].as<int>(), 0);
}

TEST_F(DatabaseOutageTest, TheSchedulerRidesOutARestartMidStepAndRecordsEachStepOnce) {
  const fs::path started = home / "started", done = home / "done";
  const Dag dag =
      load(write_dag("outage",
                     "name: outage\nsteps:\n"
                     "  - id: slow\n    cache: false\n    command: \"echo x >> '" +
                         started.string() + "'; sleep 3; echo slow >> '" + done.string() +
                         "'\"\n"
                         "  - id: after\n    needs: [slow]\n    cache: false\n"
                         "    command: \"echo after >> '" +
                         done.string() + "'\"\n"));
  const int64_t run_id = queue_run(*store, dag);
  const std::string log = (home / "scheduler.log").string();
  pid_t daemon = spawn_twinflow(
      {"scheduler", "--dags-dir", (home / "no-dags").string(), "--poll-ms", "200"}, log);
  ASSERT_TRUE(eventually([&] { return fs::exists(started); })) << read_file(log);

  store.reset();
  cluster->stop();  // the step is still running, and ends while the server is down
  ASSERT_TRUE(eventually([&] { return count_lines(done) == 1; }, 10s)) << read_file(log);
  std::this_thread::sleep_for(1s);  // the scheduler tries to record, and waits
  EXPECT_EQ(::kill(daemon, 0), 0) << "the scheduler died with the database\n" << read_file(log);
  cluster->ensure_running();

  store = std::make_unique<Store>(conninfo);
  ASSERT_TRUE(eventually([&] { return store->runs().find_run(run_id)->status == "succeeded"; }))
      << read_file(log);
  EXPECT_EQ(attempts_of(run_id, "slow"), 1);
  EXPECT_EQ(attempts_of(run_id, "after"), 1);
  EXPECT_EQ(count_lines(started), 1);
  EXPECT_EQ(count_lines(done), 2);  // slow once, then after once
  for (const auto& attempt : store->runs().step_runs(run_id))
    EXPECT_EQ(attempt.status, "succeeded");
  EXPECT_NE(read_file(log).find("database unreachable"), std::string::npos) << read_file(log);

  ASSERT_EQ(::kill(daemon, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(daemon, &status, 0), daemon);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(log);
}

TEST_F(DatabaseOutageTest, AForegroundRunWaitsOutARestartAndSucceeds) {
  const fs::path started = home / "started";
  const std::string dag =
      write_dag("fg", "name: fg\nsteps:\n  - id: slow\n    cache: false\n    command: \"touch '" +
                          started.string() +
                          "'; sleep 3\"\n  - id: after\n    needs: [slow]\n"
                          "    cache: false\n    command: 'true'\n");
  const std::string log = (home / "run.log").string();
  pid_t run = spawn_twinflow({"run", dag}, log);
  ASSERT_TRUE(eventually([&] { return fs::exists(started); })) << read_file(log);
  store.reset();
  cluster->stop();
  std::this_thread::sleep_for(4s);  // the step ends while the server is down
  cluster->ensure_running();
  int status = 0;
  ASSERT_EQ(::waitpid(run, &status, 0), run);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(log);
  store = std::make_unique<Store>(conninfo);
  const RunRecord recorded = store->runs().list_runs({}).at(0);
  EXPECT_EQ(recorded.status, "succeeded");
  EXPECT_EQ(attempts_of(recorded.id, "slow"), 1);
  EXPECT_EQ(attempts_of(recorded.id, "after"), 1);
}

// The rest use the shared test server.
class TakeoverTest : public TwinflowTest {
 protected:
  // A run with one attempt of step "a" running, as a scheduler records it.
  std::pair<int64_t, int64_t> running_attempt() {
    const Dag dag = load(write_dag("t", "name: t\nsteps:\n  - id: a\n    command: 'true'\n"));
    PreparedRun prepared = prepare_fresh_run(dag);
    const int64_t run_id = record_run_start(*store, prepared, "host", 1);
    return {run_id, store->runs().start_attempt(run_id, "a", 1, "host", 2, "", "")};
  }
  OutputToRecord output(const std::string& hash) {
    return {"report", "t.report", "file", hash, "/blobs/" + hash, 3, nlohmann::json::object()};
  }
  int count(const std::string& sql) {
    pqxx::connection c(conninfo);
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<int>();
  }
};

TEST_F(TakeoverTest, ASuccessRecordedTwiceIsRecordedOnce) {
  auto [run_id, attempt] = running_attempt();
  auto first = store->runs().end_attempt_succeeded(run_id, "a", attempt, {}, {output("h1")});
  // The repeat of a commit whose acknowledgement was lost.
  auto again = store->runs().end_attempt_succeeded(run_id, "a", attempt, {}, {output("h1")});
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].version.id, first[0].version.id);
  EXPECT_EQ(count("SELECT count(*) FROM artifact_versions"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM lineage_edges"), 1);
  EXPECT_EQ(store->runs().start_attempt(run_id, "a", 1, "host", 2, "", ""), attempt);  // same row
}

TEST_F(TakeoverTest, AZombiesLateResultIsRefusedAndChangesNothing) {
  auto [run_id, attempt] = running_attempt();
  // Another scheduler finds the heartbeat stale and takes the run over.
  auto orphans = store->runs().reap_interrupted_runs(
      "elsewhere", [](int) { return true; }, 0);
  ASSERT_EQ(orphans.size(), 1u);
  EXPECT_TRUE(store->runs().heartbeat(run_id)) << "the zombie must be told to stop";
  EXPECT_THROW(store->runs().end_attempt_succeeded(run_id, "a", attempt, {}, {output("late")}),
               std::exception);
  store->runs().end_attempt_unsuccessfully(
      run_id, "a", attempt, {attempt_status::kCancelled, std::nullopt, 15, "cancelled"},
      step_status::kCancelled);
  store->runs().set_steps_status(run_id, {"a"}, step_status::kCancelled);
  store->runs().finish_run(run_id, run_status::kCancelled, "cancelled");
  EXPECT_EQ(count("SELECT count(*) FROM artifact_versions"), 0);
  EXPECT_EQ(store->runs().find_run(run_id)->status, "interrupted");
  EXPECT_EQ(store->runs().step_runs(run_id)[0].status, "interrupted");
  EXPECT_EQ(step_state(run_id, "a"), "interrupted");
}

TEST_F(TakeoverTest, TwoSchedulersResumingOneRunQueueOneRerun) {
  constexpr int kRuns = 10;
  std::vector<NewRun> reruns;
  for (int i = 0; i < kRuns; ++i) {
    auto [run_id, attempt] = running_attempt();
    (void)attempt;
    NewRun rerun = new_run_of(load(home / "dags" / "t.yaml"), "rerun");
    rerun.parent_run_id = run_id;
    reruns.push_back(rerun);
  }
  store->runs().reap_interrupted_runs(
      "elsewhere", [](int) { return true; }, 0);
  std::atomic<int> queued{0};
  auto resume_all = [&] {
    Store own(conninfo);
    for (const NewRun& rerun : reruns) queued += own.queue().enqueue_resume(rerun).has_value();
  };
  std::thread one(resume_all), two(resume_all);
  one.join();
  two.join();
  EXPECT_EQ(queued.load(), kRuns);
  EXPECT_EQ(count("SELECT count(*) FROM runs WHERE trigger = 'rerun'"), kRuns);
  EXPECT_EQ(count("SELECT count(DISTINCT parent_run_id) FROM runs WHERE trigger = 'rerun'"), kRuns);
}

TEST_F(TakeoverTest, AFrozenSchedulersRunIsTakenOverWhenItsHeartbeatGoesStale) {
  const fs::path first = home / "first-attempt", done = home / "done";
  // The first attempt waits long; the one that takes over finishes at once.
  const std::string dag = write_dag(
      "frozen", "name: frozen\nsteps:\n  - id: a\n    cache: false\n    command: \"if [ -e '" +
                    first.string() + "' ]; then echo a >> '" + done.string() + "'; exit 0; fi; " +
                    "touch '" + first.string() + "'; sleep 60; echo a >> '" + done.string() +
                    "'\"\n  - id: b\n    needs: [a]\n    command: 'true'\n");
  auto queued = twinflow({"trigger", dag, "--json"});
  ASSERT_EQ(queued.exit_code, 0) << queued.err;
  const int64_t run_id = nlohmann::json::parse(queued.out)["run_id"];
  const std::string log_a = (home / "a.log").string(), log_b = (home / "b.log").string();
  const std::string no_dags = (home / "no-dags").string();
  pid_t frozen = spawn_twinflow({"scheduler", "--dags-dir", no_dags, "--poll-ms", "100"}, log_a);
  ASSERT_TRUE(eventually([&] { return fs::exists(first); })) << read_file(log_a);
  ASSERT_EQ(::kill(frozen, SIGSTOP), 0);  // alive, but silent: no more heartbeats

  pid_t other = spawn_twinflow(
      {"scheduler", "--dags-dir", no_dags, "--poll-ms", "100", "--stale-after", "3"}, log_b);
  std::optional<RunRecord> resume;
  ASSERT_TRUE(eventually([&] {
    for (const RunRecord& r : store->runs().list_runs({}))
      if (r.parent_run_id == run_id && r.status == "succeeded") resume = r;
    return resume.has_value();
  })) << read_file(log_b);

  ASSERT_EQ(::kill(frozen, SIGCONT), 0);  // the zombie wakes up: it must record nothing
  std::this_thread::sleep_for(3s);        // past its next heartbeat
  EXPECT_EQ(store->runs().find_run(run_id)->status, "interrupted");
  EXPECT_EQ(store->runs().find_step_run(run_id, "a", 1)->status, "interrupted");
  EXPECT_EQ(attempts_of(resume->id, "a"), 1);
  EXPECT_EQ(count_lines(done), 1) << "step a completed more than once";
  for (pid_t pid : {frozen, other}) {
    ::kill(pid, SIGTERM);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(log_a) << "\n---\n"
                                                               << read_file(log_b);
  }
}

}  // namespace
}  // namespace twinflow
