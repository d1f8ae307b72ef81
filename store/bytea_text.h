// bytea's text form, "\x" followed by two hex digits per byte, as the store
// sends and reads binary columns (vector lists, BM25 postings) without a
// binary protocol. Internal to store/.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace twinflow {

// Lowercase hex digits of `bytes`, without the "\x": appended to `out`, or
// as a string of their own.
inline void append_hex(std::string& out, std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  const size_t at = out.size();
  out.resize(at + bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[at + 2 * i] = digits[b >> 4];
    out[at + 2 * i + 1] = digits[b & 15];
  }
}
inline std::string bytes_to_hex(std::string_view bytes) {
  std::string out;
  append_hex(out, bytes);
  return out;
}

// The value of every byte as a hex digit, -1 where it is none.
inline constexpr std::array<int8_t, 256> kHexValues = [] {
  std::array<int8_t, 256> values{};
  values.fill(-1);
  for (int c = '0'; c <= '9'; ++c) values[c] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) values[c] = static_cast<int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) values[c] = static_cast<int8_t>(c - 'A' + 10);
  return values;
}();

// `count` bytes from the hex digits at `hex` into `out`; false on a bad digit.
inline bool decode_hex(const char* hex, size_t count, unsigned char* out) {
  int bad = 0;
  for (size_t i = 0; i < count; ++i) {
    const int hi = kHexValues[static_cast<unsigned char>(hex[2 * i])];
    const int lo = kHexValues[static_cast<unsigned char>(hex[2 * i + 1])];
    bad |= hi | lo;  // negative when either is not a digit
    out[i] = static_cast<unsigned char>(hi << 4 | (lo & 15));
  }
  return bad >= 0;
}

// Bytes in bytea's text form `text` ("\x" then hex digits).
inline size_t bytea_text_size(std::string_view text) {
  return text.size() >= 2 ? (text.size() - 2) / 2 : 0;
}

// The bytes of `text` into `out` (bytea_text_size(text) of them); false when
// `text` is not bytea's text form.
inline bool decode_bytea_text(std::string_view text, unsigned char* out) {
  return text.size() >= 2 && text[0] == '\\' && text[1] == 'x' && text.size() % 2 == 0 &&
         decode_hex(text.data() + 2, bytea_text_size(text), out);
}

}  // namespace twinflow
