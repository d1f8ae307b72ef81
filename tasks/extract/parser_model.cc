// ParserModel: the HTML5 tree-construction rules it follows, simplified;
// see parser_model.h.
#include "tasks/extract/parser_model.h"

namespace twinflow {

namespace {

uint32_t hash_name(std::string_view name) {
  uint32_t h = 2166136261u;  // FNV-1a over the lower-cased name
  for (char c : name) {
    h ^= static_cast<unsigned char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
    h *= 16777619u;
  }
  return h | 1;  // never 0
}

bool is_void(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_AREA:
    case GUMBO_TAG_BASE:
    case GUMBO_TAG_BASEFONT:
    case GUMBO_TAG_BGSOUND:
    case GUMBO_TAG_BR:
    case GUMBO_TAG_COL:
    case GUMBO_TAG_EMBED:
    case GUMBO_TAG_FRAME:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_IMAGE:
    case GUMBO_TAG_IMG:
    case GUMBO_TAG_INPUT:
    case GUMBO_TAG_KEYGEN:
    case GUMBO_TAG_LINK:
    case GUMBO_TAG_META:
    case GUMBO_TAG_PARAM:
    case GUMBO_TAG_SOURCE:
    case GUMBO_TAG_TRACK:
    case GUMBO_TAG_WBR:
    case GUMBO_TAG_MENUITEM:
    case GUMBO_TAG_ISINDEX:
      return true;
    default:
      return false;
  }
}

bool is_formatting(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_A:
    case GUMBO_TAG_B:
    case GUMBO_TAG_BIG:
    case GUMBO_TAG_CODE:
    case GUMBO_TAG_EM:
    case GUMBO_TAG_FONT:
    case GUMBO_TAG_I:
    case GUMBO_TAG_NOBR:
    case GUMBO_TAG_S:
    case GUMBO_TAG_SMALL:
    case GUMBO_TAG_STRIKE:
    case GUMBO_TAG_STRONG:
    case GUMBO_TAG_TT:
    case GUMBO_TAG_U:
      return true;
    default:
      return false;
  }
}

bool is_marker(GumboTag t) {
  return t == GUMBO_TAG_TD || t == GUMBO_TAG_TH || t == GUMBO_TAG_CAPTION ||
         t == GUMBO_TAG_APPLET || t == GUMBO_TAG_OBJECT || t == GUMBO_TAG_MARQUEE ||
         t == GUMBO_TAG_TEMPLATE;
}

bool is_heading(GumboTag t) {
  return t >= GUMBO_TAG_H1 && t <= GUMBO_TAG_H6;
}

// The parser's "special" category, plus <svg> and <math>, whose content the
// model does not follow closely and therefore treats as walls.
bool is_special(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_APPLET:
    case GUMBO_TAG_AREA:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_BASE:
    case GUMBO_TAG_BASEFONT:
    case GUMBO_TAG_BGSOUND:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_BODY:
    case GUMBO_TAG_BR:
    case GUMBO_TAG_BUTTON:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_CENTER:
    case GUMBO_TAG_COL:
    case GUMBO_TAG_COLGROUP:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_DIR:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_EMBED:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_FRAME:
    case GUMBO_TAG_FRAMESET:
    case GUMBO_TAG_H1:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
    case GUMBO_TAG_H5:
    case GUMBO_TAG_H6:
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_HGROUP:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_HTML:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_IMG:
    case GUMBO_TAG_INPUT:
    case GUMBO_TAG_KEYGEN:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_LINK:
    case GUMBO_TAG_LISTING:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_MARQUEE:
    case GUMBO_TAG_MENU:
    case GUMBO_TAG_META:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_NOEMBED:
    case GUMBO_TAG_NOFRAMES:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_P:
    case GUMBO_TAG_PARAM:
    case GUMBO_TAG_PLAINTEXT:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_SOURCE:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_TBODY:
    case GUMBO_TAG_TD:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_TFOOT:
    case GUMBO_TAG_TH:
    case GUMBO_TAG_THEAD:
    case GUMBO_TAG_TITLE:
    case GUMBO_TAG_TR:
    case GUMBO_TAG_TRACK:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_WBR:
    case GUMBO_TAG_XMP:
    case GUMBO_TAG_MI:
    case GUMBO_TAG_MO:
    case GUMBO_TAG_MN:
    case GUMBO_TAG_MS:
    case GUMBO_TAG_MTEXT:
    case GUMBO_TAG_ANNOTATION_XML:
    case GUMBO_TAG_FOREIGNOBJECT:
    case GUMBO_TAG_DESC:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_MATH:
      return true;
    default:
      return false;
  }
}

// Start tags that close an open <p> ("close a p element").
bool closes_p(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_CENTER:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_DIR:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_HGROUP:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_MENU:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_P:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_H1:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
    case GUMBO_TAG_H5:
    case GUMBO_TAG_H6:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_LISTING:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_XMP:
    case GUMBO_TAG_PLAINTEXT:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_DT:
      return true;
    default:
      return false;
  }
}

// Start tags that the parser inserts without first reconstructing the
// active formatting elements. Every other tag may re-open formatting
// elements first, so the model reconstructs for them (erring deep).
bool skips_reconstruction(GumboTag t) {
  return closes_p(t) || t == GUMBO_TAG_TD || t == GUMBO_TAG_TH || t == GUMBO_TAG_TR ||
         t == GUMBO_TAG_TBODY || t == GUMBO_TAG_THEAD || t == GUMBO_TAG_TFOOT ||
         t == GUMBO_TAG_CAPTION || t == GUMBO_TAG_COLGROUP || t == GUMBO_TAG_HTML ||
         t == GUMBO_TAG_BODY || t == GUMBO_TAG_HEAD || t == GUMBO_TAG_FRAMESET;
}

bool is_scope_wall(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_APPLET:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_HTML:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_TD:
    case GUMBO_TAG_TH:
    case GUMBO_TAG_MARQUEE:
    case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_MI:
    case GUMBO_TAG_MO:
    case GUMBO_TAG_MN:
    case GUMBO_TAG_MS:
    case GUMBO_TAG_MTEXT:
    case GUMBO_TAG_ANNOTATION_XML:
    case GUMBO_TAG_FOREIGNOBJECT:
    case GUMBO_TAG_DESC:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_MATH:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool ParserModel::start(GumboTag tag, std::string_view name, bool self_closing) {
  if (tag == GUMBO_TAG_HTML || tag == GUMBO_TAG_BODY || tag == GUMBO_TAG_HEAD ||
      tag == GUMBO_TAG_FRAMESET) {
    return true;  // merged into the existing element or ignored
  }
  const bool formatting = is_formatting(tag);
  // Refuse before changing anything: a refused tag never reaches the parser.
  if (stack_.size() >= max_depth_) return false;
  if (formatting && formatting_after_marker() >= max_formatting_) return false;
  if (is_void(tag) || (self_closing && foreign_depth_ > 0)) {
    if (!skips_reconstruction(tag)) reconstruct();
    return true;
  }
  close_implied(tag);
  if (!skips_reconstruction(tag)) reconstruct();
  uint32_t active_id = 0;
  if (formatting) {
    active_id = next_id_++;
    active_.push_back({tag, active_id, true});
  }
  if (is_marker(tag)) active_.push_back({GUMBO_TAG_LAST, 0, false});
  push(tag, tag == GUMBO_TAG_UNKNOWN ? hash_name(name) : 0, active_id);
  return true;
}

void ParserModel::end(GumboTag tag, std::string_view name) {
  if (tag == GUMBO_TAG_HTML || tag == GUMBO_TAG_BODY || tag == GUMBO_TAG_HEAD ||
      tag == GUMBO_TAG_BR) {
    return;
  }
  const uint32_t hash = tag == GUMBO_TAG_UNKNOWN ? hash_name(name) : 0;
  if (is_formatting(tag)) {
    adoption_agency(tag, hash);
    return;
  }
  size_t at = kNone;
  if (tag == GUMBO_TAG_P) {
    at = find_in_scope(tag, Scope::kButton);
  } else if (tag == GUMBO_TAG_LI) {
    at = find_in_scope(tag, Scope::kListItem);
  } else if (is_heading(tag)) {
    for (size_t k = stack_.size(); k-- > 0 && at == kNone;) {
      if (is_heading(stack_[k].tag)) at = k;
      if (at == kNone && is_scope_wall(stack_[k].tag)) break;
    }
  } else if (tag == GUMBO_TAG_TD || tag == GUMBO_TAG_TH || tag == GUMBO_TAG_TR ||
             tag == GUMBO_TAG_TBODY || tag == GUMBO_TAG_THEAD || tag == GUMBO_TAG_TFOOT ||
             tag == GUMBO_TAG_TABLE || tag == GUMBO_TAG_CAPTION) {
    at = find_in_scope(tag, Scope::kTable);
  } else if (tag == GUMBO_TAG_FORM) {
    // The parser takes the form out of the stack wherever it is; the model
    // only follows the well-nested case.
    if (!stack_.empty() && stack_.back().tag == GUMBO_TAG_FORM) at = stack_.size() - 1;
  } else if (is_special(tag)) {
    at = find_in_scope(tag, Scope::kDefault);
  } else {
    at = find_before_special(tag, hash);
  }
  if (at != kNone) pop_to(at);
}

void ParserModel::push(GumboTag tag, uint32_t name, uint32_t active_id) {
  stack_.push_back({tag, name, active_id});
  if (tag == GUMBO_TAG_SVG || tag == GUMBO_TAG_MATH) ++foreign_depth_;
}

void ParserModel::pop_to(size_t index) {
  while (stack_.size() > index) {
    const Open top = stack_.back();
    stack_.pop_back();
    if (top.active_id != 0) set_in_stack(top.active_id, false);
    if (is_marker(top.tag)) {
      // Closing a cell or object clears the list back to its marker.
      while (!active_.empty()) {
        const bool marker = active_.back().tag == GUMBO_TAG_LAST;
        active_.pop_back();
        if (marker) break;
      }
    }
    if ((top.tag == GUMBO_TAG_SVG || top.tag == GUMBO_TAG_MATH) && foreign_depth_ > 0) {
      --foreign_depth_;
    }
  }
}

size_t ParserModel::find_in_scope(GumboTag tag, Scope scope) const {
  for (size_t k = stack_.size(); k-- > 0;) {
    const GumboTag t = stack_[k].tag;
    if (t == tag) return k;
    if (scope == Scope::kTable) {
      if (t == GUMBO_TAG_HTML || t == GUMBO_TAG_TABLE || t == GUMBO_TAG_TEMPLATE) return kNone;
      continue;
    }
    if (is_scope_wall(t)) return kNone;
    if (scope == Scope::kListItem && (t == GUMBO_TAG_UL || t == GUMBO_TAG_OL)) return kNone;
    if (scope == Scope::kButton && t == GUMBO_TAG_BUTTON) return kNone;
  }
  return kNone;
}

// The parser's "any other end tag": the nearest element of that name, unless
// a special element comes first.
size_t ParserModel::find_before_special(GumboTag tag, uint32_t name) const {
  for (size_t k = stack_.size(); k-- > 0;) {
    if (stack_[k].tag == tag && stack_[k].name == name) return k;
    if (is_special(stack_[k].tag)) return kNone;
  }
  return kNone;
}

void ParserModel::close_list_item(std::initializer_list<GumboTag> items) {
  for (size_t k = stack_.size(); k-- > 0;) {
    const GumboTag t = stack_[k].tag;
    for (GumboTag item : items) {
      if (t == item) {
        pop_to(k);
        return;
      }
    }
    if (is_special(t) && t != GUMBO_TAG_ADDRESS && t != GUMBO_TAG_DIV && t != GUMBO_TAG_P) {
      return;
    }
  }
}

void ParserModel::close_implied(GumboTag tag) {
  if (tag == GUMBO_TAG_LI) {
    close_list_item({GUMBO_TAG_LI});
  } else if (tag == GUMBO_TAG_DD || tag == GUMBO_TAG_DT) {
    close_list_item({GUMBO_TAG_DD, GUMBO_TAG_DT});
  }
  if (closes_p(tag)) {
    const size_t p = find_in_scope(GUMBO_TAG_P, Scope::kButton);
    if (p != kNone) pop_to(p);
  }
  if (is_heading(tag) && !stack_.empty() && is_heading(stack_.back().tag)) {
    pop_to(stack_.size() - 1);
  }
  size_t at = kNone;
  switch (tag) {
    case GUMBO_TAG_A:
      if (find_active(GUMBO_TAG_A) != kNone) {
        adoption_agency(GUMBO_TAG_A, 0);
        // The parser also drops that <a> from the list and the stack if the
        // agency left it there; the model keeps it in the stack, erring deep.
        const size_t left = find_active(GUMBO_TAG_A);
        if (left != kNone) active_.erase(active_.begin() + static_cast<long>(left));
      }
      break;
    case GUMBO_TAG_NOBR:
      if (find_in_scope(GUMBO_TAG_NOBR, Scope::kDefault) != kNone) {
        adoption_agency(GUMBO_TAG_NOBR, 0);
      }
      break;
    case GUMBO_TAG_BUTTON:
      at = find_in_scope(GUMBO_TAG_BUTTON, Scope::kDefault);
      break;
    case GUMBO_TAG_OPTION:
    case GUMBO_TAG_OPTGROUP:
      if (!stack_.empty() && stack_.back().tag == GUMBO_TAG_OPTION) at = stack_.size() - 1;
      break;
    case GUMBO_TAG_TD:
    case GUMBO_TAG_TH:
      at = find_in_scope(GUMBO_TAG_TD, Scope::kTable);
      if (at == kNone) at = find_in_scope(GUMBO_TAG_TH, Scope::kTable);
      break;
    case GUMBO_TAG_TR:
      at = find_in_scope(GUMBO_TAG_TR, Scope::kTable);
      break;
    default:
      break;
  }
  if (at != kNone) pop_to(at);
}

// The end tag of a formatting element, after the adoption agency algorithm,
// with one simplification: when a block sits above the formatting element
// the parser reparents and the stack keeps its depth; the model leaves its
// stack as it is.
void ParserModel::adoption_agency(GumboTag tag, uint32_t name) {
  const size_t a = find_active(tag);
  if (a == kNone) {
    const size_t at = find_before_special(tag, name);
    if (at != kNone) pop_to(at);
    return;
  }
  const uint32_t id = active_[a].id;
  if (!active_[a].in_stack) {
    active_.erase(active_.begin() + static_cast<long>(a));
    return;
  }
  size_t at = kNone;
  for (size_t k = stack_.size(); k-- > 0;) {
    if (stack_[k].active_id == id) {
      at = k;
      break;
    }
    if (is_scope_wall(stack_[k].tag)) return;  // not in scope: ignored
  }
  if (at == kNone) return;
  for (size_t k = at + 1; k < stack_.size(); ++k) {
    if (is_special(stack_[k].tag)) return;  // a furthest block: depth unchanged
  }
  pop_to(at);
  erase_active(id);
}

// Re-opens, as the parser does before inserting text and most elements,
// every formatting element after the last marker that is no longer open.
void ParserModel::reconstruct() {
  size_t first = active_.size();
  while (first > 0 && active_[first - 1].tag != GUMBO_TAG_LAST && !active_[first - 1].in_stack) {
    --first;
  }
  for (size_t k = first; k < active_.size(); ++k) {
    active_[k].in_stack = true;
    push(active_[k].tag, 0, active_[k].id);
  }
}

size_t ParserModel::formatting_after_marker() const {
  size_t n = 0;
  for (size_t k = active_.size(); k-- > 0 && active_[k].tag != GUMBO_TAG_LAST;) ++n;
  return n;
}

size_t ParserModel::find_active(GumboTag tag) const {
  for (size_t k = active_.size(); k-- > 0 && active_[k].tag != GUMBO_TAG_LAST;) {
    if (active_[k].tag == tag) return k;
  }
  return kNone;
}

void ParserModel::erase_active(uint32_t id) {
  for (size_t k = active_.size(); k-- > 0;) {
    if (active_[k].id == id && active_[k].tag != GUMBO_TAG_LAST) {
      active_.erase(active_.begin() + static_cast<long>(k));
      return;
    }
  }
}

void ParserModel::set_in_stack(uint32_t id, bool in_stack) {
  for (size_t k = active_.size(); k-- > 0;) {
    if (active_[k].id == id && active_[k].tag != GUMBO_TAG_LAST) {
      active_[k].in_stack = in_stack;
      return;
    }
  }
}

}  // namespace twinflow
