// The fire-time policy: which ticks are due, and whether another run may start.
// See schedule_policy.h for the rules; Schedule (cron.h) does the calendar work,
// DST included, so this file only decides which of its answers to act on.
#include "scheduler/daemon/schedule_policy.h"

#include <string>
#include <utility>

#include "util/error.h"

namespace twinflow {

Schedule schedule_of(const ScheduleSpec& spec) {
  ScheduleParse parsed = Schedule::parse(spec.cron, spec.timezone);
  if (!parsed.schedule) {
    throw Error("schedule '" + spec.cron + "' in " + spec.timezone + ": " + parsed.error);
  }
  return std::move(*parsed.schedule);
}

namespace {

// The latest tick <= now, if it comes after `last` (or there is no last).
std::vector<Schedule::TimePoint> latest_if_new(const Schedule& schedule,
                                               std::optional<Schedule::TimePoint> last,
                                               Schedule::TimePoint now) {
  std::optional<Schedule::TimePoint> latest = schedule.latest_at_or_before(now);
  if (!latest || (last && *latest <= *last)) return {};
  return {*latest};
}

}  // namespace

std::vector<Schedule::TimePoint> due_ticks(const Schedule& schedule,
                                           std::optional<Schedule::TimePoint> last_logical_time,
                                           Schedule::TimePoint now, bool catchup,
                                           size_t max_ticks) {
  if (max_ticks == 0) return {};
  // A DAG that never ran has no missed ticks: catching up would replay its
  // schedule's whole history on the day it is deployed.
  if (catchup && last_logical_time) return schedule.between(*last_logical_time, now, max_ticks);
  return latest_if_new(schedule, last_logical_time, now);
}

bool can_start(int active_runs, int max_active_runs) {
  if (max_active_runs < 1 || active_runs < 0) {
    throw Error("cannot decide whether a run may start with " + std::to_string(active_runs) +
                " active of at most " + std::to_string(max_active_runs) +
                ": max_active_runs must be at least 1 and active runs not negative");
  }
  return active_runs < max_active_runs;
}

}  // namespace twinflow
