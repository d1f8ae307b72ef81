// Tests for scheduler/daemon/schedule_policy.h: which ticks are due after an outage
// with and without catchup (daily Berlin schedules across both 2026 DST
// changes), a DAG's first run, the max_ticks cap, and can_start. The clock is
// a parameter, so every case states its "now". Expected UTC times are worked
// out from the tz rules: Berlin is UTC+1 until 2026-03-29 01:00Z and after
// 2026-10-25 01:00Z, UTC+2 in between.
#include "scheduler/daemon/schedule_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/error.h"

namespace twinflow {
namespace {

using TimePoint = Schedule::TimePoint;

TimePoint at(const std::string& iso) {
  const std::optional<TimePoint> t = parse_iso8601(iso);
  if (!t) throw Error("test bug: bad timestamp '" + iso + "'");
  return *t;
}

Schedule schedule(const std::string& cron, const std::string& tz) {
  return schedule_of(ScheduleSpec{cron, tz, false, 1, {}});
}

std::vector<std::string> format_all(const std::vector<TimePoint>& times) {
  std::vector<std::string> out;
  for (TimePoint t : times) out.push_back(format_iso8601_utc(t));
  return out;
}

using Strings = std::vector<std::string>;

// Daily 06:00 Berlin. The last run was Friday 2026-03-27 06:00 CET; the
// scheduler was down until Monday 08:30 CEST, across the switch to summer time.
const char* const kDaily = "0 6 * * *";
const char* const kLastBeforeOutage = "2026-03-27T05:00:00Z";
const char* const kNowAfterOutage = "2026-03-30T06:30:00Z";

TEST(DueTicksTest, CatchupRunsEveryTickMissedInAThreeDayOutageAcrossSpringForward) {
  const Schedule daily = schedule(kDaily, "Europe/Berlin");
  EXPECT_EQ(format_all(due_ticks(daily, at(kLastBeforeOutage), at(kNowAfterOutage), true)),
            (Strings{"2026-03-28T05:00:00Z",     // Saturday 06:00 CET
                     "2026-03-29T04:00:00Z",     // Sunday 06:00 CEST: the day is 23 hours long
                     "2026-03-30T04:00:00Z"}));  // Monday 06:00 CEST
}

TEST(DueTicksTest, WithoutCatchupOnlyTheLatestMissedTickIsDue) {
  const Schedule daily = schedule(kDaily, "Europe/Berlin");
  EXPECT_EQ(format_all(due_ticks(daily, at(kLastBeforeOutage), at(kNowAfterOutage), false)),
            (Strings{"2026-03-30T04:00:00Z"}));
}

TEST(DueTicksTest, CatchupAcrossBothDstChangesFiresGapAndOverlapTicksOnce) {
  // 02:30 does not exist on 2026-03-29 (fires at 03:00 CEST) and happens
  // twice on 2026-10-25 (fires at the first, 02:30 CEST).
  const Schedule daily_0230 = schedule("30 2 * * *", "Europe/Berlin");
  EXPECT_EQ(format_all(due_ticks(daily_0230, at("2026-03-27T01:30:00Z"), at("2026-03-30T12:00:00Z"),
                                 true)),
            (Strings{"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}));
  EXPECT_EQ(format_all(due_ticks(daily_0230, at("2026-10-23T00:30:00Z"), at("2026-10-26T12:00:00Z"),
                                 true)),
            (Strings{"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}));
  EXPECT_EQ(format_all(due_ticks(daily_0230, at("2026-10-23T00:30:00Z"), at("2026-10-26T12:00:00Z"),
                                 false)),
            (Strings{"2026-10-26T01:30:00Z"}));
}

TEST(DueTicksTest, FirstRunGetsOnlyTheLatestTickEvenWithCatchup) {
  const Schedule daily = schedule(kDaily, "Europe/Berlin");
  for (bool catchup : {true, false}) {
    EXPECT_EQ(format_all(due_ticks(daily, std::nullopt, at(kNowAfterOutage), catchup)),
              (Strings{"2026-03-30T04:00:00Z"}))
        << "catchup " << catchup;
  }
  // A tick older than Schedule::kLookBack (a year) is history, not due.
  const Schedule leap_day = schedule("0 0 29 2 *", "UTC");
  EXPECT_TRUE(due_ticks(leap_day, std::nullopt, at("2029-06-01T00:00:00Z"), false).empty());
  EXPECT_EQ(format_all(due_ticks(leap_day, std::nullopt, at("2028-06-01T00:00:00Z"), false)),
            (Strings{"2028-02-29T00:00:00Z"}));
}

TEST(DueTicksTest, ATickIsDueFromItsInstantOnAndOnlyOnce) {
  const Schedule daily = schedule(kDaily, "Europe/Berlin");
  const TimePoint tick = at("2026-03-30T04:00:00Z");
  const TimePoint previous = at("2026-03-29T04:00:00Z");
  EXPECT_TRUE(due_ticks(daily, previous, tick - std::chrono::seconds(1), true).empty());
  EXPECT_TRUE(due_ticks(daily, previous, tick - std::chrono::seconds(1), false).empty());
  for (bool catchup : {true, false}) {
    EXPECT_EQ(format_all(due_ticks(daily, previous, tick, catchup)),
              (Strings{"2026-03-30T04:00:00Z"}));
    // Once it ran, it is the last logical time and nothing is due until the next.
    EXPECT_TRUE(due_ticks(daily, tick, tick + std::chrono::hours(23), catchup).empty());
  }
}

TEST(DueTicksTest, ClockSetBackMakesNothingDue) {
  const Schedule hourly = schedule("0 * * * *", "UTC");
  const TimePoint last = at("2026-05-01T12:00:00Z");
  EXPECT_TRUE(due_ticks(hourly, last, at("2026-05-01T09:30:00Z"), true).empty());
  EXPECT_TRUE(due_ticks(hourly, last, at("2026-05-01T09:30:00Z"), false).empty());
}

TEST(DueTicksTest, MaxTicksCapsCatchupAndTheNextCallCarriesOn) {
  // Ten days of an hourly schedule: 240 missed ticks, taken 100 at a time.
  const Schedule hourly = schedule("0 * * * *", "UTC");
  const TimePoint now = at("2026-01-11T00:00:00Z");
  std::optional<TimePoint> last = at("2026-01-01T00:00:00Z");
  std::vector<size_t> batch_sizes;
  std::vector<TimePoint> all;
  for (int call = 0; call < 4; ++call) {
    std::vector<TimePoint> due = due_ticks(hourly, last, now, true, 100);
    batch_sizes.push_back(due.size());
    if (due.empty()) break;
    all.insert(all.end(), due.begin(), due.end());
    last = due.back();
  }
  EXPECT_EQ(batch_sizes, (std::vector<size_t>{100, 100, 40, 0}));
  ASSERT_EQ(all.size(), 240u);
  EXPECT_EQ(format_iso8601_utc(all.front()), "2026-01-01T01:00:00Z");
  EXPECT_EQ(format_iso8601_utc(all[99]), "2026-01-05T04:00:00Z");
  EXPECT_EQ(format_iso8601_utc(all.back()), "2026-01-11T00:00:00Z");
  for (size_t i = 1; i < all.size(); ++i) EXPECT_EQ(all[i] - all[i - 1], std::chrono::hours(1));
}

TEST(DueTicksTest, DefaultCapIsAThousandAndZeroMeansNone) {
  const Schedule every_minute = schedule("* * * * *", "UTC");
  const TimePoint last = at("2026-01-01T00:00:00Z");
  const TimePoint a_day_later = at("2026-01-02T00:00:00Z");  // 1440 ticks missed
  EXPECT_EQ(due_ticks(every_minute, last, a_day_later, true).size(), 1000u);
  EXPECT_TRUE(due_ticks(every_minute, last, a_day_later, true, 0).empty());
  EXPECT_TRUE(due_ticks(every_minute, last, a_day_later, false, 0).empty());
}

TEST(CanStartTest, StartsOnlyBelowMaxActiveRuns) {
  EXPECT_TRUE(can_start(0, 1));
  EXPECT_FALSE(can_start(1, 1));
  EXPECT_TRUE(can_start(2, 3));
  EXPECT_FALSE(can_start(3, 3));
  EXPECT_FALSE(can_start(5, 3));  // more active than allowed (the limit was lowered)
}

TEST(CanStartTest, ImpossibleCountsThrowInsteadOfBlockingForever) {
  EXPECT_THROW(can_start(0, 0), Error);
  EXPECT_THROW(can_start(-1, 1), Error);
}

TEST(ScheduleOfTest, BuildsTheDeclaredScheduleOrThrowsWithContext) {
  const Schedule weekly = schedule_of(ScheduleSpec{"0 6 * * 1", "Europe/Berlin", true, 2, {}});
  EXPECT_EQ(weekly.timezone(), "Europe/Berlin");
  EXPECT_EQ(weekly.expr().text(), "0 6 * * 1");
  try {
    schedule_of(ScheduleSpec{"0 6 * * 1", "Mars/Olympus", false, 1, {}});
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "schedule '0 6 * * 1' in Mars/Olympus: unknown timezone 'Mars/Olympus'");
  }
}

}  // namespace
}  // namespace twinflow
