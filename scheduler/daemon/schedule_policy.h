// Which of a schedule's fire times should start runs now: the scheduler's
// decision, kept pure.
//
// The scheduler wakes up, reads the clock and the logical time of the last run
// it started for a DAG, and asks which ticks are due. The answer depends on
// the DAG's `catchup` (after downtime, run every missed tick or only the
// latest) and on how many of its runs may be active at once. Nothing here reads
// a clock or a database: the caller passes `now`, so tests can replay a
// three-day outage across a DST change in microseconds.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "scheduler/definition/cron.h"
#include "scheduler/definition/dag.h"

namespace twinflow {

// The Schedule a DAG file declared. Throws Error naming the cron expression
// and zone if they do not parse, which a loaded Dag rules out.
Schedule schedule_of(const ScheduleSpec& spec);

// The logical times whose runs are due at `now`, oldest first.
//
// * catchup: every tick in (last_logical_time, now], at most `max_ticks` of
//   them, the oldest first; the next call carries on after the last one.
// * no catchup: only the latest tick <= now, if it is after last_logical_time.
// * first run (no last_logical_time), either way: only the latest tick <= now,
//   not the schedule's whole history.
//
// "The latest tick" is looked for within Schedule::kLookBack (a year) before
// `now`; an older one is not due. A `now` before the last logical time (the
// clock was set back) makes nothing due.
std::vector<Schedule::TimePoint> due_ticks(const Schedule& schedule,
                                           std::optional<Schedule::TimePoint> last_logical_time,
                                           Schedule::TimePoint now, bool catchup,
                                           size_t max_ticks = 1000);

// Whether one more run may start while `active_runs` of the DAG are queued
// or running. Throws Error for counts no loaded DAG or store can produce
// (max_active_runs < 1, active_runs < 0): answering false would silently stop
// a schedule forever.
bool can_start(int active_runs, int max_active_runs);

}  // namespace twinflow
