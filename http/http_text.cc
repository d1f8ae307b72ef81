// The HTTP value types' small methods and the text helpers of http_server.h
// (URL decoding, query strings, HTTP dates): no Beast, no sockets.
#include <strings.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "http/http_server.h"

namespace twinflow {

const std::string& HttpRequest::header(const std::string& name, const std::string& fallback) const {
  const auto it = headers.find(name);
  return it == headers.end() ? fallback : it->second;
}

HttpResponse& HttpResponse::header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

HttpResponse HttpResponse::text(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr const char* kDayNames[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonthNames[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int month_index(const char* name) {
  for (int i = 0; i < 12; ++i) {
    if (strncasecmp(name, kMonthNames[i], 3) == 0) return i;
  }
  return -1;
}

// Fills `fields` from one of the three date forms RFC 9110 5.6.7 allows.
bool scan_http_date(const std::string& text, std::tm& fields) {
  char month[4] = {};
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  const char* s = text.c_str();
  const bool scanned =
      std::sscanf(s, "%*3s, %d %3s %d %d:%d:%d GMT", &day, month, &year, &hour, &minute, &second) ==
          6 ||
      std::sscanf(s, "%*[A-Za-z], %d-%3s-%d %d:%d:%d GMT", &day, month, &year, &hour, &minute,
                  &second) == 6 ||
      std::sscanf(s, "%*3s %3s %d %d:%d:%d %d", month, &day, &hour, &minute, &second, &year) == 6;
  if (!scanned || month_index(month) < 0) return false;
  if (year < 100) year += year < 70 ? 2000 : 1900;  // RFC 850's two-digit years
  fields = {};
  fields.tm_year = year - 1900;
  fields.tm_mon = month_index(month);
  fields.tm_mday = day;
  fields.tm_hour = hour;
  fields.tm_min = minute;
  fields.tm_sec = second;
  return day >= 1 && day <= 31 && hour < 24 && minute < 60 && second <= 60;
}

}  // namespace

std::string url_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string key = url_decode(pair.substr(0, eq), true);
    out[std::move(key)] =
        eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1), true);
  }
  return out;
}

std::string format_http_date(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm fields{};
  gmtime_r(&seconds, &fields);
  char text[40];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDayNames[fields.tm_wday],
                fields.tm_mday, kMonthNames[fields.tm_mon], fields.tm_year + 1900, fields.tm_hour,
                fields.tm_min, fields.tm_sec);
  return text;
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  std::tm fields{};
  if (!scan_http_date(std::string(text), fields)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&fields));
}

}  // namespace twinflow
