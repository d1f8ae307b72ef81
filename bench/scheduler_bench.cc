// The scheduler daemon: how fast a queued run starts, and how many no-op runs
// per second flow through the queue with one and with two schedulers.
//
// 1. Wake-up latency: a `twinflow scheduler` process (poll interval 60 s, so
//    only LISTEN/NOTIFY can wake it) and N runs queued one after another;
//    for each, the time from the enqueue's commit to the first step's start,
//    both read from the database's clock (runs.created_at, step_runs.started_at).
// 1b. Event latency: a `twinflow scheduler` with a DAG triggered by an
//    artifact; for each of N new versions of it, the time from the outbox
//    event (written by the database in the version's transaction) to the
//    triggered run's first step.
// 1c. Cron latency (full mode only): a DAG scheduled every minute; the time
//    from each tick (runs.logical_time) to its first step.
// 2. Throughput: M queued runs of one no-op step, drained by one scheduler
//    executing one run at a time, one executing four at once, and two
//    executing four each (`twinflow scheduler --once --max-runs N`); steps
//    per second of wall time.
// 3. One wide run: a run of W independent steps (no-op, then 200 ms sleeps)
//    queued for daemons already running with -j 2: one with step sharing
//    off, one with it on (alone: its offers come back to itself), and two
//    (the second runs the steps the first offers). Wall time from the
//    enqueue to the run's end, steps per second, and how many steps each
//    scheduler claimed.
//
// Database: TWINFLOW_DATABASE_URL, else an embedded cluster in a temp home.
// TWINFLOW_BENCH_SMALL=1 (CI) uses N = 10, M = 50, W = 40 and 10.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "bench/spawn_twinflow.h"
#include "scheduler/definition/dag_loader.h"
#include "scheduler/execution/runner.h"
#include "store/embedded_postgres.h"
#include "store/run_ledger.h"
#include "store/run_queue.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace twinflow;

namespace {

pid_t spawn(const std::vector<std::string>& args, const fs::path& home, const std::string& url,
            const fs::path& log) {
  return bench::spawn_twinflow(args, home, url, log);
}

Dag noop_dag(const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path file = dir / "noop.yaml";
  std::ofstream(file) << "name: noop\nsteps:\n  - id: a\n    command: 'true'\n    cache: false\n";
  LoadResult loaded = load_dag_file(file.string());
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s", format_diagnostics(loaded.diagnostics).c_str());
    std::exit(1);
  }
  return *loaded.dag;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

void bench_latency(Store& store, const Dag& dag, const fs::path& home, const std::string& url,
                   int runs) {
  const fs::path empty = home / "no-dags";
  fs::create_directories(empty);
  pid_t daemon = spawn({"scheduler", "--dags-dir", empty.string(), "--poll-ms", "60000"}, home, url,
                       home / "daemon.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // listening by now
  pqxx::connection c(url);
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const int64_t run_id = *store.queue().enqueue_run(new_run_of(dag, "api"), {});
    for (int wait = 0; wait < 2000; ++wait) {
      pqxx::nontransaction tx(c);
      auto row = tx.exec_params1(
          "SELECT extract(epoch from (SELECT min(s.started_at) FROM step_runs s WHERE s.run_id = "
          "$1) - r.created_at) * 1000, r.status FROM runs r WHERE r.id = $1",
          run_id);
      if (!row[0].is_null() && row[1].as<std::string>() == "succeeded") {
        ms.push_back(row[0].as<double>());
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ::kill(daemon, SIGTERM);
  ::waitpid(daemon, nullptr, 0);
  if (ms.empty()) {
    std::printf("scheduler wake-up: no run started (see %s)\n", (home / "daemon.log").c_str());
    return;
  }
  std::printf(
      "queued run -> first step started (LISTEN/NOTIFY, 1 scheduler): median %.1f ms, "
      "p95 %.1f ms over %zu runs\n",
      percentile(ms, 0.5), percentile(ms, 0.95), ms.size());
}

// Records a new version of `artifact` the way a succeeded producer step does:
// the outbox trigger writes the event and NOTIFYs in the same transaction.
void produce_version(Store& store, const Dag& producer, const std::string& artifact, int n) {
  const int64_t run_id = record_run_start(store, prepare_fresh_run(producer), "bench", 1);
  const int64_t attempt = store.runs().start_attempt(run_id, "a", 1, "bench", 1, "", "");
  const std::string hash = "bench-" + std::to_string(n) + "-" + std::to_string(::getpid());
  store.runs().end_attempt_succeeded(run_id, "a", attempt, {},
                                     {{"out", artifact, "file", hash, "/dev/null", 0, {}}});
  store.runs().finish_run(run_id, "succeeded");
}

// 1b. A new artifact version -> the triggered DAG's first step started.
void bench_event_latency(Store& store, const Dag& producer, const fs::path& home,
                         const std::string& url, int events) {
  const fs::path dags = home / "triggered-dags";
  fs::create_directories(dags);
  std::ofstream(dags / "on_signal.yaml") << "name: on_signal\ntriggers:\n  - on_artifact: "
                                            "bench.signal\n    debounce: 0s\nsteps:\n  - id: a\n"
                                            "    command: 'true'\n    cache: false\n";
  pid_t daemon = spawn({"scheduler", "--dags-dir", dags.string(), "--poll-ms", "60000"}, home, url,
                       home / "events.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // listening by now
  pqxx::connection c(url);
  std::vector<double> ms;
  for (int i = 0; i < events; ++i) {
    produce_version(store, producer, "bench.signal", i);
    for (int wait = 0; wait < 2000; ++wait) {
      pqxx::nontransaction tx(c);
      auto row = tx.exec1(
          "SELECT count(*), (SELECT extract(epoch from (SELECT min(s.started_at) FROM step_runs s "
          "WHERE s.run_id = r.id) - e.created_at) * 1000 FROM runs r JOIN outbox_events e "
          "ON e.id = r.event_id WHERE r.status = 'succeeded' ORDER BY r.id DESC LIMIT 1) "
          "FROM runs WHERE event_id IS NOT NULL AND status = 'succeeded'");
      if (row[0].as<int>() == i + 1) {
        ms.push_back(row[1].as<double>());
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ::kill(daemon, SIGTERM);
  ::waitpid(daemon, nullptr, 0);
  if (ms.empty()) {
    std::printf("event latency: no triggered run started (see %s)\n",
                (home / "events.log").c_str());
    return;
  }
  std::printf(
      "new artifact version (outbox event) -> triggered run's first step started: median %.1f "
      "ms, p95 %.1f ms over %zu events\n",
      percentile(ms, 0.5), percentile(ms, 0.95), ms.size());
}

// 1c. A cron tick -> its run's first step started. Ticks come once a minute,
// so only the full benchmark waits for them.
void bench_cron_latency(const fs::path& home, const std::string& url, int ticks) {
  const fs::path dags = home / "cron-dags";
  fs::create_directories(dags);
  std::ofstream(dags / "every_minute.yaml")
      << "name: every_minute\nschedule: {cron: '* * * * *', timezone: UTC}\nsteps:\n"
         "  - id: a\n    command: 'true'\n    cache: false\n";
  pid_t daemon = spawn({"scheduler", "--dags-dir", dags.string(), "--poll-ms", "60000"}, home, url,
                       home / "cron.log");
  pqxx::connection c(url);
  std::vector<double> ms;
  // The first pass may fire the tick just past; count only the ticks after it.
  for (int wait = 0; wait < (ticks + 2) * 650; ++wait) {
    pqxx::nontransaction tx(c);
    auto rows = tx.exec(
        "SELECT extract(epoch from (SELECT min(s.started_at) FROM step_runs s "
        "WHERE s.run_id = r.id) - r.logical_time) * 1000 FROM runs r JOIN pipelines p "
        "ON p.id = r.pipeline_id WHERE p.name = 'every_minute' AND r.status = 'succeeded' "
        "AND r.logical_time > (SELECT min(logical_time) FROM runs) ORDER BY r.id");
    if (static_cast<int>(rows.size()) >= ticks) {
      for (const auto& row : rows) ms.push_back(row[0].as<double>());
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(daemon, SIGTERM);
  ::waitpid(daemon, nullptr, 0);
  if (ms.empty()) {
    std::printf("cron latency: no tick ran (see %s)\n", (home / "cron.log").c_str());
    return;
  }
  std::printf("cron tick -> first step started: median %.1f ms, max %.1f ms over %zu ticks\n",
              percentile(ms, 0.5), percentile(ms, 1.0), ms.size());
}

void bench_throughput(Store& store, const Dag& dag, const fs::path& home, const std::string& url,
                      int runs, int schedulers, int runs_at_once) {
  for (int i = 0; i < runs; ++i) store.queue().enqueue_run(new_run_of(dag, "api"), {});
  const fs::path empty = home / "no-dags";
  const auto start = Clock::now();
  std::vector<pid_t> pids;
  for (int i = 0; i < schedulers; ++i)
    pids.push_back(spawn({"scheduler", "--once", "--dags-dir", empty.string(), "--max-runs",
                          std::to_string(runs_at_once)},
                         home, url, home / "once.log"));
  for (pid_t pid : pids) ::waitpid(pid, nullptr, 0);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "queue drain: %d one-step runs, %d scheduler%s, %d run%s at once each: %.2f s, "
      "%.0f steps/s\n",
      runs, schedulers, schedulers == 1 ? "" : "s", runs_at_once, runs_at_once == 1 ? "" : "s",
      seconds, runs / seconds);
}

Dag wide_dag(const fs::path& dir, int width, const std::string& command) {
  fs::create_directories(dir);
  const fs::path file = dir / "wide.yaml";
  std::ofstream out(file);
  out << "name: wide\nsteps:\n";
  for (int i = 0; i < width; ++i)
    out << "  - id: s" << i << "\n    cache: false\n    command: '" << command << "'\n";
  out.close();
  LoadResult loaded = load_dag_file(file.string());
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s", format_diagnostics(loaded.diagnostics).c_str());
    std::exit(1);
  }
  return *loaded.dag;
}

void wait_for_schedulers(pqxx::connection& c, int n) {
  for (int i = 0; i < 400; ++i) {
    pqxx::nontransaction tx(c);
    if (tx.exec1("SELECT count(*) FROM schedulers WHERE stopped_at IS NULL")[0].as<int>() >= n)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // past their first pass
}

void bench_wide_run(Store& store, const fs::path& home, const std::string& url, int width,
                    const std::string& command, int schedulers, bool share) {
  const Dag dag = wide_dag(home / "wide-dags", width, command);
  const fs::path empty = home / "no-dags";
  fs::create_directories(empty);
  pqxx::connection c(url);
  {
    pqxx::nontransaction tx(c);
    tx.exec("UPDATE schedulers SET stopped_at = now() WHERE stopped_at IS NULL");
  }
  std::vector<pid_t> pids;
  for (int i = 0; i < schedulers; ++i) {
    std::vector<std::string> args = {"scheduler", "--dags-dir", empty.string(), "--poll-ms", "1000",
                                     "-j",        "2",          "--max-runs",   "2"};
    if (!share) args.push_back("--no-share-steps");
    pids.push_back(spawn(args, home, url, home / "wide.log"));
  }
  wait_for_schedulers(c, schedulers);
  const auto start = Clock::now();
  const int64_t run_id = *store.queue().enqueue_run(new_run_of(dag, "api"), {});
  std::string status = "queued";
  while (status == "queued" || status == "running") {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    status = store.runs().find_run(run_id)->status;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (pid_t pid : pids) ::kill(pid, SIGTERM);
  for (pid_t pid : pids) ::waitpid(pid, nullptr, 0);
  pqxx::nontransaction tx(c);
  auto claims = tx.exec_params(
      "SELECT count(*) FILTER (WHERE o.claimed_by = r.host || ':' || r.pid), "
      "count(*) FILTER (WHERE o.claimed_by <> r.host || ':' || r.pid) "
      "FROM step_offers o JOIN runs r ON r.id = o.run_id WHERE o.run_id = $1",
      run_id)[0];
  std::printf(
      "one run of %d '%s' steps, %d scheduler%s -j 2, sharing %s: %s in %.2f s, %.0f steps/s; "
      "offers taken back by the owner %d, run by another scheduler %d\n",
      width, command.c_str(), schedulers, schedulers == 1 ? "" : "s", share ? "on" : "off",
      status.c_str(), seconds, width / seconds, claims[0].as<int>(), claims[1].as<int>());
}

}  // namespace

int main() {
  const bool small = std::getenv("TWINFLOW_BENCH_SMALL") != nullptr;
  const fs::path home =
      fs::temp_directory_path() / ("twinflow-sched-bench-" + std::to_string(::getpid()));
  fs::create_directories(home);
  std::unique_ptr<EmbeddedPostgres> cluster;
  std::string url;
  if (const char* env = std::getenv("TWINFLOW_DATABASE_URL"); env && *env) {
    url = env;
  } else {
    cluster = std::make_unique<EmbeddedPostgres>(EmbeddedPostgresOptions{home, true, ""});
    url = cluster->ensure_running();
  }
  {
    Store store(url);
    store.migrate();
    const Dag dag = noop_dag(home / "dags");
    bench_latency(store, dag, home, url, small ? 10 : 100);
    bench_event_latency(store, dag, home, url, small ? 10 : 100);
    if (small)
      std::printf("cron tick latency: not measured in small mode (ticks come once a minute)\n");
    else
      bench_cron_latency(home, url, 3);
    bench_throughput(store, dag, home, url, small ? 50 : 500, 1, 1);
    bench_throughput(store, dag, home, url, small ? 50 : 500, 1, 4);
    bench_throughput(store, dag, home, url, small ? 50 : 500, 2, 4);
    for (const auto& [width, command] : {std::pair{small ? 40 : 200, std::string("true")},
                                         std::pair{small ? 10 : 40, std::string("sleep 0.2")}}) {
      bench_wide_run(store, home, url, width, command, 1, false);
      bench_wide_run(store, home, url, width, command, 1, true);
      bench_wide_run(store, home, url, width, command, 2, true);
    }
  }
  if (cluster) cluster->stop();
  fs::remove_all(home);
  return 0;
}
