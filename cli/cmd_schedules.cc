// `twinflow schedules [--dag FILE | --dags-dir DIR] [--count N] [--from TIME]`:
// when each scheduled pipeline fires next.
//
// It answers "did I write the cron I meant?" before any scheduler runs it: for
// every DAG file with a `schedule` it shows the cron, the zone and the next
// fire times in UTC (and, for people, in the schedule's own zone, where a DST
// change is easiest to check). It reads files only, never the database. A
// malformed file is reported with its diagnostics and exit code 2, but the
// other files are still listed.
#include <cctz/time_zone.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "scheduler/daemon/schedule_policy.h"
#include "scheduler/definition/dag_directory.h"
#include "scheduler/definition/dag_loader.h"
#include "util/error.h"

namespace twinflow {
namespace {

namespace fs = std::filesystem;
using TimePoint = std::chrono::system_clock::time_point;

struct SchedulesOptions {
  std::string dag_file;  // one file; empty: every file under dags_dir
  std::string dags_dir = "dags";
  int count = 5;     // fire times per DAG
  std::string from;  // ISO-8601; empty: now
};

// One DAG file as listed: its load result and, when it has a schedule, the
// next fire times, or why they could not be computed.
struct Listing {
  std::string file;
  LoadResult loaded;
  std::vector<TimePoint> next;
  std::string error;

  const ScheduleSpec* schedule() const {
    return loaded.dag && loaded.dag->schedule ? &*loaded.dag->schedule : nullptr;
  }
};

// The DAG files under `dir`, at any depth, loaded, in path order.
std::vector<DagFile> dag_files_under(const std::string& dir) {
  if (!fs::is_directory(dir)) {
    throw Error("no DAG directory '" + dir +
                "' here: run from the project root, or pass --dags-dir DIR or --dag FILE");
  }
  std::string error;
  std::vector<DagFile> files = load_dag_directory(dir, &error);
  if (!error.empty()) throw Error("cannot list the DAG files: " + error);
  return files;
}

Listing list_loaded(std::string file, LoadResult loaded, TimePoint from, int count) {
  Listing listing{std::move(file), std::move(loaded), {}, ""};
  if (const ScheduleSpec* spec = listing.schedule()) {
    try {
      listing.next = schedule_of(*spec).next_n(from, count);
    } catch (const Error& e) {  // a pathological cron, or a time past 2262
      listing.error = e.what();
    }
  }
  return listing;
}

nlohmann::json to_json(const Listing& listing) {
  nlohmann::json entry = {{"file", listing.file}, {"ok", listing.loaded.ok()}};
  if (!listing.loaded.ok()) {
    entry["errors"] = nlohmann::json::array();
    for (const Diagnostic& d : listing.loaded.diagnostics)
      entry["errors"].push_back({{"line", d.line}, {"column", d.column}, {"message", d.message}});
    return entry;
  }
  entry["name"] = listing.loaded.dag->name;
  const ScheduleSpec* spec = listing.schedule();
  entry["cron"] = spec ? nlohmann::json(spec->cron) : nlohmann::json();
  if (spec) {
    entry["timezone"] = spec->timezone;
    entry["catchup"] = spec->catchup;
    entry["max_active_runs"] = spec->max_active_runs;
  }
  entry["next"] = nlohmann::json::array();
  for (TimePoint t : listing.next) entry["next"].push_back(format_iso8601_utc(t));
  if (!listing.error.empty()) entry["error"] = listing.error;
  return entry;
}

// `t` on the schedule's own wall clock, such as "Mon 2026-03-30 06:00 CEST".
std::string local_time(TimePoint t, const std::string& timezone) {
  cctz::time_zone zone;
  if (!cctz::load_time_zone(timezone, &zone)) return "";  // the loader checked it
  return cctz::format("%a %Y-%m-%d %H:%M %Z", std::chrono::floor<cctz::seconds>(t), zone);
}

void print_listing(const Listing& listing) {
  std::cout << listing.loaded.dag->name << "  " << listing.file << "\n";
  const ScheduleSpec* spec = listing.schedule();
  if (!spec) {
    std::cout << "  no schedule\n";
    return;
  }
  std::cout << "  cron '" << spec->cron << "' in " << spec->timezone << ", catchup "
            << (spec->catchup ? "true" : "false") << ", max_active_runs " << spec->max_active_runs
            << "\n";
  for (TimePoint t : listing.next)
    std::cout << "  " << format_iso8601_utc(t) << "  " << local_time(t, spec->timezone) << "\n";
}

// Prints the listings and returns the exit code: 2 if a file is malformed,
// else 1 if some fire times could not be computed, else 0.
int report(const std::vector<Listing>& listings, bool json) {
  int code = kExitOk;
  nlohmann::json doc = nlohmann::json::array();
  bool first = true;
  for (const Listing& listing : listings) {
    if (json) doc.push_back(to_json(listing));
    if (!listing.loaded.ok()) {
      if (!json) std::cerr << format_diagnostics(listing.loaded.diagnostics);
      code = kExitUsage;
      continue;
    }
    if (!listing.error.empty()) {
      if (!json) std::cerr << "twinflow: " << listing.file << ": " << listing.error << "\n";
      if (code == kExitOk) code = kExitFailed;
    }
    if (json) continue;
    if (!first) std::cout << "\n";
    first = false;
    print_listing(listing);
  }
  if (json) std::cout << doc.dump(2) << "\n";
  return code;
}

std::vector<Listing> list_schedules(const SchedulesOptions& options) {
  TimePoint from = options.from.empty() ? std::chrono::system_clock::now()
                                        : *parse_iso8601(options.from);  // checked by CLI11
  if (!options.dag_file.empty())
    return {list_loaded(options.dag_file, load_dag_file(options.dag_file), from, options.count)};
  std::vector<Listing> listings;
  for (DagFile& file : dag_files_under(options.dags_dir)) {
    Listing listing = list_loaded(file.path.string(), std::move(file.loaded), from, options.count);
    // A directory listing is about schedules; a valid unscheduled DAG is noise.
    if (!listing.loaded.ok() || listing.schedule()) listings.push_back(std::move(listing));
  }
  return listings;
}

CLI::Validator iso_time() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (parse_iso8601(text)) return "";
        return "'" + text +
               "' is not a time like 2026-03-29T06:00:00Z, 2026-03-29T08:00:00+02:00 "
               "or 2026-03-29";
      },
      "ISO-TIME");
}

}  // namespace

void add_schedules_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("schedules", "Show the next fire times of scheduled DAGs");
  auto options = std::make_shared<SchedulesOptions>();
  auto* dag = cmd->add_option("--dag", options->dag_file, "Only this DAG file");
  cmd->add_option("--dags-dir", options->dags_dir,
                  "Where to look for DAG files, recursively (default: dags)")
      ->excludes(dag);
  cmd->add_option("--count", options->count, "Fire times per DAG (default 5)")
      ->check(whole_number(1, 1000));
  cmd->add_option("--from", options->from, "List fire times after this time (default: now)")
      ->check(iso_time());
  cmd->callback([&ctx, exit_code, options] {
    std::vector<Listing> listings = list_schedules(*options);
    if (listings.empty() && !ctx.json) {
      std::cout << "no scheduled DAGs under " << options->dags_dir << "\n";
    }
    *exit_code = report(listings, ctx.json);
  });
}

}  // namespace twinflow
