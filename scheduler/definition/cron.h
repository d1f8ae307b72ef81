// Cron schedules with a time zone: when does a pipeline's next run start?
//
// CronExpr is a parsed five-field cron expression (minute hour day-of-month
// month day-of-week), matched against wall-clock minutes. Schedule pairs one
// with an IANA time zone and answers the scheduler's questions in absolute
// time: the next fire time, the latest missed one (catchup=false) and every
// missed one (catchup=true).
//
// Syntax: `*`, numbers, lists `1,15`, ranges `1-5`, steps `*/15`, `10-50/10`
// and `10/20` (= `10-59/20`, as croniter reads it); month names JAN-DEC and
// weekday names SUN-SAT in any case; 0 and 7 are both Sunday. Macros: @hourly,
// @daily = @midnight, @weekly (Sunday 00:00), @monthly, @yearly = @annually.
//
// Day-of-month and day-of-week follow croniter (Airflow) and npm cron-parser,
// not Vixie cron: a day field is unrestricted only when it allows every day
// (`*`, or a spelling of all days such as `*/1` or `1-31`); a step such as
// `*/13` restricts it (Vixie's "starts with `*`" reading would not). When both
// are restricted a day matches if EITHER matches (`0 0 13 * FRI` fires on
// every 13th and every Friday, `0 0 */13 * FRI` on the 1st, 14th, 27th and
// every Friday); otherwise both must match.
//
// Parsing reports problems as a value (CronParse, ScheduleParse) whose error
// names the field and the offending value. An expression that can never fire
// (`0 0 30 2 *`) is rejected when parsed.
//
// Time zones and daylight saving time. Ticks are wall-clock times in the
// schedule's zone; what happens when the wall clock jumps depends on whether
// the hour field covers all 24 hours (this is Airflow's rule, see
// airflow/timetables/_cron.py, "_covers_every_hour"):
//
// * Fixed-hour schedules (hour field restricted, e.g. `30 2 * * *`) follow
//   the wall clock. A tick inside a spring-forward gap (02:30 on 2026-03-29
//   in Europe/Berlin does not exist) fires once, at the instant the gap ends
//   (03:00 CEST); several ticks in one gap collapse into that one fire. A tick
//   inside a fall-back overlap (02:30 happens twice on 2026-10-25 in Berlin)
//   fires once, at its first occurrence (02:30 CEST).
//
// * Hourly-or-finer schedules (hour field covers every hour, e.g. `0 * * * *`
//   or `*/15 * * * *`) follow elapsed time, so "every hour" keeps firing every
//   real hour. A tick in a fall-back overlap fires at both occurrences. A tick
//   in a spring-forward gap is carried forward by the length of the gap
//   (02:30 CET would-be becomes 03:30 CEST), where it merges with the real
//   03:30 tick; no instant ever fires twice.
//
// Searches skip non-matching months, days and hours rather than stepping
// minute by minute. A search looks at most kSearchYears of wall-clock years
// ahead, enough for `0 0 29 2 *` across a non-leap century year (2096 to
// 2104). Every expression parse() accepts fires within that; should a search
// still run past it, next_after() throws Error rather than search on.
#pragma once

#include <bitset>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

namespace twinflow {

struct CronParse;

// A parsed five-field cron expression. Build one with parse().
class CronExpr {
 public:
  static CronParse parse(std::string_view text);

  // Whether the wall-clock minute `m` is a tick.
  bool matches(const cctz::civil_minute& m) const;

  // The first tick in [from, limit), or nullopt if there is none.
  std::optional<cctz::civil_minute> next_match(cctz::civil_minute from,
                                               cctz::civil_minute limit) const;

  // Whether the hour field allows all 24 hours: such schedules follow elapsed
  // time across DST changes (see the file comment).
  bool covers_every_hour() const { return hours_.all(); }

  // The expression as written, without surrounding whitespace.
  std::string text() const { return text_; }

 private:
  CronExpr() = default;

  bool day_matches(const cctz::civil_day& d) const;
  // Whether some month the expression allows has a day it allows.
  bool has_real_date() const;

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;            // 1-31; bit 0 unused
  std::bitset<13> months_;          // 1-12; bit 0 unused
  std::bitset<7> weekdays_;         // 0 = Sunday
  bool day_of_month_star_ = false;  // the field allows every day: unrestricted
  bool day_of_week_star_ = false;
};

// The result of CronExpr::parse(): an expression, or a message such as
// "bad minute field '61': value out of range 0-59".
struct CronParse {
  std::optional<CronExpr> expr;
  std::string error;
};

struct ScheduleParse;

// A cron expression in an IANA time zone.
class Schedule {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  // How far ahead (in wall-clock years) a search for the next tick looks.
  static constexpr int kSearchYears = 8;
  // How far back latest_at_or_before() looks: a year, with room for a leap
  // day and a UTC offset change, so that a yearly schedule is always found.
  static constexpr std::chrono::hours kLookBack{24 * 367};

  // `timezone` is an IANA name such as "Europe/Berlin"; empty means "UTC".
  static ScheduleParse parse(std::string_view cron, std::string_view timezone);

  // The first fire time strictly after `after`. Throws Error if there is none
  // within kSearchYears (only for pathological expressions) or if it lies past
  // what system_clock::time_point can hold (the year 2262 with libstdc++).
  TimePoint next_after(TimePoint after) const;

  // The next n fire times after `after`, in order.
  std::vector<TimePoint> next_n(TimePoint after, int n) const;

  // The latest fire time <= `at`, or nullopt if there is none within kLookBack.
  // For catchup=false: run only the latest missed tick.
  std::optional<TimePoint> latest_at_or_before(TimePoint at) const;

  // The fire times in (from, to], in order, at most `limit` of them.
  // For catchup=true: run every missed tick.
  std::vector<TimePoint> between(TimePoint from, TimePoint to, size_t limit) const;

  const CronExpr& expr() const { return expr_; }
  const std::string& timezone() const { return timezone_; }

 private:
  using Seconds = cctz::time_point<cctz::seconds>;

  Schedule(CronExpr expr, cctz::time_zone zone, std::string timezone)
      : expr_(std::move(expr)), zone_(zone), timezone_(std::move(timezone)) {}

  std::optional<Seconds> find_next(Seconds after) const;

  CronExpr expr_;
  cctz::time_zone zone_;
  std::string timezone_;
};

// The result of Schedule::parse(): a schedule, or a message such as
// "unknown timezone 'Europe/Berln'".
struct ScheduleParse {
  std::optional<Schedule> schedule;
  std::string error;
};

// `t` as "2026-03-29T01:00:00Z" (whole seconds, rounded down).
std::string format_iso8601_utc(std::chrono::system_clock::time_point t);

// Parses "2026-03-29T01:00:00Z", "2026-03-29T03:00:00+02:00" (optionally with
// fractional seconds, 't' or ' ' as separator) or a date alone "2026-03-29"
// (midnight UTC). A date-time without an offset is ambiguous and rejected, as
// are dates system_clock::time_point cannot hold.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);

}  // namespace twinflow
