// See word_tokenizer.h.
#include "tasks/train/word_tokenizer.h"
#include "util/strings.h"

#include <cstdint>

namespace twinflow {
namespace {

enum class Kind { kWord, kSpace, kNewline, kPunct };

// One code point of the input, classified, with the bytes it stands for.
struct Unit {
  Kind kind = Kind::kWord;
  std::string text;   // normalised: lower-cased ASCII, ASCII quotes
  size_t length = 1;  // input bytes consumed
};

// The length of the valid UTF-8 sequence at `pos` and its code point, or 0.
size_t utf8_sequence(std::string_view text, size_t pos, uint32_t& code_point) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  size_t length = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code_point = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code_point = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (pos + length > text.size()) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(pos + i) & 0x3F);
  }
  return length;
}

bool is_ascii_word(char c) {
  return is_ascii_alpha(c) || is_ascii_digit(c) || c == '_';
}

Unit unit_at(std::string_view text, size_t pos) {
  const char c = text[pos];
  if (static_cast<unsigned char>(c) < 0x80) {
    if (c == '\n') return {Kind::kNewline, std::string(kNewlineToken), 1};
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') return {Kind::kSpace, "", 1};
    if (is_ascii_word(c)) {
      return {Kind::kWord, std::string(1, to_lower_ascii(c)), 1};
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return {Kind::kSpace, "", 1};
    return {Kind::kPunct, std::string(1, c), 1};
  }
  uint32_t code_point = 0;
  const size_t length = utf8_sequence(text, pos, code_point);
  if (length == 0) return {Kind::kWord, std::string(1, c), 1};  // invalid byte: kept
  switch (code_point) {
    case 0x2018:
    case 0x2019:
    case 0x201B:
      return {Kind::kPunct, "'", length};
    case 0x201C:
    case 0x201D:
    case 0x201E:
      return {Kind::kPunct, "\"", length};
    case 0x2013:
    case 0x2014:
    case 0x2026:
      return {Kind::kPunct, std::string(text.substr(pos, length)), length};
    case 0x00A0:
    case 0x2002:
    case 0x2003:
    case 0x2009:
    case 0x200A:
    case 0x202F:
    case 0x3000:
      return {Kind::kSpace, "", length};
    case 0x200B:  // zero-width space
    case 0xFEFF:  // byte order mark
      return {Kind::kSpace, "", length};
    default:
      return {Kind::kWord, std::string(text.substr(pos, length)), length};
  }
}

bool is_punctuation_token(const std::string& token) {
  if (token.empty()) return false;
  const auto first = static_cast<unsigned char>(token[0]);
  if (first < 0x80) return !is_ascii_word(token[0]) && token != kNewlineToken;
  return token == "\u2013" || token == "\u2014" || token == "\u2026";
}

// No space before these.
bool is_closing(const std::string& token) {
  if (token == "\u2026") return true;
  if (!is_punctuation_token(token)) return false;
  switch (token[0]) {
    case '.':
    case ',':
    case ';':
    case ':':
    case '!':
    case '?':
    case ')':
    case ']':
    case '}':
    case '%':
      return true;
    default:
      return false;
  }
}

// No space after these.
bool is_opening(const std::string& token) {
  return token == "(" || token == "[" || token == "{";
}

bool is_slash(const std::string& token) {
  return !token.empty() && token[0] == '/';
}

bool is_quote(const std::string& token) {
  return token == "\"" || token == "'";
}

}  // namespace

std::vector<std::string> tokenize_words(std::string_view text) {
  std::vector<std::string> tokens;
  size_t pos = 0;
  while (pos < text.size()) {
    Unit unit = unit_at(text, pos);
    if (unit.kind == Kind::kSpace) {
      pos += unit.length;
      continue;
    }
    if (unit.kind == Kind::kNewline) {
      tokens.push_back(std::move(unit.text));
      pos += unit.length;
      continue;
    }
    if (unit.kind == Kind::kPunct) {
      std::string token = unit.text;
      pos += unit.length;
      // A run of the same ASCII character is one token ("###", "...").
      if (unit.length == 1) {
        while (pos < text.size() && text[pos] == token[0]) {
          token += text[pos];
          ++pos;
        }
      }
      tokens.push_back(std::move(token));
      continue;
    }
    // A word: word units, joined by single inner apostrophes or hyphens, and
    // digits joined by '.' or ','.
    std::string token;
    while (pos < text.size()) {
      Unit next = unit_at(text, pos);
      if (next.kind == Kind::kWord) {
        token += next.text;
        pos += next.length;
        continue;
      }
      if (next.kind != Kind::kPunct || token.empty()) break;
      const size_t after = pos + next.length;
      if (after >= text.size()) break;
      const Unit following = unit_at(text, after);
      if (following.kind != Kind::kWord) break;
      const bool joiner = next.text == "'" || next.text == "-";
      const bool number_joiner = (next.text == "." || next.text == ",") &&
                                 is_ascii_digit(token.back()) && is_ascii_digit(text[after]);
      if (!joiner && !number_joiner) break;
      token += next.text;
      token += following.text;
      pos = after + following.length;
    }
    tokens.push_back(std::move(token));
  }
  return tokens;
}

std::string detokenize_words(const std::vector<std::string>& tokens) {
  std::string text;
  bool after_newline = true;  // nothing written yet counts as a line start
  bool glue_next = false;     // the previous token wants no space after it
  bool in_double_quote = false;
  bool in_single_quote = false;
  std::string previous;
  for (const std::string& token : tokens) {
    if (token.empty()) continue;
    if (token == kNewlineToken) {
      text += token;
      previous = token;
      after_newline = true;
      glue_next = false;
      continue;
    }
    bool space = !after_newline && !glue_next && !is_closing(token) && !is_slash(token);
    bool glue_after = is_opening(token) || is_slash(token);
    if (is_quote(token)) {
      bool& open = token == "\"" ? in_double_quote : in_single_quote;
      if (open) {
        space = false;  // closing quote
      } else {
        glue_after = true;  // opening quote
      }
      open = !open;
    }
    // Two runs of one punctuation character must not merge into one ("" "").
    const bool would_merge = !text.empty() && is_punctuation_token(previous) &&
                             static_cast<unsigned char>(token[0]) < 0x80 &&
                             previous.back() == token[0];
    if (space || would_merge) text += ' ';
    text += token;
    previous = token;
    after_newline = false;
    glue_next = glue_after;
  }
  return text;
}

}  // namespace twinflow
