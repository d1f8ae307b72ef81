// Tests for scheduler/definition/cron.h: parsing, known fire times across DST changes
// (expected values worked out by hand from the tz rules and checked with
// `TZ=... date -d`), catchup queries, ISO-8601, and a brute-force cross-check
// of the DST rules minute by minute around real transitions.
#include "scheduler/definition/cron.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/error.h"

namespace twinflow {
namespace {

using TimePoint = std::chrono::system_clock::time_point;

TimePoint at(const std::string& iso) {
  const std::optional<TimePoint> t = parse_iso8601(iso);
  if (!t) throw Error("test bug: bad timestamp '" + iso + "'");
  return *t;
}

Schedule schedule(const std::string& cron, const std::string& tz) {
  ScheduleParse parsed = Schedule::parse(cron, tz);
  if (!parsed.schedule) throw Error("test bug: " + parsed.error);
  return *parsed.schedule;
}

std::vector<std::string> format_all(const std::vector<TimePoint>& times) {
  std::vector<std::string> out;
  for (TimePoint t : times) out.push_back(format_iso8601_utc(t));
  return out;
}

std::string cron_error(const std::string& text) {
  return CronExpr::parse(text).error;
}

struct NextCase {
  const char* cron;
  const char* tz;
  const char* after;
  std::vector<std::string> expected;  // the next fire times, in UTC
};

// clang-format off
const NextCase kNextCases[] = {
    // Every 15 minutes, from mid-slot.
    {"*/15 * * * *", "UTC", "2026-01-01T10:07:30Z",
     {"2026-01-01T10:15:00Z", "2026-01-01T10:30:00Z", "2026-01-01T10:45:00Z", "2026-01-01T11:00:00Z"}},
    // */7 restarts at each hour: 56 then 00, not 03.
    {"*/7 * * * *", "UTC", "2026-01-01T10:50:00Z",
     {"2026-01-01T10:56:00Z", "2026-01-01T11:00:00Z", "2026-01-01T11:07:00Z"}},
    {"10-50/10 * * * *", "UTC", "2026-01-01T10:00:00Z",
     {"2026-01-01T10:10:00Z", "2026-01-01T10:20:00Z", "2026-01-01T10:30:00Z",
      "2026-01-01T10:40:00Z", "2026-01-01T10:50:00Z", "2026-01-01T11:10:00Z"}},
    {"10/20 * * * *", "UTC", "2026-01-01T10:00:00Z",
     {"2026-01-01T10:10:00Z", "2026-01-01T10:30:00Z", "2026-01-01T10:50:00Z", "2026-01-01T11:10:00Z"}},
    // Weekdays 9:00 New York (EST, UTC-5): Friday 10:00 -> Monday.
    {"0 9 * * 1-5", "America/New_York", "2026-01-09T15:00:00Z",
     {"2026-01-12T14:00:00Z", "2026-01-13T14:00:00Z"}},
    // ... across spring-forward (Sunday 2026-03-08): Friday EST, Monday EDT.
    {"0 9 * * MON-FRI", "America/New_York", "2026-03-05T15:00:00Z",
     {"2026-03-06T14:00:00Z", "2026-03-09T13:00:00Z", "2026-03-10T13:00:00Z"}},
    // ... across fall-back (Sunday 2026-11-01): Friday EDT, Monday EST.
    {"0 9 * * 1-5", "America/New_York", "2026-10-29T14:00:00Z",
     {"2026-10-30T13:00:00Z", "2026-11-02T14:00:00Z"}},
    // Mondays 6:00 Berlin across 2026-03-29 (CET -> CEST) ...
    {"0 6 * * 1", "Europe/Berlin", "2026-03-20T00:00:00Z",
     {"2026-03-23T05:00:00Z", "2026-03-30T04:00:00Z", "2026-04-06T04:00:00Z"}},
    // ... and 2026-10-25 (CEST -> CET).
    {"0 6 * * 1", "Europe/Berlin", "2026-10-15T00:00:00Z",
     {"2026-10-19T04:00:00Z", "2026-10-26T05:00:00Z", "2026-11-02T05:00:00Z"}},
    // Daily 02:30 Berlin: 02:30 does not exist on 2026-03-29; fires at 03:00 CEST.
    {"30 2 * * *", "Europe/Berlin", "2026-03-28T00:00:00Z",
     {"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
    // Two ticks in one gap collapse into one fire.
    {"0,30 2 * * *", "Europe/Berlin", "2026-03-29T00:00:00Z",
     {"2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z", "2026-03-30T00:30:00Z"}},
    // 02:30 happens twice on 2026-10-25: fire once, at 02:30 CEST.
    {"30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z",
     {"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
    // Asked from inside the repeated hour (02:45 CEST): 02:30 CET does not fire.
    {"30 2 * * *", "Europe/Berlin", "2026-10-25T00:45:00Z", {"2026-10-26T01:30:00Z"}},
    // New York: 02:30 is skipped on 2026-03-08 (fires 03:00 EDT) ...
    {"30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z",
     {"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}},
    // ... and 01:30 repeats on 2026-11-01 (fires at 01:30 EDT only).
    {"30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z",
     {"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
    // Hourly in Berlin across fall-back: 02:00 CEST, 02:00 CET, 03:00 CET all fire.
    {"0 * * * *", "Europe/Berlin", "2026-10-24T23:30:00Z",
     {"2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z",
      "2026-10-25T03:00:00Z"}},
    // Hourly across spring-forward: 01:00 CET, then 03:00 CEST one real hour later.
    {"@hourly", "Europe/Berlin", "2026-03-28T23:30:00Z",
     {"2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"}},
    // Every hour at :30 keeps a one-hour rhythm: 01:30 CET, 03:30 CEST, 04:30 CEST.
    {"30 * * * *", "Europe/Berlin", "2026-03-28T23:45:00Z",
     {"2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z", "2026-03-29T02:30:00Z"}},
    {"30 * * * *", "Europe/Berlin", "2026-03-29T01:10:00Z", {"2026-03-29T01:30:00Z"}},
    // Hourly New York across fall-back: 01:00 EDT, 01:00 EST, 02:00 EST.
    {"0 * * * *", "America/New_York", "2026-11-01T04:30:00Z",
     {"2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"}},
    // Every 20 minutes straight through the repeated hour.
    {"*/20 * * * *", "Europe/Berlin", "2026-10-25T00:30:00Z",
     {"2026-10-25T00:40:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:20:00Z"}},
    // Leap days.
    {"0 0 29 2 *", "UTC", "2026-03-01T00:00:00Z", {"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
    {"0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", {"2104-02-29T00:00:00Z"}},  // 2100 is no leap year
    {"0 0 29 2 *", "Europe/Berlin", "2026-03-01T00:00:00Z", {"2028-02-28T23:00:00Z"}},
    // Day-of-month OR day-of-week: every Friday and every 13th (Monday 2026-04-13).
    {"0 0 13 * FRI", "UTC", "2026-03-14T00:00:00Z",
     {"2026-03-20T00:00:00Z", "2026-03-27T00:00:00Z", "2026-04-03T00:00:00Z",
      "2026-04-10T00:00:00Z", "2026-04-13T00:00:00Z", "2026-04-17T00:00:00Z"}},
    // The 31st skips short months.
    {"0 0 31 * *", "UTC", "2026-01-31T00:00:00Z",
     {"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z",
      "2026-08-31T00:00:00Z", "2026-10-31T00:00:00Z", "2026-12-31T00:00:00Z"}},
    // Names in any case; Sundays of January and July 2026.
    {"0 12 * jan,JUL Sun", "UTC", "2026-01-01T00:00:00Z",
     {"2026-01-04T12:00:00Z", "2026-01-11T12:00:00Z", "2026-01-18T12:00:00Z",
      "2026-01-25T12:00:00Z", "2026-07-05T12:00:00Z"}},
    {"0 0 * * 7", "UTC", "2026-01-01T00:00:00Z", {"2026-01-04T00:00:00Z"}},  // 7 = Sunday
    {"0 0 * * 5-7", "UTC", "2026-01-01T00:00:00Z",
     {"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z", "2026-01-09T00:00:00Z"}},
    // Macros.
    {"@daily", "UTC", "2026-01-01T10:07:00Z", {"2026-01-02T00:00:00Z"}},
    {"@midnight", "Europe/Berlin", "2026-01-01T10:07:00Z", {"2026-01-01T23:00:00Z"}},
    {"@weekly", "UTC", "2026-01-01T00:00:00Z", {"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"}},
    {"@monthly", "UTC", "2026-01-15T00:00:00Z", {"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"}},
    {"@yearly", "UTC", "2026-01-15T00:00:00Z", {"2027-01-01T00:00:00Z"}},
    {"@ANNUALLY", "America/New_York", "2026-01-15T00:00:00Z", {"2027-01-01T05:00:00Z"}},
    // Fractional seconds: a tick exactly at `after` is not "after".
    {"0 0 * * *", "UTC", "2026-01-01T00:00:00Z", {"2026-01-02T00:00:00Z"}},
    {"0 0 * * *", "UTC", "2025-12-31T23:59:59.999Z", {"2026-01-01T00:00:00Z"}},
};
// clang-format on

TEST(ScheduleTest, KnownNextFireTimes) {
  for (const NextCase& c : kNextCases) {
    SCOPED_TRACE(std::string(c.cron) + " in " + c.tz + " after " + c.after);
    const Schedule s = schedule(c.cron, c.tz);
    const int n = static_cast<int>(c.expected.size());
    EXPECT_EQ(format_all(s.next_n(at(c.after), n)), c.expected);
    EXPECT_EQ(format_iso8601_utc(s.next_after(at(c.after))), c.expected.front());
  }
}

TEST(ScheduleTest, NextNOfZeroIsEmpty) {
  EXPECT_TRUE(schedule("@daily", "UTC").next_n(at("2026-01-01"), 0).empty());
}

TEST(ScheduleTest, LatestAtOrBefore) {
  const Schedule daily = schedule("0 0 * * *", "UTC");
  EXPECT_EQ(format_iso8601_utc(*daily.latest_at_or_before(at("2026-05-10T12:00:00Z"))),
            "2026-05-10T00:00:00Z");
  // Inclusive of `at`.
  EXPECT_EQ(format_iso8601_utc(*daily.latest_at_or_before(at("2026-05-10T00:00:00Z"))),
            "2026-05-10T00:00:00Z");
  EXPECT_EQ(format_iso8601_utc(*daily.latest_at_or_before(at("2026-05-09T23:59:59.5Z"))),
            "2026-05-09T00:00:00Z");

  // The second 02:00 of the Berlin fall-back night is an hourly tick ...
  const Schedule hourly = schedule("0 * * * *", "Europe/Berlin");
  EXPECT_EQ(format_iso8601_utc(*hourly.latest_at_or_before(at("2026-10-25T01:30:00Z"))),
            "2026-10-25T01:00:00Z");
  // ... but the second 02:30 is no daily tick.
  const Schedule daily_0230 = schedule("30 2 * * *", "Europe/Berlin");
  EXPECT_EQ(format_iso8601_utc(*daily_0230.latest_at_or_before(at("2026-10-25T01:45:00Z"))),
            "2026-10-25T00:30:00Z");
  // The skipped 02:30 fired at 03:00 CEST.
  EXPECT_EQ(format_iso8601_utc(*daily_0230.latest_at_or_before(at("2026-03-29T01:30:00Z"))),
            "2026-03-29T01:00:00Z");

  const Schedule yearly = schedule("@yearly", "UTC");
  EXPECT_EQ(format_iso8601_utc(*yearly.latest_at_or_before(at("2026-12-31T23:00:00Z"))),
            "2026-01-01T00:00:00Z");

  // Nothing within a year back.
  const Schedule leap_day = schedule("0 0 29 2 *", "UTC");
  EXPECT_FALSE(leap_day.latest_at_or_before(at("2027-01-01")).has_value());
  EXPECT_EQ(format_iso8601_utc(*leap_day.latest_at_or_before(at("2028-03-01"))),
            "2028-02-29T00:00:00Z");
}

TEST(ScheduleTest, BetweenForCatchup) {
  const Schedule daily = schedule("@daily", "UTC");
  // A three-day outage of a daily schedule misses three ticks.
  EXPECT_EQ(format_all(daily.between(at("2026-05-01T12:00:00Z"), at("2026-05-04T12:00:00Z"), 100)),
            (std::vector<std::string>{"2026-05-02T00:00:00Z", "2026-05-03T00:00:00Z",
                                      "2026-05-04T00:00:00Z"}));
  // (from, to]: a tick at `from` ran already, a tick at `to` is due.
  EXPECT_EQ(format_all(daily.between(at("2026-05-01"), at("2026-05-03"), 100)),
            (std::vector<std::string>{"2026-05-02T00:00:00Z", "2026-05-03T00:00:00Z"}));
  EXPECT_EQ(daily.between(at("2026-05-01"), at("2026-05-11"), 2).size(), 2u);
  EXPECT_TRUE(daily.between(at("2026-05-03"), at("2026-05-01"), 100).empty());

  const Schedule hourly = schedule("0 * * * *", "Europe/Berlin");
  EXPECT_EQ(format_all(hourly.between(at("2026-10-24T23:30:00Z"), at("2026-10-25T02:30:00Z"), 10)),
            (std::vector<std::string>{"2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z",
                                      "2026-10-25T02:00:00Z"}));
}

TEST(CronExprTest, ParseErrorsNameFieldAndValue) {
  EXPECT_EQ(cron_error("61 * * * *"), "bad minute field '61': value out of range 0-59");
  EXPECT_EQ(cron_error("0,15,61 * * * *"), "bad minute field '61': value out of range 0-59");
  EXPECT_EQ(cron_error("0 24 * * *"), "bad hour field '24': value out of range 0-23");
  EXPECT_EQ(cron_error("0 0 32 * *"), "bad day-of-month field '32': value out of range 1-31");
  EXPECT_EQ(cron_error("0 0 0 * *"), "bad day-of-month field '0': value out of range 1-31");
  EXPECT_EQ(cron_error("0 0 * 13 *"), "bad month field '13': value out of range 1-12");
  EXPECT_EQ(cron_error("0 0 * * 8"), "bad day-of-week field '8': value out of range 0-7");
  EXPECT_EQ(cron_error("0 0 * FOO *"), "bad month field 'FOO': expected 1-12 or JAN-DEC");
  EXPECT_EQ(cron_error("0 0 * * MON-"), "bad day-of-week field 'MON-': expected 0-7 or SUN-SAT");
  EXPECT_EQ(cron_error("MON * * * *"), "bad minute field 'MON': expected 0-59");
  EXPECT_EQ(cron_error("*/0 * * * *"), "bad minute field '*/0': step must be a positive number");
  EXPECT_EQ(cron_error("*/x * * * *"), "bad minute field '*/x': step must be a positive number");
  EXPECT_EQ(cron_error("5-1 * * * *"), "bad minute field '5-1': range start is after its end");
  EXPECT_EQ(cron_error("1,,2 * * * *"), "bad minute field '1,,2': empty list item");
  EXPECT_EQ(cron_error("* * *"),
            "cron expression '* * *' has 3 fields; expected 5 "
            "(minute hour day-of-month month day-of-week)");
  EXPECT_EQ(cron_error("0 0 * * * *"),
            "cron expression '0 0 * * * *' has 6 fields; expected 5 "
            "(minute hour day-of-month month day-of-week)");
  EXPECT_EQ(cron_error("   "), "empty cron expression");
  EXPECT_EQ(cron_error("@fortnightly"),
            "unknown cron macro '@fortnightly'; expected @hourly, @daily, @midnight, @weekly, "
            "@monthly, @yearly or @annually");
  EXPECT_EQ(cron_error("0 0 30 2 *"),
            "cron expression '0 0 30 2 *' never fires: month field '2' has no day '30'");
  EXPECT_EQ(cron_error("0 0 31 4,6,9,11 *"),
            "cron expression '0 0 31 4,6,9,11 *' never fires: month field '4,6,9,11' has no day "
            "'31'");
}

TEST(CronExprTest, AcceptsAndKeepsText) {
  const CronParse parsed = CronExpr::parse("  0 9 * * 1-5\t");
  ASSERT_TRUE(parsed.expr.has_value()) << parsed.error;
  EXPECT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.expr->text(), "0 9 * * 1-5");
  EXPECT_EQ(CronExpr::parse("@daily").expr->text(), "@daily");
  // Both day fields restricted: Mondays in February fire, so this is fine.
  EXPECT_TRUE(CronExpr::parse("0 0 30 2 MON").expr.has_value());
  EXPECT_TRUE(CronExpr::parse("0 0 29 2 *").expr.has_value());
}

TEST(CronExprTest, DayOfMonthAndDayOfWeekFollowCroniter) {
  const auto matches = [](const char* cron, int y, int m, int d) {
    return CronExpr::parse(cron).expr->matches(cctz::civil_minute(y, m, d, 0, 0));
  };
  // Both restricted: either matches.
  EXPECT_TRUE(matches("0 0 13 * FRI", 2026, 4, 13));   // a Monday the 13th
  EXPECT_TRUE(matches("0 0 13 * FRI", 2026, 4, 17));   // a Friday
  EXPECT_FALSE(matches("0 0 13 * FRI", 2026, 4, 14));  // neither
  // One unrestricted: both must match.
  EXPECT_FALSE(matches("0 0 13 * *", 2026, 4, 17));
  EXPECT_FALSE(matches("0 0 * * FRI", 2026, 4, 13));
  // A step starting with '*' restricts the field (croniter, cron-parser; not
  // Vixie cron): either field matching is enough.
  EXPECT_TRUE(matches("0 0 */2 * FRI", 2026, 4, 17));   // odd day, Friday
  EXPECT_TRUE(matches("0 0 */2 * FRI", 2026, 4, 10));   // even day, Friday
  EXPECT_TRUE(matches("0 0 */2 * FRI", 2026, 4, 13));   // odd day, Monday
  EXPECT_FALSE(matches("0 0 */2 * FRI", 2026, 4, 14));  // even day, Tuesday
  EXPECT_TRUE(matches("0 0 */13 * MON", 2026, 4, 14));  // the 14th, a Tuesday
  EXPECT_TRUE(matches("0 0 1 * */2", 2026, 4, 14));     // Tuesday is day 2
  EXPECT_FALSE(matches("0 0 1 * */2", 2026, 4, 15));    // Wednesday, not the 1st
  // A field that allows every day is unrestricted however it is written.
  EXPECT_FALSE(matches("0 0 */1 * FRI", 2026, 4, 13));
  EXPECT_FALSE(matches("0 0 1-31 * FRI", 2026, 4, 13));
  EXPECT_FALSE(matches("0 0 13 * 0-6", 2026, 4, 17));
  EXPECT_FALSE(matches("0 0 13 * */1", 2026, 4, 17));
}

TEST(CronExprTest, NextMatchSkipsAheadAndHonoursLimit) {
  const CronExpr expr = *CronExpr::parse("0 0 29 2 *").expr;
  EXPECT_EQ(expr.next_match(cctz::civil_minute(2026, 3, 1, 0, 0), cctz::civil_minute(2100, 1, 1)),
            cctz::civil_minute(2028, 2, 29, 0, 0));
  EXPECT_FALSE(
      expr.next_match(cctz::civil_minute(2026, 3, 1, 0, 0), cctz::civil_minute(2028, 2, 29))
          .has_value());
  EXPECT_TRUE(CronExpr::parse("0 * * * *").expr->covers_every_hour());
  EXPECT_TRUE(CronExpr::parse("*/15 0-23 * * *").expr->covers_every_hour());
  EXPECT_FALSE(CronExpr::parse("0 */2 * * *").expr->covers_every_hour());
}

TEST(ScheduleTest, ParseTimezone) {
  const ScheduleParse berlin = Schedule::parse("@daily", "Europe/Berlin");
  ASSERT_TRUE(berlin.schedule.has_value()) << berlin.error;
  EXPECT_EQ(berlin.schedule->timezone(), "Europe/Berlin");
  EXPECT_EQ(berlin.schedule->expr().text(), "@daily");
  EXPECT_EQ(Schedule::parse("@daily", "").schedule->timezone(), "UTC");

  EXPECT_EQ(Schedule::parse("@daily", "Europe/Berln").error, "unknown timezone 'Europe/Berln'");
  EXPECT_EQ(Schedule::parse("@daily", "localtime").error, "unknown timezone 'localtime'");
  EXPECT_EQ(Schedule::parse("@daily", "/usr/share/zoneinfo/UTC").error,
            "unknown timezone '/usr/share/zoneinfo/UTC'");
  EXPECT_EQ(Schedule::parse("@daily", "../zoneinfo/UTC").error,
            "unknown timezone '../zoneinfo/UTC'");
  EXPECT_EQ(Schedule::parse("61 * * * *", "UTC").error,
            "bad minute field '61': value out of range 0-59");
}

TEST(ScheduleTest, StepInDayOfMonthWithWeekdayFiresOnEither) {
  // `*/31` is day 1 only, a restriction: day 1 of February or any Monday in
  // it (under the Vixie reading this fired in 2027, then not until 2038).
  const Schedule s = schedule("0 0 */31 2 MON", "UTC");
  const std::vector<std::string> expected = {"2027-02-01T00:00:00Z", "2027-02-08T00:00:00Z",
                                             "2027-02-15T00:00:00Z", "2027-02-22T00:00:00Z",
                                             "2028-02-01T00:00:00Z"};
  std::vector<std::string> got;
  for (auto t : s.next_n(at("2027-01-01"), 5)) got.push_back(format_iso8601_utc(t));
  EXPECT_EQ(got, expected);
}

TEST(ScheduleTest, ThrowsPastTheLastRepresentableTime) {
  // system_clock counts nanoseconds in 64 bits: it ends in April 2262.
  const Schedule s = schedule("0 0 29 2 *", "UTC");
  EXPECT_EQ(format_iso8601_utc(s.next_after(at("2256-03-01"))), "2260-02-29T00:00:00Z");
  EXPECT_THROW(s.next_after(at("2260-03-01")), Error);
}

TEST(Iso8601Test, FormatAndParse) {
  EXPECT_EQ(format_iso8601_utc(TimePoint{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(at("2026-03-29T03:00:00+02:00"), at("2026-03-29T01:00:00Z"));
  EXPECT_EQ(at("2026-03-28T20:00:00-05:00"), at("2026-03-29T01:00:00Z"));
  EXPECT_EQ(at("2026-03-29 01:00Z"), at("2026-03-29T01:00:00Z"));
  EXPECT_EQ(at("2026-03-29"), at("2026-03-29T00:00:00Z"));
  EXPECT_EQ(at("2026-03-29T01:00:00.25Z") - at("2026-03-29T01:00:00Z"),
            std::chrono::milliseconds(250));
  EXPECT_EQ(format_iso8601_utc(at("2026-03-29T01:00:00.999Z")), "2026-03-29T01:00:00Z");
  EXPECT_EQ(std::chrono::system_clock::to_time_t(at("2026-03-29T01:00:00Z")), 1774746000);

  for (const char* bad :
       {"", "2026-02-30", "2026-13-01", "2026-3-29", "2026-03-29T24:00:00Z", "2026-03-29T01:60:00Z",
        "2026-03-29T01:00:00", "2026-03-29T01:00:00+0200", "2026-03-29T01:00:00Zjunk",
        "2026-03-29T01:00:00.Z", " 2026-03-29", "2263-01-01", "1600-01-01"})
    EXPECT_FALSE(parse_iso8601(bad).has_value()) << bad;

  for (const char* text : {"2026-03-29T01:00:00Z", "2028-02-29T23:59:59Z", "1999-12-31T00:00:00Z"})
    EXPECT_EQ(format_iso8601_utc(at(text)), text);
}

// ---- Brute-force cross-check -------------------------------------------------
//
// The reference states the DST rules per real minute instead of per wall-clock
// tick, and is checked against next_after() around every transition.

struct Gap {
  TimePoint start;  // the transition instant
  std::chrono::seconds length;
  cctz::civil_minute from;  // first skipped wall-clock minute
};

// The gap the zone's most recent transition at or before `t` opened, if any.
std::optional<Gap> gap_at_or_before(const cctz::time_zone& zone, TimePoint t) {
  cctz::time_zone::civil_transition tr;
  if (!zone.prev_transition(t + std::chrono::seconds(1), &tr) || tr.to <= tr.from)
    return std::nullopt;
  return Gap{zone.lookup(tr.to).trans, std::chrono::seconds(tr.to - tr.from),
             cctz::civil_minute(tr.from)};
}

bool reference_fires(const CronExpr& expr, const cctz::time_zone& zone, TimePoint t) {
  const cctz::civil_minute wall(cctz::convert(t, zone));
  const std::optional<Gap> gap = gap_at_or_before(zone, t);
  if (expr.covers_every_hour()) {
    // Every real instant whose wall clock matches, plus skipped ticks carried
    // forward by the gap length.
    if (expr.matches(wall)) return true;
    return gap && t - gap->start < gap->length && expr.matches(wall - gap->length.count() / 60);
  }
  // First occurrences of matching wall-clock minutes, plus the end of any gap
  // that swallowed a tick.
  if (expr.matches(wall) && zone.lookup(cctz::civil_second(wall)).pre == t) return true;
  if (!gap || gap->start != t) return false;
  for (cctz::civil_minute m = gap->from; m < wall; ++m)
    if (expr.matches(m)) return true;
  return false;
}

TEST(ScheduleTest, MatchesBruteForceAroundTransitions) {
  const char* const kZones[] = {"Europe/Berlin",     "America/New_York", "Australia/Lord_Howe",
                                "America/Sao_Paulo", "Pacific/Apia",     "Asia/Kolkata"};
  const char* const kCrons[] = {"0 * * * *",    "30 * * * *",  "*/15 * * * *", "*/7 * * * *",
                                "45 * * * 0",   "30 2 * * *",  "0,30 2 * * *", "15 1-3 * * *",
                                "0 0 * * *",    "45 23 * * *", "* 2 * * *",    "0 */2 * * *",
                                "10 0,1 * * *", "0 12 * * *"};
  // Berlin/New York/Lord Howe (30-minute DST) now; Sao Paulo when its DST
  // started at midnight; Apia when it skipped 2011-12-30 entirely.
  const std::pair<const char*, const char*> kRanges[] = {
      {"2026-01-01", "2027-01-01"}, {"2018-01-01", "2019-01-01"}, {"2011-12-01", "2012-01-01"}};
  int transitions_checked = 0;
  for (const char* zone_name : kZones) {
    cctz::time_zone zone;
    ASSERT_TRUE(cctz::load_time_zone(zone_name, &zone));
    for (const auto& [range_start, range_end] : kRanges) {
      cctz::time_zone::civil_transition tr;
      TimePoint cursor = at(range_start);
      while (zone.next_transition(cursor, &tr) &&
             (cursor = zone.lookup(tr.to).trans) < at(range_end)) {
        ++transitions_checked;
        const TimePoint from = cursor - std::chrono::hours(30);
        const TimePoint to = cursor + std::chrono::hours(30);
        for (const char* cron : kCrons) {
          SCOPED_TRACE(std::string(cron) + " in " + zone_name + " around " +
                       format_iso8601_utc(cursor));
          const Schedule s = schedule(cron, zone_name);
          std::vector<std::string> expected;
          for (TimePoint t = from + std::chrono::minutes(1); t <= to; t += std::chrono::minutes(1))
            if (reference_fires(s.expr(), zone, t)) expected.push_back(format_iso8601_utc(t));
          const std::vector<std::string> actual = format_all(s.between(from, to, 100000));
          ASSERT_EQ(actual, expected);
          // The backward search agrees with the forward one.
          for (size_t i = 1; i < actual.size(); i += 7) {
            const TimePoint tick = at(actual[i]);
            EXPECT_EQ(format_iso8601_utc(*s.latest_at_or_before(tick)), actual[i]);
            EXPECT_EQ(format_iso8601_utc(*s.latest_at_or_before(tick - std::chrono::seconds(1))),
                      actual[i - 1]);
          }
        }
      }
    }
  }
  EXPECT_GE(transitions_checked, 7);
}

}  // namespace
}  // namespace twinflow
