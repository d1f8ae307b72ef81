// Date parsing and normalisation to ISO-8601; see date.h.
#include "tasks/extract/date.h"
#include "util/strings.h"

#include <cstdint>
#include <cstdio>

namespace twinflow {

namespace {

struct DateTime {
  int year = 0, month = 0, day = 0;
  bool has_time = false;
  int hour = 0, minute = 0, second = 0;
  std::string fraction;  // digits after the decimal point, at most 3
  bool has_zone = false;
  int offset_minutes = 0;  // local time minus UTC
};

// Days from 1970-01-01 to the given civil date (proleptic Gregorian), after
// Howard Hinnant's days_from_civil.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(static_cast<int64_t>(yoe) + era * 400 + (*m <= 2));
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

bool valid(const DateTime& t) {
  return t.year >= 1900 && t.year <= 2999 && t.month >= 1 && t.month <= 12 && t.day >= 1 &&
         t.day <= days_in_month(t.year, t.month) && t.hour < 24 && t.minute < 60 && t.second <= 60;
}

// Shifts an instant with a zone to UTC.
void to_utc(DateTime& t) {
  if (!t.has_zone || t.offset_minutes == 0) return;
  int64_t minutes = (days_from_civil(t.year, t.month, t.day) * 24 + t.hour) * 60 + t.minute;
  minutes -= t.offset_minutes;
  const int64_t days = minutes >= 0 ? minutes / 1440 : -((-minutes + 1439) / 1440);
  const int64_t in_day = minutes - days * 1440;
  civil_from_days(days, &t.year, &t.month, &t.day);
  t.hour = static_cast<int>(in_day / 60);
  t.minute = static_cast<int>(in_day % 60);
  t.offset_minutes = 0;
}

std::string format(DateTime t) {
  char buf[64];
  if (!t.has_time) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", t.year, t.month, t.day);
    return buf;
  }
  to_utc(t);
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", t.year, t.month, t.day, t.hour,
                t.minute, t.second);
  std::string out = buf;
  if (!t.fraction.empty()) out += "." + t.fraction;
  if (t.has_zone) out += "Z";
  return out;
}

// A cursor over the text with the small parsers the formats share.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool done() const { return pos_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[pos_]; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  // Reads exactly `n` digits.
  bool digits(int n, int* value) {
    int v = 0;
    for (int k = 0; k < n; ++k) {
      if (pos_ + k >= s_.size() || s_[pos_ + k] < '0' || s_[pos_ + k] > '9') return false;
      v = v * 10 + (s_[pos_ + k] - '0');
    }
    pos_ += n;
    *value = v;
    return true;
  }
  // Reads 1..max digits.
  bool number(int max, int* value) {
    int n = 0, v = 0;
    while (n < max && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      v = v * 10 + (s_[pos_++] - '0');
      ++n;
    }
    *value = v;
    return n > 0;
  }
  std::string_view word() {
    const size_t start = pos_;
    while (pos_ < s_.size() && ((s_[pos_] | 0x20) >= 'a' && (s_[pos_] | 0x20) <= 'z')) ++pos_;
    return s_.substr(start, pos_ - start);
  }
  void skip_spaces() {
    while (!done() && (peek() == ' ' || peek() == '\t' || peek() == ',')) ++pos_;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// Zone: "Z", "UTC", "GMT", "+05:30", "+0530", "-08".
bool read_zone(Reader& r, DateTime& t) {
  if (r.eat('Z') || r.eat('z')) {
    t.has_zone = true;
    return true;
  }
  const char sign = r.peek();
  if (sign == '+' || sign == '-') {
    r.eat(sign);
    int hh = 0, mm = 0;
    if (!r.digits(2, &hh)) return false;
    r.eat(':');
    if (!r.digits(2, &mm)) mm = 0;
    t.has_zone = true;
    t.offset_minutes = (sign == '-' ? -1 : 1) * (hh * 60 + mm);
    return hh <= 14 && mm < 60;
  }
  const std::string_view w = r.word();
  if (w == "UTC" || w == "GMT" || w == "Z") {
    t.has_zone = true;
    return true;
  }
  return w.empty();
}

bool read_time(Reader& r, DateTime& t) {
  if (!r.digits(2, &t.hour) || !r.eat(':') || !r.digits(2, &t.minute)) return false;
  t.has_time = true;
  if (r.eat(':')) {
    if (!r.digits(2, &t.second)) return false;
    if (r.eat('.') || r.eat(',')) {
      int digit;
      while (r.digits(1, &digit)) {
        if (t.fraction.size() < 3) t.fraction.push_back(static_cast<char>('0' + digit));
      }
    }
  }
  while (r.eat(' ')) {
  }
  return read_zone(r, t);
}

bool parse_iso(std::string_view s, DateTime& t) {
  Reader r(s);
  if (!r.digits(4, &t.year)) return false;
  const char sep = r.peek();
  if (sep != '-' && sep != '/') return false;
  r.eat(sep);
  if (!r.digits(2, &t.month) || !r.eat(sep) || !r.digits(2, &t.day)) return false;
  if (r.eat('T') || r.eat('t') || r.eat(' ')) {
    if (!read_time(r, t)) return false;
  }
  return valid(t);
}

int month_from_name(std::string_view w) {
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  if (w.size() < 3) return 0;
  char head[3];
  for (int k = 0; k < 3; ++k) head[k] = static_cast<char>(w[k] | 0x20);
  for (int m = 0; m < 12; ++m) {
    if (std::string_view(head, 3) == kMonths[m]) return m + 1;
  }
  return 0;
}

// "Dec 19, 2016", "December 19 2016", "19 Dec 2016", "Tue, 15 Oct 2015
// 02:19:15 GMT", possibly after other words ("Published Dec 19, 2016").
bool parse_textual(std::string_view s, DateTime& t) {
  for (size_t start = 0; start < s.size(); ++start) {
    Reader r(s.substr(start));
    int first = 0;
    if (r.number(2, &first)) {
      r.skip_spaces();
      t.month = month_from_name(r.word());
      t.day = first;
    } else {
      t.month = month_from_name(r.word());
      r.skip_spaces();
      if (!r.number(2, &t.day)) t.month = 0;
      r.eat('.');
      r.word();  // "th", "st"...
    }
    if (t.month == 0) continue;
    r.skip_spaces();
    if (!r.digits(4, &t.year)) continue;
    r.skip_spaces();
    // A time counts only with its zone: a wall-clock time in an unknown zone
    // names no instant, and the date alone is then the honest answer.
    DateTime with_time = t;
    if (read_time(r, with_time) && with_time.has_zone && valid(with_time)) t = with_time;
    if (valid(t)) return true;
  }
  return false;
}

// Seconds (10 digits) or milliseconds (13 digits) since 1970.
bool parse_unix(std::string_view s, DateTime& t) {
  if (s.size() != 10 && s.size() != 13) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  int64_t millis = s.size() == 13 ? v % 1000 : 0;
  int64_t seconds = s.size() == 13 ? v / 1000 : v;
  civil_from_days(seconds / 86400, &t.year, &t.month, &t.day);
  const int64_t in_day = seconds % 86400;
  t.hour = static_cast<int>(in_day / 3600);
  t.minute = static_cast<int>(in_day / 60 % 60);
  t.second = static_cast<int>(in_day % 60);
  t.has_time = t.has_zone = true;
  if (s.size() == 13) {
    char frac[16];
    std::snprintf(frac, sizeof frac, "%03d", static_cast<int>(millis));
    t.fraction = frac;
  }
  return valid(t);
}

}  // namespace

std::string normalize_date(std::string_view text) {
  text = trim(text);
  if (text.size() > 200) text = text.substr(0, 200);
  DateTime t;
  if (parse_iso(text, t)) return format(t);
  t = DateTime();
  if (parse_unix(text, t)) return format(t);
  t = DateTime();
  if (parse_textual(text, t)) return format(t);
  return "";
}

}  // namespace twinflow
