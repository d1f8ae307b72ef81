// Slurm executor overhead: the same DAG of no-op command steps (`true`) run
// by the local executor and by the slurm executor on a one-node cluster
// (scripts/slurm_cluster.sh), as a chain (latency: submit, schedule, start,
// notice the end) and as a fan-out (throughput), every state change recorded
// in PostgreSQL. Prints seconds per run and the overhead per step.
//
// Database: TWINFLOW_DATABASE_URL, else an embedded cluster in a temp home.
// TWINFLOW_BENCH_SMALL=1 (CI) runs 6 steps instead of 20. When the Slurm
// cluster cannot start (no slurm-wlm here), it says why and exits 0: the
// tests, not the benchmark, fail loudly for that.
#include <unistd.h>

extern char** environ;

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include "scheduler/definition/dag_loader.h"
#include "scheduler/execution/executor.h"
#include "scheduler/execution/runner.h"
#include "scheduler/launchers/slurm_launcher.h"
#include "scheduler/launchers/slurm_queue.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "store/embedded_postgres.h"
#include "tests/support/slurm_cluster.h"
#include "util/duration.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace twinflow;

namespace {

std::string dag_yaml(int steps, bool chain, const std::string& executor) {
  std::ostringstream yaml;
  yaml << "name: bench_" << executor << (chain ? "_chain" : "_fanout") << "\nexecutor: " << executor
       << "\nsteps:\n";
  for (int i = 0; i < steps; ++i) {
    yaml << "  - id: s" << i << "\n    command: 'true'\n    cache: false\n";
    if (chain && i > 0) yaml << "    needs: [s" << i - 1 << "]\n";
  }
  return yaml.str();
}

// Seconds for one run, or a negative number when it did not succeed.
double time_run(Store& store, BlobStore& blobs, const fs::path& home, const std::string& url,
                int steps, bool chain, int jobs, const std::string& executor) {
  auto loaded = load_dag_string(dag_yaml(steps, chain, executor), "bench.yaml");
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
  options.slurm_poll_interval = Millis(500);
  ProgressSink quiet;
  auto start = Clock::now();
  auto run = prepare_fresh_run(std::move(*loaded.dag));
  int64_t run_id = record_run_start(store, run, options.host, ::getpid());
  Executor executor_(run.dag, run_id, store, blobs, quiet, options);
  std::string status = executor_.execute(run.seed);
  double t = seconds_since(start);
  if (status != "succeeded") {
    std::fprintf(stderr, "run %lld on %s %s\n", (long long)run_id, executor.c_str(),
                 status.c_str());
    return -1;
  }
  return t;
}

// Seconds per job for Slurm alone: sbatch a no-op, then ask squeue every
// 10 ms until it says COMPLETED, one job after the other: the floor under any
// executor's per-step latency on this cluster.
double slurm_alone_per_job(int jobs, const fs::path& dir) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  SlurmLauncherOptions options;
  auto start = Clock::now();
  for (int i = 0; i < jobs; ++i) {
    CommandOutput out = run_slurm_command(
        {"sbatch", "--parsable", "--output=/dev/null", "--chdir=" + dir.string(), "--wrap=true"},
        env, options);
    std::optional<std::string> id = parse_sbatch_job_id(out.out);
    if (out.exit_code != 0 || !id) {
      std::fprintf(stderr, "sbatch failed: %s\n", out.err.c_str());
      return -1;
    }
    for (;;) {
      auto jobs_now = parse_squeue(run_slurm_command(
                                       [&] {
                                         std::vector<std::string> argv = {"squeue"};
                                         for (auto& arg : squeue_arguments({*id}))
                                           argv.push_back(arg);
                                         return argv;
                                       }(),
                                       env, options)
                                       .out);
      if (!jobs_now.empty() && jobs_now[0].state == "COMPLETED") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return seconds_since(start) / jobs;
}

}  // namespace

int main() {
  bool small = std::getenv("TWINFLOW_BENCH_SMALL") != nullptr;
  int steps = small ? 6 : 20;
  int jobs = 2;  // the cluster's node has the machine's CPUs; one per job
  // A cluster of its own, on ports of its own: the tests' may still be up.
  const fs::path cluster_dir = "/tmp/twinflow-slurm-bench-" + std::to_string(::getpid());
  ::setenv("TWINFLOW_SLURM_PORT", "16827", 0);
  SlurmClusterStart slurm = start_shared_slurm_cluster(cluster_dir);
  if (!slurm.ok) {
    std::printf("slurm_bench: skipped, the one-node Slurm cluster did not start:\n%s\n",
                slurm.output.c_str());
    run_slurm_cluster_script("stop", cluster_dir);
    fs::remove_all(cluster_dir);
    fs::remove(cluster_dir.string() + ".lock");
    return 0;
  }
  fs::path home =
      fs::temp_directory_path() / ("twinflow-slurm-bench-home-" + std::to_string(::getpid()));
  fs::create_directories(home);
  std::string url;
  std::unique_ptr<EmbeddedPostgres> postgres;
  if (const char* env = std::getenv("TWINFLOW_DATABASE_URL"); env && *env) {
    url = env;
  } else {
    postgres = std::make_unique<EmbeddedPostgres>(EmbeddedPostgresOptions{home, true, ""});
    url = postgres->ensure_running();
  }
  int failures = 0;
  {
    Store store(url);
    store.migrate();
    BlobStore blobs(home / "artifacts");
    std::printf("%d no-op steps, %d jobs, one-node Slurm cluster, every state change recorded\n",
                steps, jobs);
    std::printf("%-8s %10s %10s %18s\n", "shape", "local s", "slurm s", "overhead/step");
    for (bool chain : {true, false}) {
      double local = time_run(store, blobs, home, url, steps, chain, jobs, "local");
      double on_slurm = time_run(store, blobs, home, url, steps, chain, jobs, "slurm");
      if (local < 0 || on_slurm < 0) {
        ++failures;
        continue;
      }
      // A chain pays the overhead once per step; a fan-out once per `jobs` steps.
      double per_step_ms = (on_slurm - local) / steps * 1000 * (chain ? 1 : jobs);
      std::printf("%-8s %10.3f %10.3f %15.1f ms\n", chain ? "chain" : "fan-out", local, on_slurm,
                  per_step_ms);
    }
    double alone = slurm_alone_per_job(small ? 3 : 5, home);
    if (alone < 0) ++failures;
    std::printf(
        "slurm alone (sbatch a no-op, squeue every 10 ms until COMPLETED): %.1f ms per job\n",
        alone * 1000);
  }
  if (postgres) postgres->stop();
  run_slurm_cluster_script("stop", cluster_dir);
  fs::remove_all(cluster_dir);
  fs::remove(cluster_dir.string() + ".lock");
  fs::remove_all(home);
  return failures == 0 ? 0 : 1;
}
