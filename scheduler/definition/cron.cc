// Cron parsing, tick search in wall-clock time, and its mapping to absolute
// time across UTC offset changes. See cron.h for the rules.
#include "scheduler/definition/cron.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "util/error.h"
#include "util/strings.h"

namespace twinflow {

namespace {

using Seconds = cctz::time_point<cctz::seconds>;

// What one of the five fields accepts.
struct FieldSpec {
  const char* name;          // as used in error messages
  int min;                   // smallest number allowed
  int max;                   // largest number allowed (7 for day-of-week: Sunday)
  int star_max;              // `*` and `a/step` run up to here
  const char* expected;      // the allowed values, for error messages
  const char* const* names;  // three-letter names, or nullptr
  int names_base;            // the number of names[0]
  int name_count;
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kWeekdayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

constexpr FieldSpec kFields[5] = {
    {"minute", 0, 59, 59, "0-59", nullptr, 0, 0},
    {"hour", 0, 23, 23, "0-23", nullptr, 0, 0},
    {"day-of-month", 1, 31, 31, "1-31", nullptr, 0, 0},
    {"month", 1, 12, 12, "1-12 or JAN-DEC", kMonthNames, 1, 12},
    {"day-of-week", 0, 7, 6, "0-7 or SUN-SAT", kWeekdayNames, 0, 7},
};
constexpr int kMonthField = 3;
constexpr int kDayOfWeekField = 4;

// The longest each month can be; February counts its leap day.
constexpr int kMaxDaysInMonth[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const size_t at = s.find(separator);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

std::vector<std::string_view> split_whitespace(std::string_view s) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < s.size()) {
    if (std::isspace(static_cast<unsigned char>(s[i]))) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < s.size() && !std::isspace(static_cast<unsigned char>(s[end]))) ++end;
    words.push_back(s.substr(i, end - i));
    i = end;
  }
  return words;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

// A non-negative decimal number with nothing around it.
std::optional<int> parse_number(std::string_view text) {
  int value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 0) return std::nullopt;
  return value;
}

// The five fields a macro stands for, or nullopt for an unknown macro.
std::optional<std::string_view> expand_macro(std::string_view macro) {
  static constexpr std::pair<std::string_view, std::string_view> kMacros[] = {
      {"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
      {"@weekly", "0 0 * * 0"},  {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
      {"@annually", "0 0 1 1 *"}};
  for (const auto& [name, fields] : kMacros)
    if (equals_ignoring_case(macro, name)) return fields;
  return std::nullopt;
}

// Reads one value (a number or a name) into *value; returns why it is bad, or "".
std::string parse_value(std::string_view text, const FieldSpec& spec, int* value) {
  if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) {
    const std::optional<int> number = parse_number(text);
    if (!number) return std::string("expected ") + spec.expected;
    if (*number < spec.min || *number > spec.max)
      return "value out of range " + std::to_string(spec.min) + "-" + std::to_string(spec.max);
    *value = *number;
    return "";
  }
  for (int i = 0; i < spec.name_count; ++i) {
    if (equals_ignoring_case(text, spec.names[i])) {
      *value = spec.names_base + i;
      return "";
    }
  }
  return std::string("expected ") + spec.expected;
}

// Reads the range part of a list item (`*`, `a`, `a-b`) into [*lo, *hi].
// A lone value with a step (`10/20`) runs to the end of the field, as in croniter.
std::string parse_range(std::string_view text, const FieldSpec& spec, bool has_step, int* lo,
                        int* hi) {
  if (text == "*") {
    *lo = spec.min;
    *hi = spec.star_max;
    return "";
  }
  const size_t dash = text.find('-');
  std::string reason = parse_value(text.substr(0, dash), spec, lo);
  if (!reason.empty()) return reason;
  if (dash == std::string_view::npos) {
    *hi = has_step ? std::max(*lo, spec.star_max) : *lo;
    return "";
  }
  reason = parse_value(text.substr(dash + 1), spec, hi);
  if (!reason.empty()) return reason;
  if (*lo > *hi) return "range start is after its end";
  return "";
}

// Adds the values of one list item to *values; returns why it is bad, or "".
std::string add_item(std::string_view item, const FieldSpec& spec, std::bitset<64>* values) {
  const size_t slash = item.find('/');
  const bool has_step = slash != std::string_view::npos;
  int step = 1;
  if (has_step) {
    const std::optional<int> parsed = parse_number(item.substr(slash + 1));
    if (!parsed || *parsed < 1) return "step must be a positive number";
    step = *parsed;
  }
  int lo = 0;
  int hi = 0;
  const std::string reason = parse_range(item.substr(0, slash), spec, has_step, &lo, &hi);
  if (!reason.empty()) return reason;
  // 7 is Sunday too; it is the only value above star_max.
  for (int v = lo; v <= hi; v += step) values->set(v > spec.star_max ? 0 : v);
  return "";
}

std::string field_error(const FieldSpec& spec, std::string_view quoted, const std::string& reason) {
  return "bad " + std::string(spec.name) + " field '" + std::string(quoted) + "': " + reason;
}

// Parses a comma-separated field into *values; returns an error message, or "".
std::string parse_field(std::string_view text, const FieldSpec& spec, std::bitset<64>* values) {
  for (std::string_view item : split(text, ',')) {
    if (item.empty()) return field_error(spec, text, "empty list item");
    const std::string reason = add_item(item, spec, values);
    if (!reason.empty()) return field_error(spec, item, reason);
  }
  return "";
}

// Sunday = 0, as cron counts.
int cron_weekday(const cctz::civil_day& d) {
  return (static_cast<int>(cctz::get_weekday(d)) + 1) % 7;  // cctz starts at Monday
}

// The lowest set bit at or above `from`, or -1.
int next_set_bit(const std::bitset<60>& bits, int from) {
  for (int i = from; i < 60; ++i)
    if (bits[i]) return i;
  return -1;
}

// IANA names are letters, digits, '/', '_', '-' and '+'. cctz would also load
// a file path or "localtime", which would tie the schedule to one machine.
bool looks_like_zone_name(std::string_view name) {
  if (name.empty() || name.front() == '/' || name == "localtime") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
           c == '+';
  });
}

// The instant at which the wall clock shows `c` under UTC offset `offset`.
Seconds at_offset(const cctz::civil_second& c, long long offset) {
  return cctz::convert(c, cctz::utc_time_zone()) - cctz::seconds(offset);
}

// The first wall-clock minute strictly after `t` under UTC offset `offset`.
cctz::civil_minute minute_after(Seconds t, long long offset) {
  return cctz::civil_minute(cctz::convert(t, cctz::utc_time_zone()) + offset) + 1;
}

// The first whole minute at or after `c`.
cctz::civil_minute ceil_minute(const cctz::civil_second& c) {
  const cctz::civil_minute m(c);
  return cctz::civil_second(m) == c ? m : m + 1;
}

// Whether `t` is representable as a system_clock::time_point, which with
// nanosecond ticks only spans the years 1677 to 2262.
bool fits_time_point(Seconds t) {
  using TimePoint = std::chrono::system_clock::time_point;
  return t >= std::chrono::ceil<cctz::seconds>(TimePoint::min()) &&
         t <= std::chrono::floor<cctz::seconds>(TimePoint::max());
}

std::optional<Seconds> earliest(std::optional<Seconds> a, Seconds b) {
  return a && *a < b ? *a : b;
}

// Reads exactly `width` digits off the front of *s.
std::optional<int> take_digits(std::string_view* s, size_t width) {
  if (s->size() < width) return std::nullopt;
  for (size_t i = 0; i < width; ++i)
    if (!std::isdigit(static_cast<unsigned char>((*s)[i]))) return std::nullopt;
  const std::optional<int> value = parse_number(s->substr(0, width));
  s->remove_prefix(width);
  return value;
}

// Consumes one character of *s if it is one of `options`.
bool take_char(std::string_view* s, std::string_view options) {
  if (s->empty() || options.find(s->front()) == std::string_view::npos) return false;
  s->remove_prefix(1);
  return true;
}

// "YYYY-MM-DD", rejecting dates that do not exist (2026-02-30).
std::optional<cctz::civil_day> take_date(std::string_view* s) {
  const std::optional<int> year = take_digits(s, 4);
  if (!year || !take_char(s, "-")) return std::nullopt;
  const std::optional<int> month = take_digits(s, 2);
  if (!month || !take_char(s, "-")) return std::nullopt;
  const std::optional<int> day = take_digits(s, 2);
  if (!day) return std::nullopt;
  const cctz::civil_day date(*year, *month, *day);  // normalizes out-of-range parts
  if (date.month() != *month || date.day() != *day) return std::nullopt;
  return date;
}

// "HH:MM[:SS[.fraction]]" as seconds into the day plus the fraction.
std::optional<std::chrono::nanoseconds> take_time_of_day(std::string_view* s) {
  const std::optional<int> hour = take_digits(s, 2);
  if (!hour || *hour > 23 || !take_char(s, ":")) return std::nullopt;
  const std::optional<int> minute = take_digits(s, 2);
  if (!minute || *minute > 59) return std::nullopt;
  std::chrono::nanoseconds time = std::chrono::hours(*hour) + std::chrono::minutes(*minute);
  if (!take_char(s, ":")) return time;
  const std::optional<int> second = take_digits(s, 2);
  if (!second || *second > 59) return std::nullopt;
  time += std::chrono::seconds(*second);
  if (!take_char(s, ".")) return time;
  long long scale = 100'000'000;  // nanoseconds per unit of the first digit
  size_t digits = 0;
  for (; digits < s->size() && std::isdigit(static_cast<unsigned char>((*s)[digits])); ++digits) {
    time += std::chrono::nanoseconds(((*s)[digits] - '0') * scale);
    scale /= 10;  // digits past the ninth fall below a nanosecond
  }
  if (digits == 0) return std::nullopt;
  s->remove_prefix(digits);
  return time;
}

// "Z" or "+hh:mm" / "-hh:mm" as seconds east of UTC.
std::optional<std::chrono::seconds> take_offset(std::string_view* s) {
  if (take_char(s, "Zz")) return std::chrono::seconds(0);
  const bool negative = !s->empty() && s->front() == '-';
  if (!take_char(s, "+-")) return std::nullopt;
  const std::optional<int> hours = take_digits(s, 2);
  if (!hours || *hours > 23 || !take_char(s, ":")) return std::nullopt;
  const std::optional<int> minutes = take_digits(s, 2);
  if (!minutes || *minutes > 59) return std::nullopt;
  const std::chrono::seconds offset = std::chrono::hours(*hours) + std::chrono::minutes(*minutes);
  return negative ? -offset : offset;
}

}  // namespace

CronParse CronExpr::parse(std::string_view text) {
  const std::string_view trimmed = trim(text);
  if (trimmed.empty()) return {std::nullopt, "empty cron expression"};
  std::string_view fields_text = trimmed;
  if (trimmed.front() == '@') {
    const std::optional<std::string_view> expansion = expand_macro(trimmed);
    if (!expansion)
      return {std::nullopt, "unknown cron macro '" + std::string(trimmed) +
                                "'; expected @hourly, @daily, @midnight, @weekly, @monthly, "
                                "@yearly or @annually"};
    fields_text = *expansion;
  }
  const std::vector<std::string_view> fields = split_whitespace(fields_text);
  if (fields.size() != 5)
    return {std::nullopt, "cron expression '" + std::string(trimmed) + "' has " +
                              std::to_string(fields.size()) +
                              " fields; expected 5 (minute hour day-of-month month day-of-week)"};

  std::bitset<64> values[5];
  for (int i = 0; i < 5; ++i) {
    std::string error = parse_field(fields[i], kFields[i], &values[i]);
    if (!error.empty()) return {std::nullopt, std::move(error)};
  }
  CronExpr expr;
  expr.text_ = std::string(trimmed);
  expr.minutes_ = std::bitset<60>(values[0].to_ullong());
  expr.hours_ = std::bitset<24>(values[1].to_ullong());
  expr.days_ = std::bitset<32>(values[2].to_ullong());
  expr.months_ = std::bitset<13>(values[kMonthField].to_ullong());
  expr.weekdays_ = std::bitset<7>(values[kDayOfWeekField].to_ullong());
  // A day field is unrestricted when it allows every day, however written
  // (`*`, `*/1`, `1-31`, `0-6`); `*/13` allows some days only: restricted.
  expr.day_of_month_star_ = expr.days_.count() == 31;
  expr.day_of_week_star_ = expr.weekdays_.all();
  if (!expr.has_real_date())
    return {std::nullopt, "cron expression '" + expr.text_ + "' never fires: month field '" +
                              std::string(fields[kMonthField]) + "' has no day '" +
                              std::string(fields[2]) + "'"};
  return {std::move(expr), ""};
}

bool CronExpr::has_real_date() const {
  // With both day fields restricted, any weekday of any allowed month fires.
  if (!day_of_month_star_ && !day_of_week_star_) return true;
  for (int month = 1; month <= 12; ++month) {
    if (!months_[month]) continue;
    for (int day = 1; day <= kMaxDaysInMonth[month]; ++day)
      if (days_[day]) return true;
  }
  return false;
}

bool CronExpr::day_matches(const cctz::civil_day& d) const {
  const bool by_month_day = days_[d.day()];
  const bool by_weekday = weekdays_[cron_weekday(d)];
  if (day_of_month_star_ || day_of_week_star_) return by_month_day && by_weekday;
  return by_month_day || by_weekday;
}

bool CronExpr::matches(const cctz::civil_minute& m) const {
  return months_[m.month()] && day_matches(cctz::civil_day(m)) && hours_[m.hour()] &&
         minutes_[m.minute()];
}

std::optional<cctz::civil_minute> CronExpr::next_match(cctz::civil_minute from,
                                                       cctz::civil_minute limit) const {
  // Each miss jumps to the start of the next month, day or hour, so a search
  // costs at most a few steps per month of the range.
  cctz::civil_minute m = from;
  while (m < limit) {
    if (!months_[m.month()]) {
      m = cctz::civil_minute(cctz::civil_month(m) + 1);
    } else if (!day_matches(cctz::civil_day(m))) {
      m = cctz::civil_minute(cctz::civil_day(m) + 1);
    } else if (!hours_[m.hour()]) {
      m = cctz::civil_minute(cctz::civil_hour(m) + 1);
    } else {
      const int minute = next_set_bit(minutes_, m.minute());
      if (minute < 0) {
        m = cctz::civil_minute(cctz::civil_hour(m) + 1);
        continue;
      }
      m = cctz::civil_minute(cctz::civil_hour(m)) + minute;
      return m < limit ? std::optional(m) : std::nullopt;
    }
  }
  return std::nullopt;
}

ScheduleParse Schedule::parse(std::string_view cron, std::string_view timezone) {
  CronParse parsed = CronExpr::parse(cron);
  if (!parsed.expr) return {std::nullopt, std::move(parsed.error)};
  const std::string name = timezone.empty() ? "UTC" : std::string(timezone);
  cctz::time_zone zone;
  if (!looks_like_zone_name(name) || !cctz::load_time_zone(name, &zone))
    return {std::nullopt, "unknown timezone '" + name + "'"};
  return {Schedule(std::move(*parsed.expr), zone, name), ""};
}

// Walks the zone's stretches of constant UTC offset, from the one before
// `after` (whose gap may carry a tick past `after`) onwards. In each stretch
// the wall clock maps to absolute time by one offset; the transition that
// ends it is either a gap (wall clock jumps forward) or an overlap (jumps
// back and repeats).
std::optional<Schedule::Seconds> Schedule::find_next(Seconds after) const {
  const bool elapsed = expr_.covers_every_hour();
  const cctz::time_zone::absolute_lookup here = zone_.lookup(after);
  const cctz::civil_minute limit(cctz::civil_year(here.cs.year() + kSearchYears + 1));

  long long offset = here.offset;
  Seconds cursor = after;  // next_transition(cursor) ends the current stretch
  cctz::time_zone::civil_transition prev;
  if (zone_.prev_transition(after + cctz::seconds(1), &prev)) {
    offset -= prev.to - prev.from;
    cursor = at_offset(prev.from, offset) - cctz::seconds(1);
  }

  cctz::civil_minute first = minute_after(after, offset);  // ticks must come after `after`
  std::optional<Seconds> carried;  // an elapsed-time tick carried over a gap
  for (;;) {
    first = std::max(first, minute_after(after, offset));
    cctz::time_zone::civil_transition next;
    const bool has_next = zone_.next_transition(cursor, &next);
    const cctz::civil_minute end = has_next ? std::min(ceil_minute(next.from), limit) : limit;
    const bool gap = has_next && next.to > next.from;
    const cctz::civil_minute search_end = gap ? std::min(ceil_minute(next.to), limit) : end;
    const std::optional<cctz::civil_minute> tick = expr_.next_match(first, search_end);
    if (tick && *tick < end) return earliest(carried, at_offset(*tick, offset));
    if (carried) return carried;  // nothing in this stretch comes before it
    if (tick) {
      // The tick falls in the gap ending this stretch.
      const Seconds gap_end = at_offset(next.from, offset);
      if (elapsed) {
        carried = at_offset(*tick, offset);  // the next stretch may still beat it
      } else if (gap_end > after) {
        return gap_end;
      }
    }
    if (!has_next || end >= limit) return carried;
    cursor = at_offset(next.from, offset);
    // Fixed-hour schedules already fired at the first occurrence of a
    // repeated wall-clock hour, so they resume after it.
    first = ceil_minute(elapsed ? next.to : std::max(next.from, next.to));
    offset += next.to - next.from;
  }
}

Schedule::TimePoint Schedule::next_after(TimePoint after) const {
  const std::optional<Seconds> next = find_next(std::chrono::floor<cctz::seconds>(after));
  if (!next)
    throw Error("cron schedule '" + expr_.text() + "' in " + timezone_ +
                " has no fire time within " + std::to_string(kSearchYears) + " years after " +
                format_iso8601_utc(after));
  if (!fits_time_point(*next))
    throw Error("cron schedule '" + expr_.text() + "' in " + timezone_ + " next fires at " +
                cctz::format("%Y-%m-%dT%H:%M:%SZ", *next, cctz::utc_time_zone()) +
                ", beyond the last representable time");
  return *next;
}

std::vector<Schedule::TimePoint> Schedule::next_n(TimePoint after, int n) const {
  std::vector<TimePoint> times;
  for (int i = 0; i < n; ++i) {
    after = next_after(after);
    times.push_back(after);
  }
  return times;
}

std::optional<Schedule::TimePoint> Schedule::latest_at_or_before(TimePoint at) const {
  // Bisection over next_after-style searches keeps the backward answer
  // consistent with the forward one, DST rules included, at ~25 searches.
  const Seconds end = std::chrono::floor<cctz::seconds>(at);
  Seconds lo = end - kLookBack;  // invariant: the tick after lo is <= end
  Seconds hi = end;              // invariant: the tick after hi is > end
  std::optional<Seconds> best = find_next(lo);
  if (!best || *best > end) return std::nullopt;
  while (hi - lo > cctz::seconds(1)) {
    const Seconds mid = lo + (hi - lo) / 2;
    const std::optional<Seconds> tick = find_next(mid);
    if (tick && *tick <= end) {
      lo = mid;
      best = tick;
    } else {
      hi = mid;
    }
  }
  return *best;
}

std::vector<Schedule::TimePoint> Schedule::between(TimePoint from, TimePoint to,
                                                   size_t limit) const {
  std::vector<TimePoint> times;
  const Seconds end = std::chrono::floor<cctz::seconds>(to);
  Seconds cursor = std::chrono::floor<cctz::seconds>(from);
  while (times.size() < limit) {
    const std::optional<Seconds> tick = find_next(cursor);
    if (!tick || *tick > end) break;
    times.push_back(*tick);
    cursor = *tick;
  }
  return times;
}

std::string format_iso8601_utc(std::chrono::system_clock::time_point t) {
  return cctz::format("%Y-%m-%dT%H:%M:%SZ", std::chrono::floor<cctz::seconds>(t),
                      cctz::utc_time_zone());
}

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text) {
  std::string_view rest = text;
  const std::optional<cctz::civil_day> date = take_date(&rest);
  if (!date) return std::nullopt;
  const Seconds midnight = cctz::convert(cctz::civil_second(*date), cctz::utc_time_zone());
  // A day's margin keeps the offset and time of day below from overflowing.
  if (!fits_time_point(midnight - cctz::seconds(86400)) ||
      !fits_time_point(midnight + cctz::seconds(2 * 86400)))
    return std::nullopt;
  if (rest.empty()) return midnight;
  if (!take_char(&rest, "Tt ")) return std::nullopt;
  const std::optional<std::chrono::nanoseconds> time = take_time_of_day(&rest);
  if (!time) return std::nullopt;
  const std::optional<std::chrono::seconds> offset = take_offset(&rest);
  if (!offset || !rest.empty()) return std::nullopt;
  return midnight - *offset +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(*time);
}

}  // namespace twinflow
