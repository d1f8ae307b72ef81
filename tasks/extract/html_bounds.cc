#include "tasks/extract/html_bounds.h"

#include <gumbo.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "tasks/text/utf8.h"

namespace twinflow {

namespace {

inline bool is_html_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

inline bool is_ascii_alpha(char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool equals_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t k = 0; k < a.size(); ++k) {
    if (lower(a[k]) != lower(b[k])) return false;
  }
  return true;
}

GumboTag tag_of(std::string_view name) {
  char buf[32];
  if (name.size() >= sizeof(buf)) return GUMBO_TAG_UNKNOWN;
  for (size_t k = 0; k < name.size(); ++k) buf[k] = lower(name[k]);
  return gumbo_tagn_enum(buf, static_cast<unsigned>(name.size()));
}

// A start or end tag as the tokenizer would read it.
struct TagToken {
  bool complete = false;     // false: the input ended inside the tag
  bool end_tag = false;
  bool self_closing = false;
  std::string_view name;
  size_t end = 0;            // one past the closing '>'
  size_t cut = 0;            // where to cut when attributes are dropped
  size_t attributes = 0;
  std::string_view type;     // value of the `type` attribute
};

// Reads the tag whose '<' is at `lt`; s[lt + 1] is a letter, or '/' then a
// letter. Quotes are honoured, so a '>' inside an attribute value does not end
// the tag.
TagToken scan_tag(std::string_view s, size_t lt, size_t max_attributes) {
  TagToken t;
  size_t pos = lt + 1;
  if (s[pos] == '/') {
    t.end_tag = true;
    ++pos;
  }
  const size_t name_start = pos;
  while (pos < s.size() && !is_html_space(s[pos]) && s[pos] != '/' && s[pos] != '>') ++pos;
  t.name = s.substr(name_start, pos - name_start);
  t.cut = pos;
  while (true) {
    while (pos < s.size() && (is_html_space(s[pos]) || (s[pos] == '/' && pos + 1 < s.size() &&
                                                        s[pos + 1] != '>'))) {
      ++pos;
    }
    if (pos >= s.size()) return t;
    if (s[pos] == '>') break;
    if (s[pos] == '/') {  // "/>"
      t.self_closing = true;
      ++pos;
      break;
    }
    const size_t attr_name = pos++;
    while (pos < s.size() && !is_html_space(s[pos]) && s[pos] != '/' && s[pos] != '>' &&
           s[pos] != '=') {
      ++pos;
    }
    const std::string_view name = s.substr(attr_name, pos - attr_name);
    size_t value_start = pos, value_end = pos;
    size_t look = pos;
    while (look < s.size() && is_html_space(s[look])) ++look;
    if (look < s.size() && s[look] == '=') {
      pos = look + 1;
      while (pos < s.size() && is_html_space(s[pos])) ++pos;
      if (pos >= s.size()) return t;
      if (s[pos] == '"' || s[pos] == '\'') {
        const size_t close = s.find(s[pos], pos + 1);
        if (close == std::string_view::npos) return t;
        value_start = pos + 1;
        value_end = close;
        pos = close + 1;
      } else {
        value_start = pos;
        while (pos < s.size() && !is_html_space(s[pos]) && s[pos] != '>') ++pos;
        value_end = pos;
      }
    }
    if (equals_nocase(name, "type")) t.type = s.substr(value_start, value_end - value_start);
    if (++t.attributes <= max_attributes) t.cut = pos;
  }
  if (pos >= s.size()) return t;
  t.complete = true;
  t.end = pos + 1;
  return t;
}

// Finds "</name" followed by a delimiter, from `from`; npos when absent.
size_t find_end_tag(std::string_view s, size_t from, std::string_view name) {
  while (true) {
    const size_t lt = s.find("</", from);
    if (lt == std::string_view::npos) return lt;
    const size_t after = lt + 2 + name.size();
    if (after <= s.size() && equals_nocase(s.substr(lt + 2, name.size()), name) &&
        (after == s.size() || is_html_space(s[after]) || s[after] == '>' || s[after] == '/')) {
      return lt;
    }
    from = lt + 2;
  }
}

bool is_void(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_AREA: case GUMBO_TAG_BASE: case GUMBO_TAG_BASEFONT: case GUMBO_TAG_BGSOUND:
    case GUMBO_TAG_BR: case GUMBO_TAG_COL: case GUMBO_TAG_EMBED: case GUMBO_TAG_FRAME:
    case GUMBO_TAG_HR: case GUMBO_TAG_IMAGE: case GUMBO_TAG_IMG: case GUMBO_TAG_INPUT:
    case GUMBO_TAG_KEYGEN: case GUMBO_TAG_LINK: case GUMBO_TAG_META: case GUMBO_TAG_PARAM:
    case GUMBO_TAG_SOURCE: case GUMBO_TAG_TRACK: case GUMBO_TAG_WBR: case GUMBO_TAG_MENUITEM:
      return true;
    default:
      return false;
  }
}

// The formatting elements of the HTML5 parser, numbered for a small array.
int formatting_index(GumboTag t) {
  static constexpr GumboTag kFormatting[] = {
      GUMBO_TAG_A,    GUMBO_TAG_B,     GUMBO_TAG_BIG,    GUMBO_TAG_CODE,   GUMBO_TAG_EM,
      GUMBO_TAG_FONT, GUMBO_TAG_I,     GUMBO_TAG_NOBR,   GUMBO_TAG_S,      GUMBO_TAG_SMALL,
      GUMBO_TAG_STRIKE, GUMBO_TAG_STRONG, GUMBO_TAG_TT,  GUMBO_TAG_U};
  for (int k = 0; k < 14; ++k) {
    if (kFormatting[k] == t) return k;
  }
  return -1;
}

// Start tags that close an open <p> (the parser's "close a p element").
bool closes_p(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_ADDRESS: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_CENTER: case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_DIR: case GUMBO_TAG_DIV: case GUMBO_TAG_DL:
    case GUMBO_TAG_FIELDSET: case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FOOTER: case GUMBO_TAG_HEADER: case GUMBO_TAG_HGROUP: case GUMBO_TAG_MAIN:
    case GUMBO_TAG_MENU: case GUMBO_TAG_NAV: case GUMBO_TAG_OL: case GUMBO_TAG_P:
    case GUMBO_TAG_SECTION: case GUMBO_TAG_SUMMARY: case GUMBO_TAG_UL: case GUMBO_TAG_H1:
    case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5:
    case GUMBO_TAG_H6: case GUMBO_TAG_PRE: case GUMBO_TAG_LISTING: case GUMBO_TAG_FORM:
    case GUMBO_TAG_TABLE:
      return true;
    default:
      return false;
  }
}

// Elements that clear the active formatting list back to themselves when
// they close (the parser's "markers").
bool is_marker(GumboTag t) {
  return t == GUMBO_TAG_TD || t == GUMBO_TAG_TH || t == GUMBO_TAG_CAPTION ||
         t == GUMBO_TAG_APPLET || t == GUMBO_TAG_OBJECT || t == GUMBO_TAG_MARQUEE ||
         t == GUMBO_TAG_TEMPLATE;
}

bool is_heading(GumboTag t) { return t >= GUMBO_TAG_H1 && t <= GUMBO_TAG_H6; }

// Elements whose content the extractor never reads, dropped unparsed.
bool is_dropped_raw_text(GumboTag t) {
  return t == GUMBO_TAG_STYLE || t == GUMBO_TAG_IFRAME || t == GUMBO_TAG_NOEMBED ||
         t == GUMBO_TAG_NOFRAMES || t == GUMBO_TAG_XMP;
}

bool is_json_ld(std::string_view type) {
  return type.size() >= 7 && equals_nocase(type.substr(type.size() - 7), "ld+json");
}

// A cheap model of the parser's stack of open elements and of its list of
// active formatting elements: enough to know when a tag would take the real
// parser past the limits.
class StackModel {
 public:
  explicit StackModel(const HtmlBounds& bounds) : bounds_(bounds) {}

  // Returns false when the start tag must be dropped.
  bool start(GumboTag tag, bool self_closing) {
    if (is_void(tag) || (self_closing && foreign_depth_ > 0)) return true;
    close_implied(tag);
    const int f = formatting_index(tag);
    if (f >= 0 && open_formatting_ >= bounds_.max_open_formatting) return false;
    if (stack_.size() >= bounds_.max_depth) return false;
    stack_.push_back(tag);
    if (f >= 0) {
      ++counts_[f];
      ++open_formatting_;
    }
    if (is_marker(tag)) markers_.push_back({counts_, open_formatting_});
    if (tag == GUMBO_TAG_SVG || tag == GUMBO_TAG_MATH) ++foreign_depth_;
    return true;
  }

  void end(GumboTag tag) {
    if (tag == GUMBO_TAG_HTML || tag == GUMBO_TAG_BODY || tag == GUMBO_TAG_HEAD) return;
    const size_t at = find(tag, {});
    if (at != kNotFound) pop_to(at);
    const int f = formatting_index(tag);
    if (f >= 0 && counts_[f] > 0) {
      --counts_[f];
      --open_formatting_;
    }
  }

 private:
  static constexpr size_t kNotFound = static_cast<size_t>(-1);
  struct Saved {
    std::array<uint32_t, 14> counts;
    size_t open_formatting;
  };

  // Index of the topmost `tag` above the topmost element of `stop`, if any.
  size_t find(GumboTag tag, std::initializer_list<GumboTag> stop) const {
    for (size_t k = stack_.size(); k-- > 0;) {
      if (stack_[k] == tag) return k;
      for (GumboTag s : stop) {
        if (stack_[k] == s) return kNotFound;
      }
    }
    return kNotFound;
  }

  void pop_to(size_t at) {
    while (stack_.size() > at) {
      const GumboTag top = stack_.back();
      stack_.pop_back();
      if (is_marker(top) && !markers_.empty()) {
        counts_ = markers_.back().counts;
        open_formatting_ = markers_.back().open_formatting;
        markers_.pop_back();
      }
      if ((top == GUMBO_TAG_SVG || top == GUMBO_TAG_MATH) && foreign_depth_ > 0) --foreign_depth_;
    }
  }

  void close_if_open(GumboTag tag, std::initializer_list<GumboTag> stop) {
    const size_t at = find(tag, stop);
    if (at != kNotFound) pop_to(at);
  }

  // The end tags the parser implies before inserting `tag`.
  void close_implied(GumboTag tag) {
    if (closes_p(tag)) close_if_open(GUMBO_TAG_P, {GUMBO_TAG_TABLE, GUMBO_TAG_BUTTON});
    switch (tag) {
      case GUMBO_TAG_LI:
        close_if_open(GUMBO_TAG_LI, {GUMBO_TAG_UL, GUMBO_TAG_OL, GUMBO_TAG_MENU});
        break;
      case GUMBO_TAG_DD:
      case GUMBO_TAG_DT:
        close_if_open(GUMBO_TAG_DD, {GUMBO_TAG_DL});
        close_if_open(GUMBO_TAG_DT, {GUMBO_TAG_DL});
        break;
      case GUMBO_TAG_TD:
      case GUMBO_TAG_TH:
        close_if_open(GUMBO_TAG_TD, {GUMBO_TAG_TR, GUMBO_TAG_TABLE});
        close_if_open(GUMBO_TAG_TH, {GUMBO_TAG_TR, GUMBO_TAG_TABLE});
        break;
      case GUMBO_TAG_TR:
        close_if_open(GUMBO_TAG_TR, {GUMBO_TAG_TABLE});
        break;
      case GUMBO_TAG_OPTION:
        if (!stack_.empty() && stack_.back() == GUMBO_TAG_OPTION) pop_to(stack_.size() - 1);
        break;
      case GUMBO_TAG_A:
      case GUMBO_TAG_NOBR:
        // A second <a> closes the first and takes its place in the list.
        if (counts_[formatting_index(tag)] > 0) {
          close_if_open(tag, {});
          --counts_[formatting_index(tag)];
          --open_formatting_;
        }
        break;
      default:
        if (is_heading(tag) && !stack_.empty() && is_heading(stack_.back())) {
          pop_to(stack_.size() - 1);
        }
        break;
    }
  }

  const HtmlBounds& bounds_;
  std::vector<GumboTag> stack_;
  std::array<uint32_t, 14> counts_{};
  size_t open_formatting_ = 0;
  std::vector<Saved> markers_;
  size_t foreign_depth_ = 0;
};

// The rewriting pass; see html_bounds.h.
class Bounder {
 public:
  Bounder(std::string_view html, const HtmlBounds& bounds)
      : s_(html.substr(0, utf8_floor(html, std::min(html.size(), bounds.max_input_bytes)))),
        bounds_(bounds),
        model_(bounds) {}

  std::string run() {
    out_.reserve(std::min(s_.size(), bounds_.max_output_bytes) + 64);
    while (pos_ < s_.size() && out_.size() < bounds_.max_output_bytes) {
      const size_t lt = s_.find('<', pos_);
      copy_text(lt == std::string_view::npos ? s_.size() : lt);
      if (lt == std::string_view::npos || pos_ != lt) break;
      markup();
    }
    return std::move(out_);
  }

 private:
  // Copies text up to `to`, within the output budget.
  void copy_text(size_t to) {
    const size_t room = bounds_.max_output_bytes - std::min(bounds_.max_output_bytes, out_.size());
    if (to - pos_ > room) to = utf8_floor(s_, pos_ + room);
    out_.append(s_, pos_, to - pos_);
    pos_ = to;
  }

  // Handles the markup starting with '<' at pos_.
  void markup() {
    const std::string_view rest = s_.substr(pos_);
    if (rest.substr(0, 4) == "<!--") {
      const size_t close = s_.find("-->", pos_ + 4);
      pos_ = close == std::string_view::npos ? s_.size() : close + 3;
      return;
    }
    if (rest.size() >= 2 && (rest[1] == '!' || rest[1] == '?')) {
      const size_t gt = s_.find('>', pos_);
      const size_t end = gt == std::string_view::npos ? s_.size() : gt + 1;
      out_.append(s_, pos_, end - pos_);
      pos_ = end;
      return;
    }
    const bool tag = rest.size() >= 2 && (is_ascii_alpha(rest[1]) ||
                                          (rest[1] == '/' && rest.size() >= 3 &&
                                           is_ascii_alpha(rest[2])));
    if (!tag) {
      out_.push_back('<');  // a lone '<' is text
      ++pos_;
      return;
    }
    const TagToken t = scan_tag(s_, pos_, bounds_.max_attributes);
    if (!t.complete) {
      pos_ = s_.size();  // the parser would drop an unterminated tag too
      return;
    }
    if (t.end_tag) {
      end_tag(t);
    } else {
      start_tag(t);
    }
  }

  void end_tag(const TagToken& t) {
    model_.end(tag_of(t.name));
    out_.append("</");
    out_.append(t.name);
    out_.push_back('>');
    pos_ = t.end;
  }

  void start_tag(const TagToken& t) {
    const GumboTag tag = tag_of(t.name);
    const bool admitted = model_.start(tag, t.self_closing);
    if (admitted) emit_start_tag(t);
    pos_ = t.end;
    if (tag == GUMBO_TAG_PLAINTEXT) {
      copy_text(s_.size());
    } else if (tag == GUMBO_TAG_SCRIPT) {
      raw_text(t.name, admitted, is_json_ld(t.type), bounds_.max_json_ld_bytes);
    } else if (is_dropped_raw_text(tag)) {
      raw_text(t.name, admitted, false, 0);
    } else if (tag == GUMBO_TAG_TITLE || tag == GUMBO_TAG_TEXTAREA) {
      raw_text(t.name, admitted, true, bounds_.max_output_bytes);
    }
  }

  void emit_start_tag(const TagToken& t) {
    if (t.attributes <= bounds_.max_attributes) {
      out_.append(s_, pos_, t.end - pos_);
      return;
    }
    out_.append(s_, pos_, t.cut - pos_);
    out_.append(t.self_closing ? "/>" : ">");
  }

  // Skips or copies the content of a raw-text element up to its end tag,
  // which is emitted when the start tag was.
  void raw_text(std::string_view name, bool admitted, bool keep, size_t max_keep) {
    const size_t close = find_end_tag(s_, pos_, name);
    const size_t content_end = close == std::string_view::npos ? s_.size() : close;
    if (keep && admitted && content_end - pos_ <= max_keep) copy_text(content_end);
    pos_ = content_end;
    if (close == std::string_view::npos) return;
    const size_t gt = s_.find('>', close);
    pos_ = gt == std::string_view::npos ? s_.size() : gt + 1;
    if (admitted) {
      out_.append("</");
      out_.append(name);
      out_.push_back('>');
    }
  }

  std::string_view s_;
  const HtmlBounds& bounds_;
  StackModel model_;
  std::string out_;
  size_t pos_ = 0;
};

}  // namespace

std::string bound_html(std::string_view html, const HtmlBounds& bounds) {
  return Bounder(html, bounds).run();
}

}  // namespace twinflow
