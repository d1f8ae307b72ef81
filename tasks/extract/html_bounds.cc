// The bounding rewrite: a linear tokenizer pass that consults ParserModel
// for every tag; see html_bounds.h.
#include "tasks/extract/html_bounds.h"

#include <gumbo.h>

#include "tasks/extract/parser_model.h"
#include "tasks/text/utf8.h"
#include "util/strings.h"

namespace twinflow {

namespace {

GumboTag tag_of(std::string_view name) {
  char buf[32];
  if (name.size() >= sizeof(buf)) return GUMBO_TAG_UNKNOWN;
  for (size_t k = 0; k < name.size(); ++k) buf[k] = to_lower_ascii(name[k]);
  return gumbo_tagn_enum(buf, static_cast<unsigned>(name.size()));
}

// A start or end tag as the tokenizer would read it.
struct TagToken {
  bool complete = false;  // false: the input ended inside the tag
  bool end_tag = false;
  bool self_closing = false;
  std::string_view name;
  size_t end = 0;  // one past the closing '>'
  size_t cut = 0;  // where to cut when attributes are dropped
  size_t attributes = 0;
  std::string_view type;  // value of the `type` attribute
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
    while (pos < s.size() &&
           (is_html_space(s[pos]) || (s[pos] == '/' && pos + 1 < s.size() && s[pos + 1] != '>'))) {
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

// Elements whose content the extractor never reads, dropped unparsed.
bool is_dropped_raw_text(GumboTag t) {
  return t == GUMBO_TAG_STYLE || t == GUMBO_TAG_IFRAME || t == GUMBO_TAG_NOEMBED ||
         t == GUMBO_TAG_NOFRAMES || t == GUMBO_TAG_XMP;
}

bool is_json_ld(std::string_view type) {
  return type.size() >= 7 && equals_nocase(type.substr(type.size() - 7), "ld+json");
}

// The rewriting pass; see html_bounds.h.
class Bounder {
 public:
  Bounder(std::string_view html, const HtmlBounds& bounds)
      : s_(html.substr(0, utf8_floor(html, std::min(html.size(), bounds.max_input_bytes)))),
        bounds_(bounds),
        model_(bounds.max_depth, bounds.max_open_formatting) {}

  std::string run() {
    out_.reserve(std::min(s_.size(), bounds_.max_output_bytes) + 64);
    while (pos_ < s_.size() && out_.size() < bounds_.max_output_bytes) {
      const size_t lt = s_.find('<', pos_);
      copy_body_text(lt == std::string_view::npos ? s_.size() : lt);
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

  // Copies body text, which makes the parser reconstruct formatting
  // elements first.
  void copy_body_text(size_t to) {
    if (to > pos_) model_.text();
    copy_text(to);
  }

  // Handles the markup starting with '<' at pos_.
  void markup() {
    const std::string_view rest = s_.substr(pos_);
    if (rest.substr(0, 4) == "<!--") {
      // "<!-->" and "<!--->" are complete (empty) comments to the tokenizer.
      const size_t search = rest.substr(4, 1) == ">" ? pos_ + 2 : pos_ + 4;
      const size_t close = rest.substr(4, 2) == "->" ? pos_ + 3 : s_.find("-->", search);
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
    const bool tag =
        rest.size() >= 2 && (is_ascii_alpha(rest[1]) ||
                             (rest[1] == '/' && rest.size() >= 3 && is_ascii_alpha(rest[2])));
    if (!tag) {
      model_.text();
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
    model_.end(tag_of(t.name), t.name);
    out_.append("</");
    out_.append(t.name);
    out_.push_back('>');
    pos_ = t.end;
  }

  void start_tag(const TagToken& t) {
    const GumboTag tag = tag_of(t.name);
    const bool admitted = model_.start(tag, t.name, t.self_closing);
    if (admitted) emit_start_tag(t);
    pos_ = t.end;
    if (tag == GUMBO_TAG_PLAINTEXT) {
      copy_text(s_.size());
    } else if (tag == GUMBO_TAG_SCRIPT) {
      raw_text(tag, t.name, admitted, is_json_ld(t.type), bounds_.max_json_ld_bytes);
    } else if (is_dropped_raw_text(tag)) {
      raw_text(tag, t.name, admitted, false, 0);
    } else if (tag == GUMBO_TAG_TEMPLATE) {
      // Template content is inert: never rendered, so never text of the
      // page. Gumbo's template handling is also quadratic on unclosed
      // templates, so the whole element goes.
      raw_text(tag, t.name, admitted, false, 0);
    } else if (tag == GUMBO_TAG_TITLE || tag == GUMBO_TAG_TEXTAREA) {
      raw_text(tag, t.name, admitted, true, bounds_.max_output_bytes);
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
  void raw_text(GumboTag tag, std::string_view name, bool admitted, bool keep, size_t max_keep) {
    const size_t close = find_end_tag(s_, pos_, name);
    const size_t content_end = close == std::string_view::npos ? s_.size() : close;
    if (keep && admitted && content_end - pos_ <= max_keep) copy_text(content_end);
    pos_ = content_end;
    if (close == std::string_view::npos) return;
    const size_t gt = s_.find('>', close);
    pos_ = gt == std::string_view::npos ? s_.size() : gt + 1;
    if (admitted) {
      model_.end(tag, name);
      out_.append("</");
      out_.append(name);
      out_.push_back('>');
    }
  }

  std::string_view s_;
  const HtmlBounds& bounds_;
  ParserModel model_;
  std::string out_;
  size_t pos_ = 0;
};

}  // namespace

std::string bound_html(std::string_view html, const HtmlBounds& bounds) {
  return Bounder(html, bounds).run();
}

}  // namespace twinflow
