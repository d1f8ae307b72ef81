// The scheduler daemon: how fast a queued run starts, and how many no-op runs
// per second flow through the queue with one and with two schedulers.
//
// 1. Wake-up latency: a `twinflow scheduler` process (poll interval 60 s, so
//    only LISTEN/NOTIFY can wake it) and N runs queued one after another;
//    for each, the time from the enqueue's commit to the first step's start,
//    both read from the database's clock (runs.created_at, step_runs.started_at).
// 2. Throughput: M queued runs of one no-op step, drained by one and by two
//    `twinflow scheduler --once` processes; steps per second of wall time.
//
// Database: TWINFLOW_DATABASE_URL, else an embedded cluster in a temp home.
// TWINFLOW_BENCH_SMALL=1 (CI) uses N = 10, M = 50.
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
#include "scheduler/dag_loader.h"
#include "scheduler/runner.h"
#include "store/embedded_postgres.h"

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
    const int64_t run_id = *store.enqueue_run(new_run_of(dag, "api"), {});
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

void bench_throughput(Store& store, const Dag& dag, const fs::path& home, const std::string& url,
                      int runs, int schedulers) {
  for (int i = 0; i < runs; ++i) store.enqueue_run(new_run_of(dag, "api"), {});
  const fs::path empty = home / "no-dags";
  const auto start = Clock::now();
  std::vector<pid_t> pids;
  for (int i = 0; i < schedulers; ++i)
    pids.push_back(
        spawn({"scheduler", "--once", "--dags-dir", empty.string()}, home, url, home / "once.log"));
  for (pid_t pid : pids) ::waitpid(pid, nullptr, 0);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("queue drain: %d one-step runs, %d scheduler%s: %.2f s, %.0f steps/s\n", runs,
              schedulers, schedulers == 1 ? "" : "s", seconds, runs / seconds);
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
    bench_throughput(store, dag, home, url, small ? 50 : 500, 1);
    bench_throughput(store, dag, home, url, small ? 50 : 500, 2);
  }
  if (cluster) cluster->stop();
  fs::remove_all(home);
  return 0;
}
