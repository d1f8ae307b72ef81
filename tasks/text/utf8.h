// UTF-8 decoding and encoding helpers shared by the HTML extractor, the text
// cleaner and the chunker.
//
// Crawled text arrives with every kind of damage: truncated sequences, stray
// Latin-1 bytes, overlong encodings, UTF-16 surrogates encoded as UTF-8. The
// decoder here is strict (it accepts exactly the well-formed sequences of
// Unicode 15, table 3-7) and reports each ill-formed sequence as one
// replacement, following the "maximal subpart" practice that browsers use, so
// that every consumer replaces bad bytes the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/strings.h"  // is_utf8_continuation

namespace twinflow {

inline constexpr char32_t kReplacementChar = 0xFFFD;

struct DecodedChar {
  char32_t cp;  // kReplacementChar when the bytes were ill-formed
  uint8_t len;  // bytes consumed, always >= 1
  bool valid;   // false when the bytes were ill-formed
};

// Decodes the code point starting at `s[pos]`. Requires pos < s.size().
DecodedChar decode_utf8(std::string_view s, size_t pos);

// Appends the UTF-8 encoding of `cp` (which must be a scalar value).
void append_utf8(std::string& out, char32_t cp);

// True when `s` is entirely well-formed UTF-8.
bool is_valid_utf8(std::string_view s);

// Returns `s` with every ill-formed sequence replaced by U+FFFD.
std::string to_valid_utf8(std::string_view s);

// Moves `pos` back (at most three bytes) to the start of the code point it
// falls in, so that cutting a string at the result never splits a sequence.
size_t utf8_floor(std::string_view s, size_t pos);

// Number of code points in well-formed `s` (it counts the bytes that are not
// continuation bytes, which is fast and never overcounts damaged text).
size_t utf8_length(std::string_view s);

}  // namespace twinflow
