// Selector parsing and matching; see selector.h.
#include "tasks/extract/selector.h"

#include "util/error.h"

namespace twinflow {

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

std::string read_name(std::string_view text, size_t& pos) {
  const size_t start = pos;
  while (pos < text.size() && is_name_char(text[pos])) ++pos;
  return std::string(text.substr(start, pos - start));
}

}  // namespace

bool has_class(std::string_view classes, std::string_view name) {
  size_t pos = 0;
  while (pos < classes.size()) {
    while (pos < classes.size() &&
           (classes[pos] == ' ' || classes[pos] == '\t' || classes[pos] == '\n')) {
      ++pos;
    }
    size_t end = pos;
    while (end < classes.size() && classes[end] != ' ' && classes[end] != '\t' &&
           classes[end] != '\n') {
      ++end;
    }
    if (classes.substr(pos, end - pos) == name) return true;
    pos = end;
  }
  return false;
}

Selector::Selector(std::string_view text) {
  size_t pos = 0;
  auto fail = [&](const char* why) {
    throw Error("selector '" + std::string(text) + "' at " + std::to_string(pos) + ": " + why);
  };
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ') ++pos;
    if (pos >= text.size()) break;
    Compound c;
    c.tag = read_name(text, pos);
    while (pos < text.size() && text[pos] != ' ') {
      const char kind = text[pos++];
      if (kind == '.') {
        c.classes.push_back(read_name(text, pos));
      } else if (kind == '#') {
        c.id = read_name(text, pos);
      } else if (kind == '[') {
        Attribute a{read_name(text, pos), "", true};
        if (pos < text.size() && text[pos] == '=') {
          ++pos;
          const size_t close = text.find(']', pos);
          if (close == std::string_view::npos) fail("unterminated [");
          a.value = std::string(text.substr(pos, close - pos));
          a.any_value = false;
          pos = close;
        }
        if (pos >= text.size() || text[pos] != ']') fail("expected ]");
        ++pos;
        c.attributes.push_back(std::move(a));
      } else {
        fail("unsupported syntax");
      }
    }
    parts_.push_back(std::move(c));
  }
  if (parts_.empty()) fail("empty selector");
}

bool Selector::matches(const HtmlTree& tree, int i, const Compound& c) {
  if (!tree.is_element(i)) return false;
  if (!c.tag.empty() && tree.tag_name(i) != c.tag) return false;
  if (!c.id.empty() && tree.attr_or_empty(i, "id") != c.id) return false;
  const std::string_view classes = tree.attr_or_empty(i, "class");
  for (const std::string& cls : c.classes) {
    if (!has_class(classes, cls)) return false;
  }
  for (const Attribute& a : c.attributes) {
    const char* value = tree.attr(i, a.name.c_str());
    if (value == nullptr || (!a.any_value && a.value != value)) return false;
  }
  return true;
}

bool Selector::matches(const HtmlTree& tree, int i) const {
  if (!matches(tree, i, parts_.back())) return false;
  // Descendant combinators: match the remaining parts against ancestors,
  // innermost first, taking the nearest ancestor that fits each.
  int part = static_cast<int>(parts_.size()) - 2;
  for (int a = tree.parent(i); a >= 0 && part >= 0; a = tree.parent(a)) {
    if (matches(tree, a, parts_[part])) --part;
  }
  return part < 0;
}

int Selector::find_first(const HtmlTree& tree, int scope) const {
  for (int i = scope; i < tree.end(scope); ++i) {
    if (tree.is_element(i) && matches(tree, i)) return i;
  }
  return -1;
}

}  // namespace twinflow
