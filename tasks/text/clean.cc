// clean_text: one pass over the bytes, ASCII runs copied whole, other code
// points classified by fold_char(); see clean.h.
#include "tasks/text/clean.h"

#include "tasks/text/unicode_fold.h"
#include "tasks/text/utf8.h"

namespace twinflow {

namespace {

constexpr std::string_view kReplacementUtf8 = "\xEF\xBF\xBD";

// Printable ASCII other than space: the bytes of words, copied in runs.
inline bool is_word_byte(unsigned char c) {
  return c >= 0x21 && c <= 0x7E;
}

inline bool is_ascii_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

// Bytes that can begin "http", "https" or "www"; a run of word bytes is cut
// before them only when URLs are being replaced.
inline bool is_url_trigger(unsigned char c) {
  return (c | 0x20) == 'h' || (c | 0x20) == 'w';
}

bool starts_with_nocase(std::string_view s, size_t pos, std::string_view prefix) {
  if (s.size() - pos < prefix.size()) return false;
  for (size_t k = 0; k < prefix.size(); ++k) {
    if ((static_cast<unsigned char>(s[pos + k]) | 0x20) != static_cast<unsigned char>(prefix[k]))
      return false;
  }
  return true;
}

// A URL starts a word: "xwww.a" or "a.http://" are not URLs.
bool at_word_start(std::string_view s, size_t pos) {
  if (pos == 0) return true;
  const auto prev = static_cast<unsigned char>(s[pos - 1]);
  return !is_ascii_alnum(prev) && prev != '_' && prev != '.' && prev != '/' && prev != '@' &&
         prev != '-';
}

inline bool is_url_byte(unsigned char c) {
  return is_word_byte(c) && c != '<' && c != '>' && c != '"' && c != '`' && c != '{' && c != '}' &&
         c != '|' && c != '\\' && c != '^';
}

// Drops sentence punctuation glued to the end of a URL, and a closing bracket
// that the URL did not open ("(see https://x.org/a)").
size_t trim_url_end(std::string_view s, size_t begin, size_t end) {
  while (end > begin) {
    const char last = s[end - 1];
    if (std::string_view(".,;:!?'\"*").find(last) != std::string_view::npos) {
      --end;
      continue;
    }
    if (last == ')' || last == ']') {
      const char open = last == ')' ? '(' : '[';
      int depth = 0;
      for (size_t k = begin; k < end; ++k) depth += (s[k] == open) - (s[k] == last);
      if (depth < 0) {
        --end;
        continue;
      }
    }
    break;
  }
  return end;
}

// Length of the URL starting at `pos`, or 0 when none starts there.
size_t url_length_at(std::string_view s, size_t pos) {
  if (!at_word_start(s, pos)) return 0;
  size_t body;
  if (starts_with_nocase(s, pos, "https://")) {
    body = pos + 8;
  } else if (starts_with_nocase(s, pos, "http://")) {
    body = pos + 7;
  } else if (starts_with_nocase(s, pos, "www.")) {
    body = pos + 4;
  } else {
    return 0;
  }
  if (body >= s.size() || !is_ascii_alnum(static_cast<unsigned char>(s[body]))) return 0;
  size_t end = body;
  while (end < s.size() && is_url_byte(static_cast<unsigned char>(s[end]))) ++end;
  return trim_url_end(s, body, end) - pos;
}

// Writes prose: words separated by single spaces, lines trimmed, and a run of
// line breaks kept as one newline or, when it held a blank line, as one blank
// line. Nothing is written before the first word or after the last.
class ProseWriter {
 public:
  explicit ProseWriter(std::string* out) : out_(*out) {}

  void text(std::string_view bytes) {
    begin_text(static_cast<unsigned char>(bytes.empty() ? 'a' : bytes[0]));
    out_.append(bytes);
  }
  void space() { pending_space_ = true; }
  // Where a pictograph was: a word break, unless punctuation follows
  // ("Done 🎉!" reads "Done!", "ship🚀it" reads "ship it"). A space typed
  // before the pictograph belonged to it and becomes soft too.
  void soft_space() {
    soft_space_ = true;
    pending_space_ = false;
  }
  void newline() {
    if (line_has_text_) {
      line_has_text_ = false;
      pending_breaks_ = 1;
    } else if (pending_breaks_ > 0) {
      pending_breaks_ = 2;
    }
    pending_space_ = soft_space_ = false;
  }

 private:
  static bool is_closing_punctuation(unsigned char c) {
    return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == ')' ||
           c == ']' || c == '}' || c == '"' || c == '\'';
  }

  void begin_text(unsigned char first) {
    if (line_has_text_) {
      if (pending_space_ || (soft_space_ && !is_closing_punctuation(first))) out_.push_back(' ');
    } else {
      if (!out_.empty()) out_.append(pending_breaks_ >= 2 ? "\n\n" : "\n");
      line_has_text_ = true;
      pending_breaks_ = 0;
    }
    pending_space_ = soft_space_ = false;
  }

  std::string& out_;
  int pending_breaks_ = 0;
  bool pending_space_ = false;
  bool soft_space_ = false;
  bool line_has_text_ = false;
};

// Writes code: every line as it was, minus trailing spaces and tabs, and
// without blank lines before the first or after the last non-blank line.
class CodeWriter {
 public:
  explicit CodeWriter(std::string* out) : out_(*out) {}

  void text(std::string_view bytes) {
    if (!out_.empty()) out_.append(pending_newlines_, '\n');
    pending_newlines_ = 0;
    out_.append(indent_);
    indent_.clear();
    out_.append(bytes);
  }
  void whitespace(char c) { indent_.push_back(c); }
  void newline() {
    indent_.clear();
    ++pending_newlines_;
  }

 private:
  std::string& out_;
  std::string indent_;  // spaces and tabs not yet known to be followed by text
  size_t pending_newlines_ = 0;
};

// Handles one non-ASCII code point of prose.
void write_prose_char(std::string_view s, size_t pos, const DecodedChar& d, ProseWriter& w) {
  if (!d.valid) {
    w.text(kReplacementUtf8);
    return;
  }
  const CharFold fold = fold_char(d.cp);
  switch (fold.action) {
    case CharFold::Action::kKeep:
      w.text(s.substr(pos, d.len));
      break;
    case CharFold::Action::kDrop:
      break;
    case CharFold::Action::kSpace:
      w.space();
      break;
    case CharFold::Action::kPictograph:
      w.soft_space();
      break;
    case CharFold::Action::kMap:
      if (fold.cp == U'\n') {
        w.newline();
      } else {
        std::string mapped;
        append_utf8(mapped, fold.cp);
        w.text(mapped);
      }
      break;
    case CharFold::Action::kExpand:
      w.text(fold.text);
      break;
  }
}

std::string clean_prose(std::string_view s, const CleanOptions& options) {
  std::string out;
  out.reserve(s.size());
  ProseWriter w(&out);
  const bool replace_urls = !options.keep_urls;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (is_word_byte(c)) {
      if (replace_urls && is_url_trigger(c)) {
        if (const size_t len = url_length_at(s, i)) {
          w.text(options.url_replacement);
          i += len;
          continue;
        }
      }
      size_t j = i + 1;
      while (j < s.size() && is_word_byte(static_cast<unsigned char>(s[j])) &&
             !(replace_urls && is_url_trigger(static_cast<unsigned char>(s[j])))) {
        ++j;
      }
      w.text(s.substr(i, j - i));
      i = j;
    } else if (c == ' ' || c == '\t' || c == '\v' || c == '\f') {
      w.space();
      ++i;
    } else if (c == '\n' || c == '\r') {
      w.newline();
      i += (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ? 2 : 1;
    } else if (c < 0x80) {
      ++i;  // C0 control or DEL
    } else {
      const DecodedChar d = decode_utf8(s, i);
      write_prose_char(s, i, d, w);
      i += d.len;
    }
  }
  return out;
}

std::string clean_code(std::string_view s, const CleanOptions& options) {
  std::string out;
  out.reserve(s.size());
  CodeWriter w(&out);
  const bool replace_urls = !options.keep_urls;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (is_word_byte(c)) {
      if (replace_urls && is_url_trigger(c)) {
        if (const size_t len = url_length_at(s, i)) {
          w.text(options.url_replacement);
          i += len;
          continue;
        }
      }
      size_t j = i + 1;
      while (j < s.size() && is_word_byte(static_cast<unsigned char>(s[j])) &&
             !(replace_urls && is_url_trigger(static_cast<unsigned char>(s[j])))) {
        ++j;
      }
      w.text(s.substr(i, j - i));
      i = j;
    } else if (c == ' ' || c == '\t') {
      w.whitespace(static_cast<char>(c));
      ++i;
    } else if (c == '\n' || c == '\r') {
      w.newline();
      i += (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ? 2 : 1;
    } else if (c < 0x80) {
      ++i;  // C0 control or DEL
    } else {
      // Code keeps every character, emoji in string literals included; only
      // C1 controls go, and bytes that are not UTF-8.
      const DecodedChar d = decode_utf8(s, i);
      if (!d.valid) {
        w.text(kReplacementUtf8);
      } else if (d.cp > 0x9F) {
        w.text(s.substr(i, d.len));
      }
      i += d.len;
    }
  }
  return out;
}

}  // namespace

std::string clean_text(std::string_view text, const CleanOptions& options) {
  if (options.kind == TextKind::kCode) return clean_code(text, options);
  return clean_prose(text, options);
}

}  // namespace twinflow
