// The dashboard under load: wrk against `twinflow web` over a database of N
// runs (seeded with one INSERT ... SELECT generate_series), for D seconds per
// target: the newest page of /api/v1/runs, a filtered page, a page deep in the
// keyset pagination, a run, a run polled with If-None-Match (304), the
// pipelines grid (each pipeline's last 14 runs), and the runs page itself. Prints requests per
// second and latency percentiles (target: >= 2,000 req/s, p99 <= 50 ms).
//
// wrk and the server share the machine's cores, so the figures are what one
// machine does serving itself. Database: a fresh database on
// TWINFLOW_DATABASE_URL, else an embedded cluster in a temp home.
// TWINFLOW_BENCH_SMALL=1 (CI): N = 5,000, D = 2 s; otherwise N = 100,000,
// D = 5 s. TWINFLOW_BENCH_KEEP=1 keeps the database and home.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <regex>
#include <sstream>
#include <thread>

#include "bench/bench_database.h"
#include "bench/spawn_twinflow.h"
#include "store/dashboard_queries.h"
#include "store/embedded_postgres.h"
#include "store/store.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace twinflow;

namespace {

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string run_output(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

// wrk prints "99%    3.21ms"; in milliseconds.
double latency_ms(const std::string& wrk, const std::string& percent) {
  std::smatch m;
  if (!std::regex_search(wrk, m, std::regex("\\s" + percent + "%\\s+([0-9.]+)(us|ms|s)\\b")))
    return -1;
  const double v = std::stod(m[1]);
  return m[2] == "us" ? v / 1000 : m[2] == "s" ? v * 1000 : v;
}

bool load(const std::string& label, const std::string& url, int seconds,
          const std::string& header = "") {
  const std::string wrk =
      run_output("wrk -t2 -c8 -d" + std::to_string(seconds) + "s --latency " +
                 (header.empty() ? "" : "-H '" + header + "' ") + "'" + url + "'");
  std::smatch rps, non2xx;
  if (!std::regex_search(wrk, rps, std::regex("Requests/sec:\\s+([0-9.]+)"))) {
    std::fprintf(stderr, "wrk failed for %s:\n%s\n", url.c_str(), wrk.c_str());
    return false;
  }
  const bool errors =
      std::regex_search(wrk, non2xx, std::regex("Non-2xx or 3xx responses: (\\d+)"));
  std::printf("%-34s %8.0f req/s, p50 %6.2f ms, p99 %6.2f ms%s\n", label.c_str(), std::stod(rps[1]),
              latency_ms(wrk, "50"), latency_ms(wrk, "99"),
              errors ? (", " + std::string(non2xx[1]) + " not 2xx").c_str() : "");
  std::fflush(stdout);
  return !errors;
}

}  // namespace

int main() {
  const bool small = std::getenv("TWINFLOW_BENCH_SMALL") != nullptr;
  const int64_t runs = small ? 5000 : 100000;
  const int seconds = small ? 2 : 5;
  if (run_output("command -v wrk").empty()) {
    std::fprintf(stderr, "web_bench needs wrk (scripts/setup.sh installs it)\n");
    return 1;
  }
  const fs::path home =
      fs::temp_directory_path() / ("twinflow-web-bench-" + std::to_string(::getpid()));
  fs::create_directories(home);
  bench::BenchDatabase database(home, "twinflow_web_bench_");
  const std::string url = database.url();
  int64_t newest = 0;
  {
    Store store(url);
    store.migrate();
    NewRun run;
    run.pipeline = "bench_pipeline";
    run.dag_file = "dags/bench.yaml";
    run.dag_content = "name: bench_pipeline\nsteps:\n  - id: a\n    command: 'true'\n";
    run.dag_hash = "bench-snapshot";
    run.step_ids = {"extract", "transform", "load"};
    const auto start = Clock::now();
    newest = DashboardQueries(store).seed_synthetic_runs(run, runs);
    std::printf("seeded %lld runs with 3 steps each in one statement: %.2f s\n",
                static_cast<long long>(runs),
                std::chrono::duration<double>(Clock::now() - start).count());
  }
  const fs::path log = home / "web.log";
  const pid_t pid =
      bench::spawn_twinflow({"web", "--bind", "127.0.0.1:0", "--threads", "4"}, home, url, log);
  std::string server;
  const std::regex listening("listening on (http://127\\.0\\.0\\.1:[0-9]+)");
  for (int i = 0; i < 200 && pid > 0 && server.empty(); ++i) {
    std::smatch m;
    const std::string text = slurp(log);
    if (std::regex_search(text, m, listening))
      server = m[1];
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  bool ok = !server.empty();
  if (!ok) std::fprintf(stderr, "twinflow web did not start:\n%s\n", slurp(log).c_str());
  if (ok) {
    const std::string middle = std::to_string(newest - runs / 2);
    ok &= load("GET /api/v1/runs (newest 50)", server + "/api/v1/runs?limit=50", seconds);
    ok &= load("GET /api/v1/runs?status=failed", server + "/api/v1/runs?status=failed&limit=50",
               seconds);
    ok &= load("GET /api/v1/runs?before=(middle)",
               server + "/api/v1/runs?limit=50&before=" + middle, seconds);
    ok &= load("GET /api/v1/runs/(id)", server + "/api/v1/runs/" + middle, seconds);
    // The live run page's poll: unchanged, so 304 without a body.
    std::string etag;
    {
      const std::string headers =
          run_output("curl -s -D - -o /dev/null '" + server + "/api/v1/runs/" + middle + "'");
      std::smatch m;
      if (std::regex_search(headers, m, std::regex("ETag: (\"[0-9a-f]+\")", std::regex::icase)))
        etag = m[1];
    }
    if (!etag.empty())
      ok &= load("GET /api/v1/runs/(id) If-None-Match", server + "/api/v1/runs/" + middle, seconds,
                 "If-None-Match: " + etag);
    ok &= load("GET /api/v1/pipelines?recent=14", server + "/api/v1/pipelines?recent=14", seconds);
    ok &= load("GET / (the runs page)", server + "/", seconds);
  }
  if (pid > 0) {
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  return ok ? 0 : 1;
}
