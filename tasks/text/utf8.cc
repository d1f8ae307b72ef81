// UTF-8 decoding after Unicode table 3-7; see utf8.h.
#include "tasks/text/utf8.h"

namespace twinflow {

namespace {

// The accepted range of the second byte depends on the lead byte: this is what
// rules out overlong forms, surrogates and code points above U+10FFFF.
bool second_byte_ok(unsigned char lead, unsigned char b) {
  switch (lead) {
    case 0xE0:
      return b >= 0xA0 && b <= 0xBF;
    case 0xED:
      return b >= 0x80 && b <= 0x9F;
    case 0xF0:
      return b >= 0x90 && b <= 0xBF;
    case 0xF4:
      return b >= 0x80 && b <= 0x8F;
    default:
      return is_utf8_continuation(b);
  }
}

}  // namespace

DecodedChar decode_utf8(std::string_view s, size_t pos) {
  const auto lead = static_cast<unsigned char>(s[pos]);
  if (lead < 0x80) return {lead, 1, true};
  int need;
  char32_t cp;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    cp = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    cp = lead & 0x07;
  } else {
    return {kReplacementChar, 1, false};
  }
  // Consume the longest valid prefix; a failure anywhere yields one
  // replacement for that prefix (the "maximal subpart" rule).
  uint8_t len = 1;
  for (int i = 0; i < need; ++i) {
    if (pos + len >= s.size()) return {kReplacementChar, len, false};
    const auto b = static_cast<unsigned char>(s[pos + len]);
    const bool ok = i == 0 ? second_byte_ok(lead, b) : is_utf8_continuation(b);
    if (!ok) return {kReplacementChar, len, false};
    cp = (cp << 6) | (b & 0x3F);
    ++len;
  }
  return {cp, len, true};
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const DecodedChar d = decode_utf8(s, i);
    if (!d.valid) return false;
    i += d.len;
  }
  return true;
}

std::string to_valid_utf8(std::string_view s) {
  if (is_valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  size_t i = 0;
  while (i < s.size()) {
    const size_t start = i;
    while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
    out.append(s, start, i - start);
    if (i >= s.size()) break;
    const DecodedChar d = decode_utf8(s, i);
    if (d.valid) {
      out.append(s, i, d.len);
    } else {
      append_utf8(out, kReplacementChar);
    }
    i += d.len;
  }
  return out;
}

size_t utf8_floor(std::string_view s, size_t pos) {
  if (pos >= s.size()) return s.size();
  for (int back = 0; back < 3 && pos > 0; ++back) {
    if (!is_utf8_continuation(s[pos])) return pos;
    --pos;
  }
  return pos;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += !is_utf8_continuation(c);
  return n;
}

}  // namespace twinflow
