// Charset sniffing and decoding to UTF-8 (windows-1252, ISO-8859-15,
// UTF-16); see charset.h.
#include "tasks/extract/charset.h"

#include <cstdint>

#include "tasks/text/utf8.h"
#include "util/strings.h"

namespace twinflow {

namespace {

// Browsers look for the declaration in the first 1024 bytes; pages with long
// <head> preambles put it later, and looking further costs nothing.
constexpr size_t kSniffBytes = 8192;

inline bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == ':' ||
         c == '.';
}

// The label after "charset" in a lower-cased meta tag, or "".
std::string label_after_charset(std::string_view tag) {
  const size_t at = tag.find("charset");
  if (at == std::string_view::npos) return "";
  size_t pos = at + 7;
  while (pos < tag.size() && (tag[pos] == ' ' || tag[pos] == '\t')) ++pos;
  if (pos >= tag.size() || tag[pos] != '=') return "";
  ++pos;
  while (pos < tag.size() && (tag[pos] == ' ' || tag[pos] == '"' || tag[pos] == '\'')) ++pos;
  const size_t start = pos;
  while (pos < tag.size() && is_label_char(tag[pos])) ++pos;
  return std::string(tag.substr(start, pos - start));
}

enum class Encoding { kWindows1252, kIso885915 };

bool is_latin1_family(const std::string& label) {
  static constexpr std::string_view kLabels[] = {
      "ansi_x3.4-1968", "ascii",           "cp1252",     "cp819",     "csisolatin1",
      "ibm819",         "iso-8859-1",      "iso-ir-100", "iso8859-1", "iso88591",
      "iso_8859-1",     "iso_8859-1:1987", "l1",         "latin1",    "us-ascii",
      "windows-1252",   "x-cp1252"};
  for (std::string_view l : kLabels) {
    if (label == l) return true;
  }
  return false;
}

bool has_non_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

// windows-1252 bytes 0x80..0x9F; the five unassigned ones map to the C1
// controls of the same value, as the WHATWG index does.
constexpr char16_t kWindows1252High[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

char32_t iso8859_15(unsigned char b) {
  switch (b) {
    case 0xA4:
      return 0x20AC;
    case 0xA6:
      return 0x0160;
    case 0xA8:
      return 0x0161;
    case 0xB4:
      return 0x017D;
    case 0xB8:
      return 0x017E;
    case 0xBC:
      return 0x0152;
    case 0xBD:
      return 0x0153;
    case 0xBE:
      return 0x0178;
    default:
      return b;
  }
}

std::string decode_single_byte(std::string_view bytes, Encoding encoding) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 4);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      out.push_back(c);
    } else if (encoding == Encoding::kIso885915) {
      append_utf8(out, iso8859_15(b));
    } else {
      append_utf8(out, b < 0xA0 ? kWindows1252High[b - 0x80] : b);
    }
  }
  return out;
}

std::string decode_utf16(std::string_view bytes, bool little_endian) {
  std::string out;
  out.reserve(bytes.size());
  auto unit = [&](size_t k) -> char16_t {
    const auto lo = static_cast<unsigned char>(bytes[k + (little_endian ? 0 : 1)]);
    const auto hi = static_cast<unsigned char>(bytes[k + (little_endian ? 1 : 0)]);
    return static_cast<char16_t>(hi << 8 | lo);
  };
  size_t k = 0;
  while (k + 1 < bytes.size()) {
    const char16_t u = unit(k);
    k += 2;
    if (u >= 0xD800 && u <= 0xDBFF && k + 1 < bytes.size()) {
      const char16_t low = unit(k);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        k += 2;
        append_utf8(out, 0x10000 + ((static_cast<char32_t>(u) - 0xD800) << 10) + (low - 0xDC00));
        continue;
      }
    }
    append_utf8(out, (u >= 0xD800 && u <= 0xDFFF) ? kReplacementChar : u);
  }
  if (k < bytes.size()) append_utf8(out, kReplacementChar);  // odd trailing byte
  return out;
}

// Whether undeclared, ill-formed bytes are still mostly UTF-8 (a page with a
// few damaged bytes) rather than a single-byte encoding (where high bytes
// rarely happen to form valid sequences).
bool mostly_utf8(std::string_view bytes) {
  size_t good = 0, bad = 0;
  size_t i = 0;
  while (i < bytes.size()) {
    if (static_cast<unsigned char>(bytes[i]) < 0x80) {
      ++i;
      continue;
    }
    const DecodedChar d = decode_utf8(bytes, i);
    ++(d.valid ? good : bad);
    i += d.len;
  }
  return good > bad;
}

}  // namespace

std::string sniff_meta_charset(std::string_view bytes) {
  const std::string head = to_lower(bytes.substr(0, kSniffBytes));
  size_t pos = 0;
  while ((pos = head.find("<meta", pos)) != std::string::npos) {
    const size_t gt = head.find('>', pos);
    const std::string_view tag =
        std::string_view(head).substr(pos, gt == std::string::npos ? std::string::npos : gt - pos);
    std::string label = label_after_charset(tag);
    if (!label.empty()) return label;
    pos += 5;
  }
  return "";
}

std::string decode_html_bytes(std::string_view bytes) {
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") return to_valid_utf8(bytes.substr(3));
  if (bytes.substr(0, 2) == "\xFF\xFE") return decode_utf16(bytes.substr(2), true);
  if (bytes.substr(0, 2) == "\xFE\xFF") return decode_utf16(bytes.substr(2), false);
  const std::string label = sniff_meta_charset(bytes);
  const bool valid = is_valid_utf8(bytes);
  if (is_latin1_family(label) || label == "iso-8859-15" || label == "latin9" ||
      label == "iso8859-15") {
    if (valid && has_non_ascii(bytes)) return std::string(bytes);  // mislabelled UTF-8
    return decode_single_byte(
        bytes, is_latin1_family(label) ? Encoding::kWindows1252 : Encoding::kIso885915);
  }
  if (valid) return std::string(bytes);
  if (label.empty() && !mostly_utf8(bytes)) {
    return decode_single_byte(bytes, Encoding::kWindows1252);
  }
  return to_valid_utf8(bytes);
}

}  // namespace twinflow
