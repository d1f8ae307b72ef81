#include "cli/run_foreground.h"

#include <string.h>
#include <unistd.h>

#include <iostream>
#include <thread>

#include "cli/app_context.h"
#include "cli/console_progress.h"
#include "cli/interrupt.h"
#include "cli/render.h"
#include "scheduler/definition/dag_loader.h"
#include "scheduler/execution/executor.h"
#include "scheduler/execution/openlineage_sink.h"
#include "scheduler/execution/recovery.h"
#include "store/run_ledger.h"

namespace twinflow {

std::optional<std::map<std::string, std::string>> parse_param_overrides(
    const std::vector<std::string>& params) {
  std::map<std::string, std::string> overrides;
  for (const auto& param : params) {
    auto eq = param.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "twinflow: -p expects key=value, got '" << param << "'\n";
      return std::nullopt;
    }
    overrides[param.substr(0, eq)] = param.substr(eq + 1);
  }
  return overrides;
}

std::optional<Dag> load_dag_with_params(const std::string& dag_file,
                                        const std::vector<std::string>& params) {
  auto overrides = parse_param_overrides(params);
  if (!overrides) return std::nullopt;
  auto loaded = load_dag_file(dag_file, {*overrides});
  if (!loaded.ok()) {
    std::cerr << format_diagnostics(loaded.diagnostics);
    return std::nullopt;
  }
  return std::move(*loaded.dag);
}

namespace {

int exit_code_of(const std::string& status) {
  if (status == run_status::kSucceeded) return kExitOk;
  if (status == run_status::kCancelled) return kExitCancelled;
  return kExitFailed;
}

// One line on why a run did not succeed: every non-zero exit says why.
std::string why_not_succeeded(Store& store, const RunRecord& run, const InterruptPipe& interrupt) {
  const std::string name = "run " + std::to_string(run.id);
  if (run.status == run_status::kCancelled) {
    if (interrupt.interrupted())
      return name + " cancelled by SIG" + sigabbrev_np(interrupt.signal_number());
    return name + " cancelled (`twinflow cancel`)";
  }
  if (run.status == run_status::kInterrupted)
    return name + " was recorded interrupted by another twinflow process (" +
           (run.error.empty() ? "its heartbeat looked stale" : run.error) + "); `twinflow rerun " +
           std::to_string(run.id) + " --failed` finishes it";
  std::string failed;
  for (const auto& step : store.runs().run_steps(run.id))
    if (step.status == step_status::kFailed) failed += (failed.empty() ? "" : ", ") + step.step_id;
  std::string why = name + " " + run.status;
  if (!failed.empty()) why += ": step(s) " + failed + " failed";
  if (!run.error.empty()) why += (failed.empty() ? ": " : "; ") + run.error;
  return why;
}

}  // namespace

int run_in_foreground(AppContext& ctx, const PreparedRun& run, const ForegroundOptions& options) {
  Store& store = ctx.store();
  std::string host = host_name();
  recover_interrupted_runs(store, host);
  InterruptPipe interrupt;
  int64_t run_id = record_run_start(store, run, host, ::getpid());
  // Once the run is recorded, a database restart is waited out (up to ten
  // minutes) rather than losing what the running steps produce.
  ReconnectPolicy reconnect;
  reconnect.give_up_after = std::chrono::minutes(10);
  reconnect.log = [](const std::string& line) { std::cerr << "twinflow: " << line << "\n"; };
  store.set_reconnect_policy(reconnect);
  ExecutorOptions exec;
  exec.jobs =
      options.jobs > 0 ? options.jobs : int(std::max(1u, std::thread::hardware_concurrency()));
  exec.use_cache = !options.no_cache;
  exec.home = ctx.home();
  exec.self_exe = self_executable();
  exec.database_url = ctx.database_url();
  exec.host = host;
  exec.wake_fd = interrupt.read_fd();
  exec.cancel_requested = [&interrupt] { return interrupt.interrupted(); };
  std::ostream& progress_out = ctx.json ? std::cerr : std::cout;
  ConsoleProgress console(progress_out);
  // With TWINFLOW_OPENLINEAGE_URL or _FILE set, every attempt is also an OpenLineage event.
  std::unique_ptr<ProgressSink> lineage = openlineage_from_environment(store, console);
  ProgressSink& progress = lineage ? *lineage : console;
  Executor executor(run.dag, run_id, store, ctx.blobs(), progress, exec);
  const std::string status = executor.execute(run.seed);
  auto record = store.runs().find_run(run_id);
  if (ctx.json) {
    std::cout << run_details_json(store, *record).dump(2) << "\n";
  } else {
    std::cout << "\n";
    print_run_details(std::cout, store, *record);
  }
  const int code = exit_code_of(record ? record->status : status);
  if (code != kExitOk) {
    std::cout.flush();
    std::cerr << "twinflow: " << why_not_succeeded(store, *record, interrupt) << "\n";
  }
  return code;
}

}  // namespace twinflow
