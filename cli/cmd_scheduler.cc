// The daemon and its controls:
//   `twinflow scheduler [--once] [--dags-dir DIR] [--poll-ms N] [--grace S]
//                       [--stale-after S] [--max-runs N] [-j N] [--no-share-steps]`
//   `twinflow trigger DAG [-p k=v]...`   enqueue a run for a scheduler
//   `twinflow pause DAG` / `twinflow unpause DAG`   (a DAG name or file)
// See scheduler/daemon/daemon.h for what a pass does.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/run_foreground.h"
#include "scheduler/daemon/daemon.h"
#include "scheduler/definition/dag_loader.h"
#include "scheduler/execution/runner.h"
#include "store/event_listener.h"
#include "store/run_queue.h"
#include "util/error.h"

namespace twinflow {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct SchedulerArgs {
  bool once = false;
  bool no_share_steps = false;
  std::string dags_dir = "dags";
  int poll_ms = 2000;
  int grace_seconds = 60;
  int stale_after_seconds = 60;
  int max_runs = 4;
  int jobs = 0;
};

void log_line(const std::string& line) {
  std::cerr << "twinflow scheduler: " << line << std::endl;
}

int run_scheduler(AppContext& ctx, const SchedulerArgs& args) {
  InterruptPipe interrupt;
  // The run threads call the log, `stopping` and cancel_running too.
  std::mutex mu;
  auto log = [&mu](const std::string& line) {
    std::lock_guard<std::mutex> lock(mu);
    log_line(line);
  };
  std::optional<SteadyClock::time_point> stop_asked;
  auto stop_time = [&]() -> std::optional<SteadyClock::time_point> {
    std::lock_guard<std::mutex> lock(mu);
    if (!stop_asked && interrupt.interrupted()) {
      stop_asked = SteadyClock::now();
      log_line("stopping: no new runs; running steps get " + std::to_string(args.grace_seconds) +
               " s to finish");
    }
    return stop_asked;
  };
  auto stopping = [&] { return stop_time().has_value(); };
  DaemonOptions options;
  options.dags_dir = args.dags_dir;
  options.poll_interval = std::chrono::milliseconds(args.poll_ms);
  options.stale_after = std::chrono::seconds(args.stale_after_seconds);
  options.pid = static_cast<int>(::getpid());
  options.executor.jobs =
      args.jobs > 0 ? args.jobs : int(std::max(1u, std::thread::hardware_concurrency()));
  options.executor.home = ctx.home();
  options.executor.self_exe = self_executable();
  options.executor.database_url = ctx.database_url();
  options.executor.host = host_name();
  // No wake fd for the executors: the signal only stops claiming, and the
  // cancel after the grace period is seen within a heartbeat (2 s).
  options.executor.wake_fd = -1;
  options.cancel_running = [&] {
    const auto asked = stop_time();
    return asked && SteadyClock::now() - *asked > std::chrono::seconds(args.grace_seconds);
  };
  options.log = log;
  options.max_parallel_runs = args.max_runs;
  options.share_steps = !args.no_share_steps;
  // A database restart or failover is waited out, never fatal: running steps
  // go on and their results are recorded when it is back.
  options.reconnect = ReconnectPolicy::forever(log);
  ctx.store().set_reconnect_policy(options.reconnect);
  SchedulerDaemon daemon(ctx.store(), ctx.blobs(), options);
  if (args.once) {
    PassSummary summary = daemon.run_once(stopping);
    std::cout << "scheduled " << summary.scheduled << ", triggered " << summary.triggered
              << ", executed " << summary.executed.size() << "\n";
    return summary.errors.empty() ? kExitOk : kExitFailed;
  }
  EventListener listener(ctx.database_url());
  log_line("started; DAGs from " + args.dags_dir + ", polling every " +
           std::to_string(args.poll_ms) + " ms and listening for events");
  daemon.serve(stopping, [&](std::chrono::milliseconds timeout) {
    listener.wait(timeout, interrupt.read_fd());
  });
  log_line("stopped");
  return kExitOk;
}

// A DAG name, or the name inside a DAG file.
std::string pipeline_name(const std::string& name_or_file) {
  if (name_or_file.ends_with(".yaml") || name_or_file.ends_with(".yml")) {
    auto loaded = load_dag_file(name_or_file);
    if (!loaded.ok()) throw Error(format_diagnostics(loaded.diagnostics));
    return loaded.dag->name;
  }
  return name_or_file;
}

void add_pause_commands(CLI::App& app, AppContext& ctx, int* exit_code) {
  for (bool pause : {true, false}) {
    auto* cmd = app.add_subcommand(pause ? "pause" : "unpause",
                                   pause ? "Stop a DAG's schedule and triggers from starting runs"
                                         : "Let a paused DAG's schedule and triggers start runs");
    auto dag = std::make_shared<std::string>();
    cmd->add_option("dag", *dag, "A DAG name or file")->required();
    cmd->callback([&ctx, exit_code, dag, pause] {
      const std::string name = pipeline_name(*dag);
      ctx.store().queue().set_paused(name, pause);
      std::cout << name << (pause ? " paused\n" : " unpaused\n");
      *exit_code = kExitOk;
    });
  }
}

void add_trigger_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("trigger", "Queue a run of a DAG for `twinflow scheduler`");
  auto dag_file = std::make_shared<std::string>();
  auto params = std::make_shared<std::vector<std::string>>();
  cmd->add_option("dag", *dag_file, "The DAG file (YAML)")->required();
  cmd->add_option("-p,--param", *params, "Override a DAG param: -p key=value (repeatable)");
  cmd->callback([&ctx, exit_code, dag_file, params] {
    std::optional<Dag> dag = load_dag_with_params(*dag_file, *params);
    if (!dag) {
      *exit_code = kExitUsage;
      return;
    }
    auto run_id = ctx.store().queue().enqueue_run(new_run_of(*dag, "api"), {});
    if (ctx.json)
      std::cout << nlohmann::json{{"run_id", *run_id}, {"status", "queued"}}.dump() << "\n";
    else
      std::cout << "queued run " << *run_id << " of " << dag->name << "\n";
    *exit_code = kExitOk;
  });
}

}  // namespace

void add_scheduler_commands(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "scheduler", "Run the scheduler: cron schedules, data triggers and queued runs");
  auto args = std::make_shared<SchedulerArgs>();
  cmd->add_flag("--once", args->once, "One pass, then exit (for tests and cron)");
  cmd->add_option("--dags-dir", args->dags_dir, "Where the DAG files are")->capture_default_str();
  cmd->add_option("--poll-ms", args->poll_ms, "Longest sleep between passes")
      ->capture_default_str()
      ->check(whole_number(10, 3600000));
  cmd->add_option("--grace", args->grace_seconds, "Seconds running steps get after SIGTERM")
      ->capture_default_str()
      ->check(whole_number(0, 86400));
  cmd->add_option("--stale-after", args->stale_after_seconds,
                  "Seconds without a heartbeat after which another scheduler's run is taken over")
      ->capture_default_str()
      ->check(whole_number(2, 86400));
  cmd->add_option("--max-runs", args->max_runs, "Runs to execute at once")
      ->capture_default_str()
      ->check(whole_number(1, 256));
  cmd->add_option("-j,--jobs", args->jobs, "Steps to run at once in each run (default: cores)");
  cmd->add_flag("--no-share-steps", args->no_share_steps,
                "Neither offer ready steps beyond -j to other schedulers nor run theirs");
  cmd->callback([&ctx, exit_code, args] { *exit_code = run_scheduler(ctx, *args); });
  add_trigger_command(app, ctx, exit_code);
  add_pause_commands(app, ctx, exit_code);
}

}  // namespace twinflow
