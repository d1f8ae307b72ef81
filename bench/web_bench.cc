// The dashboard under load: wrk against `twinflow web` over a database of N
// runs (seeded with one INSERT ... SELECT generate_series), for D seconds per
// target: the newest page of /api/v1/runs, a filtered page, pages deep in the
// keyset pagination both ways, a run, a run polled with If-None-Match (304),
// the pipelines grid (each pipeline's last 14 runs), the other lists' first
// pages, and the runs page itself. Each line gives requests per second and
// latency percentiles beside a baseline measured first in the same run by the
// same server: /api/v1/info, a route that takes a session but asks the
// database nothing. Target: >= 2,000 req/s and p99 <= 50 ms for every API
// route at 100k runs. Asked again and again, a page's body is sent as the
// dashboard kept it once its statement finds the rows unchanged
// (web/response_cache.h); a last line asks another page of runs with every
// request, each one built: the cost of a page whose rows changed.
//
// wrk and the server share the machine's cores (and PostgreSQL's), so the
// figures are what one machine does serving itself; the baseline says what
// the machine had to give during the run. Database: a fresh database on
// TWINFLOW_DATABASE_URL, else an embedded cluster in a temp home.
// Sizes: `web_bench` runs N = 100,000, D = 5 s; TWINFLOW_BENCH_SMALL=1 (CI,
// scripts/test.sh) N = 5,000, D = 2 s; `web_bench --runs N --seconds D`
// anything else. TWINFLOW_BENCH_KEEP=1 keeps the database and home.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <regex>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

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

struct Figures {
  double rps = 0, p50 = -1, p99 = -1;
  bool ok = false;
};

// `script`: a wrk Lua script (e.g. one that varies the request), or "".
Figures load(const std::string& url, int seconds, const std::string& header = "",
             const std::string& script = "") {
  const std::string wrk =
      run_output("wrk -t2 -c8 -d" + std::to_string(seconds) + "s --latency " +
                 (header.empty() ? "" : "-H '" + header + "' ") +
                 (script.empty() ? "" : "-s '" + script + "' ") + "'" + url + "'");
  std::smatch rps, non2xx;
  if (!std::regex_search(wrk, rps, std::regex("Requests/sec:\\s+([0-9.]+)"))) {
    std::fprintf(stderr, "wrk failed for %s:\n%s\n", url.c_str(), wrk.c_str());
    return {};
  }
  const bool errors =
      std::regex_search(wrk, non2xx, std::regex("Non-2xx or 3xx responses: (\\d+)"));
  if (errors)
    std::fprintf(stderr, "%s: %s answers not 2xx or 3xx\n", url.c_str(), non2xx[1].str().c_str());
  return {std::stod(rps[1]), latency_ms(wrk, "50"), latency_ms(wrk, "99"), !errors};
}

void print(const std::string& label, const Figures& f, const Figures& baseline) {
  const bool api =
      label.find("/api/") != std::string::npos && label.find("info") == std::string::npos;
  const bool met = f.rps >= 2000 && f.p99 >= 0 && f.p99 <= 50;
  std::printf("%-36s %7.0f req/s (%3.0f%% of baseline)  p50 %6.2f ms  p99 %6.2f ms%s\n",
              label.c_str(), f.rps, baseline.rps > 0 ? 100 * f.rps / baseline.rps : 0, f.p50, f.p99,
              !f.ok ? "  FAILED"
              : api ? (met ? "  target met" : "  below target")
                    : "");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const bool small = std::getenv("TWINFLOW_BENCH_SMALL") != nullptr;
  int64_t runs = small ? 5000 : 100000;
  int seconds = small ? 2 : 5;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--runs" || arg == "--seconds") && i + 1 < argc) {
      const long long v = std::atoll(argv[++i]);
      if (v < 1 || v > 100000000) {
        std::fprintf(stderr, "web_bench: %s must be a positive number\n", arg.c_str());
        return 2;
      }
      if (arg == "--runs")
        runs = v;
      else
        seconds = static_cast<int>(v);
    } else {
      std::fprintf(stderr, "usage: web_bench [--runs N] [--seconds D]\n");
      return 2;
    }
  }
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
    // The live run page's poll: unchanged, so 304 without a body.
    std::string etag;
    {
      const std::string headers =
          run_output("curl -s -D - -o /dev/null '" + server + "/api/v1/runs/" + middle + "'");
      std::smatch m;
      if (std::regex_search(headers, m, std::regex("ETag: (\"[0-9a-f]+\")", std::regex::icase)))
        etag = m[1];
    }
    ok &= !etag.empty();
    if (etag.empty()) std::fprintf(stderr, "no ETag on /api/v1/runs/%s\n", middle.c_str());
    const Figures baseline = load(server + "/api/v1/info", seconds);
    print("GET /api/v1/info (baseline, no SQL)", baseline, baseline);
    const std::vector<std::tuple<std::string, std::string, std::string>> targets = {
        {"GET /api/v1/runs (newest 50)", "/api/v1/runs?limit=50", ""},
        {"GET /api/v1/runs?status=failed", "/api/v1/runs?status=failed&limit=50", ""},
        {"GET /api/v1/runs?before=(middle)", "/api/v1/runs?limit=50&before=" + middle, ""},
        {"GET /api/v1/runs?after=(middle)", "/api/v1/runs?limit=50&after=" + middle, ""},
        {"GET /api/v1/runs/(id)", "/api/v1/runs/" + middle, ""},
        {"GET /api/v1/runs/(id) If-None-Match", "/api/v1/runs/" + middle,
         etag.empty() ? "" : "If-None-Match: " + etag},
        {"GET /api/v1/pipelines?recent=14", "/api/v1/pipelines?recent=14", ""},
        {"GET /api/v1/pipelines", "/api/v1/pipelines", ""},
        {"GET /api/v1/artifacts", "/api/v1/artifacts", ""},
        {"GET /api/v1/models", "/api/v1/models", ""},
        {"GET /api/v1/prompts", "/api/v1/prompts", ""},
        {"GET /api/v1/documents", "/api/v1/documents", ""},
        {"GET / (the page)", "/", ""},
    };
    for (const auto& [label, path, header] : targets) {
      const Figures f = load(server + path, seconds, header);
      print(label, f, baseline);
      ok &= f.ok;
    }
    // The lines above ask the same pages again and again: the dashboard then
    // sends the bodies it kept, once their rows' validator is read. Here every
    // request asks another page (a cursor moving through the runs), so that
    // each one is built: what a page whose rows changed costs.
    const fs::path varying = home / "varying_pages.lua";
    std::ofstream(varying) << "local n = 0\nrequest = function()\n  n = n + 1\n"
                              "  return wrk.format(nil, '/api/v1/runs?limit=50&before=' .. ("
                           << newest << " - (n * 7919) % " << std::max<int64_t>(runs - 50, 1)
                           << "))\nend\n";
    const Figures f = load(server + "/api/v1/runs", seconds, "", varying.string());
    print("GET /api/v1/runs?before=(varying)", f, baseline);
    ok &= f.ok;
  }
  if (pid > 0) {
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  return ok ? 0 : 1;
}
