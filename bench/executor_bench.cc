// Executor overhead: 1,000 no-op command steps (`true`) as a chain and as a
// wide fan-out, every state change recorded in PostgreSQL, beside ninja
// running the same commands from a generated build.ninja. Also the time to
// parse, validate and plan a 10,000-step DAG.
//
// Database: TWINFLOW_DATABASE_URL, else an embedded cluster in a temp home.
// TWINFLOW_BENCH_SMALL=1 (CI) runs 200 steps and a 2,000-step plan.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "scheduler/definition/dag_loader.h"
#include "scheduler/execution/executor.h"
#include "scheduler/execution/runner.h"
#include "scheduler/planning/plan.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "store/embedded_postgres.h"
#include "util/duration.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace twinflow;

namespace {

std::string dag_yaml(int steps, bool chain) {
  std::ostringstream yaml;
  yaml << "name: bench_" << (chain ? "chain" : "fanout") << "\nsteps:\n";
  for (int i = 0; i < steps; ++i) {
    yaml << "  - id: s" << i << "\n    command: 'true'\n    cache: false\n";
    if (chain && i > 0) yaml << "    needs: [s" << i - 1 << "]\n";
  }
  return yaml.str();
}

std::string ninja_file(int steps, bool chain) {
  std::ostringstream out;
  out << "rule r\n  command = true\n";
  for (int i = 0; i < steps; ++i) {
    out << "build s" << i << ": r";
    if (chain && i > 0) out << " s" << i - 1;
    out << "\n";
  }
  return out.str();
}

double time_ninja(const fs::path& dir, int steps, bool chain, int jobs) {
  fs::create_directories(dir);
  std::ofstream(dir / "build.ninja") << ninja_file(steps, chain);
  std::string cmd = "ninja -C " + dir.string() + " -j " + std::to_string(jobs) + " >/dev/null 2>&1";
  auto start = Clock::now();
  int rc = std::system(cmd.c_str());
  double t = seconds_since(start);
  return rc == 0 ? t : -1;
}

double time_twinflow(Store& store, BlobStore& blobs, const fs::path& home, const std::string& url,
                     int steps, bool chain, int jobs) {
  auto loaded = load_dag_string(dag_yaml(steps, chain), "bench.yaml");
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s", format_diagnostics(loaded.diagnostics).c_str());
    std::exit(1);
  }
  ExecutorOptions options;
  options.jobs = jobs;
  options.use_cache = false;
  options.home = home;
  options.self_exe = TWINFLOW_BINARY;  // typed steps and the step supervisor
  options.database_url = url;
  options.host = host_name();
  ProgressSink quiet;
  auto start = Clock::now();
  auto run = prepare_fresh_run(std::move(*loaded.dag));
  int64_t run_id = record_run_start(store, run, options.host, ::getpid());
  Executor executor(run.dag, run_id, store, blobs, quiet, options);
  std::string status = executor.execute(run.seed);
  double t = seconds_since(start);
  if (status != "succeeded")
    std::fprintf(stderr, "run %lld %s\n", (long long)run_id, status.c_str());
  return t;
}

void bench_plan(int steps) {
  std::ostringstream yaml;
  yaml << "name: big\nsteps:\n";
  for (int i = 0; i < steps; ++i) {
    yaml << "  - id: s" << i << "\n    command: echo " << i << "\n    outputs: [o]\n";
    if (i > 0) yaml << "    inputs: {x: s" << (i - 1) / 2 << ".o}\n";  // a binary tree
  }
  std::string text = yaml.str();
  auto start = Clock::now();
  auto loaded = load_dag_string(text, "big.yaml");
  double parse = seconds_since(start);
  Plan plan(*loaded.dag);
  double total = seconds_since(start);
  std::printf("parse+validate+plan %d steps (%zu KB): %.1f ms (parse+validate %.1f ms)  %s\n",
              steps, text.size() / 1024, total * 1000, parse * 1000,
              loaded.ok() ? "ok" : "INVALID");
}

}  // namespace

int main() {
  bool small = std::getenv("TWINFLOW_BENCH_SMALL") != nullptr;
  int steps = small ? 200 : 1000;
  int jobs = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  fs::path home = fs::temp_directory_path() / ("twinflow-bench-" + std::to_string(::getpid()));
  fs::create_directories(home);
  std::string url;
  std::unique_ptr<EmbeddedPostgres> cluster;
  if (const char* env = std::getenv("TWINFLOW_DATABASE_URL"); env && *env) {
    url = env;
  } else {
    cluster = std::make_unique<EmbeddedPostgres>(EmbeddedPostgresOptions{home, true, ""});
    url = cluster->ensure_running();
  }
  {
    Store store(url);
    store.migrate();
    BlobStore blobs(home / "artifacts");
    std::printf("%d no-op steps, %d jobs, every state change recorded\n", steps, jobs);
    std::printf("%-8s %12s %12s %10s %14s\n", "shape", "twinflow s", "ninja s", "ratio",
                "overhead/step");
    for (bool chain : {true, false}) {
      double ninja = time_ninja(home / (chain ? "ninja-chain" : "ninja-fan"), steps, chain, jobs);
      double ours = time_twinflow(store, blobs, home, url, steps, chain, jobs);
      double per_step_ms = (ours - ninja) / steps * 1000 * (chain ? 1 : jobs);
      std::printf("%-8s %12.3f %12.3f %9.2fx %11.3f ms\n", chain ? "chain" : "fan-out", ours, ninja,
                  ninja > 0 ? ours / ninja : 0.0, per_step_ms);
    }
    bench_plan(small ? 2000 : 10000);
  }
  if (cluster) cluster->stop();
  fs::remove_all(home);
  return 0;
}
