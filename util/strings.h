// Small string helpers that every module uses. ASCII only: protocol tokens,
// header names, tags and file suffixes are ASCII; text content is UTF-8 and is
// never case-folded here. (starts_with/ends_with: use std::string_view's.)
#pragma once

#include <string>
#include <string_view>

namespace twinflow {

// Space, tab, newline, carriage return, form feed, vertical tab.
constexpr bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

constexpr bool is_ascii_lower(char c) {
  return c >= 'a' && c <= 'z';
}
constexpr bool is_ascii_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
constexpr bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}
constexpr bool is_ascii_alpha(char c) {
  return is_ascii_lower(c) || is_ascii_upper(c);
}

// `c` with A-Z turned into a-z.
constexpr char to_lower_ascii(char c) {
  return is_ascii_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
}

// HTML's whitespace: ASCII whitespace without the vertical tab.
constexpr bool is_html_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

// A UTF-8 byte that continues a code point (10xxxxxx).
constexpr bool is_utf8_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// a == b, ignoring the case of A-Z.
bool equals_nocase(std::string_view a, std::string_view b);

// `text` without leading and trailing ASCII whitespace (a view into it).
std::string_view trim(std::string_view text);
std::string trim_copy(std::string_view text);  // the same, as a string of its own

// `text` trimmed, with each run of whitespace that holds a line break or a
// tab turned into one space: a library's multi-line message as one line of
// a log or of an error.
std::string one_line(std::string_view text);

// `text` with A-Z turned into a-z; other bytes unchanged.
std::string to_lower(std::string_view text);

// Replaces every occurrence of `from` in `text` by `to`, left to right, never
// inside a replacement. Nothing happens when `from` is empty.
void replace_all(std::string& text, std::string_view from, std::string_view to);

}  // namespace twinflow
