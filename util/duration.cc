// Durations as written in DAG files and step params: "500ms", "30s", "1h30m".
#include "util/duration.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <utility>

namespace twinflow {

namespace {

size_t skip_digits(std::string_view text, size_t pos) {
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  return pos;
}

// Reads a number like "1.5" or "30" (no sign, no exponent) at `pos`.
std::optional<double> scan_decimal(std::string_view text, size_t& pos) {
  size_t end = skip_digits(text, pos);
  if (end < text.size() && text[end] == '.') end = skip_digits(text, end + 1);
  std::string_view number = text.substr(pos, end - pos);
  if (number.empty() || number == ".") return std::nullopt;
  double value = 0;
  auto [stop, error] = std::from_chars(number.data(), number.data() + number.size(), value,
                                       std::chars_format::fixed);
  if (error != std::errc() || stop != number.data() + number.size()) return std::nullopt;
  pos = end;
  return value;
}

// Milliseconds per unit at `pos`, advancing past it. "ms" is tried before "m".
std::optional<double> scan_unit(std::string_view text, size_t& pos) {
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 60 * 60 * 1000}};
  for (const auto& [unit, millis] : kUnits) {
    if (text.substr(pos).starts_with(unit)) {
      pos += unit.size();
      return millis;
    }
  }
  return std::nullopt;
}

// "1h30m": a sequence of numbers, each followed by its unit.
std::optional<double> sum_of_units(std::string_view text) {
  double total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    std::optional<double> amount = scan_decimal(text, pos);
    if (!amount) return std::nullopt;
    std::optional<double> unit = scan_unit(text, pos);
    if (!unit) return std::nullopt;
    total += *amount * *unit;
  }
  return total;
}

}  // namespace

std::optional<Millis> parse_duration(const std::string& text) {
  // Far beyond any sensible timeout, yet well inside the range of Millis.
  constexpr double kMaxMillis = 1e15;
  size_t end = 0;
  std::optional<double> millis;
  if (std::optional<double> seconds = scan_decimal(text, end); seconds && end == text.size()) {
    millis = *seconds * 1000;  // a plain number means seconds
  } else if (!text.empty()) {
    millis = sum_of_units(text);
  }
  if (!millis || *millis > kMaxMillis) return std::nullopt;
  return Millis(std::llround(*millis));
}

std::string describe_seconds(Millis duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", static_cast<double>(duration.count()) / 1000.0);
  return text;
}

}  // namespace twinflow
