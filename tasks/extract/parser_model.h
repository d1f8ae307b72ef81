// ParserModel: a cheap, conservative model of the HTML5 tree builder's state,
// so that html_bounds.cc can refuse tags that would make gumbo's work blow up.
//
// Gumbo's costs grow with the depth of the stack of open elements (scope
// checks walk it for nearly every tag) and with the length of the list of
// active formatting elements (rebuilt before text). Both depend on the
// parser's error recovery: implied end tags, adoption-agency reparenting,
// "reconstruct the active formatting elements", which re-opens <b>, <a>,
// <font> that an unrelated end tag closed. The model follows those rules
// closely enough for one guarantee: its stack is never shallower than
// gumbo's by more than the reconstruction of one full list. Where it cannot
// be exact it errs deep (it pops less than the parser), which only makes it
// refuse tags sooner on pathological pages.
#pragma once

#include <gumbo.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace twinflow {

class ParserModel {
 public:
  ParserModel(size_t max_depth, size_t max_formatting)
      : max_depth_(max_depth), max_formatting_(max_formatting) {}

  // A start tag arrives. Returns false when it must be dropped (the model is
  // then unchanged). `name` distinguishes unknown elements from each other.
  bool start(GumboTag tag, std::string_view name, bool self_closing);
  // An end tag arrives.
  void end(GumboTag tag, std::string_view name);
  // Text arrives in body content: the parser reconstructs formatting
  // elements before inserting it.
  void text() { reconstruct(); }

  size_t depth() const { return stack_.size(); }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  struct Open {
    GumboTag tag;
    uint32_t name;       // hash of the name, for unknown elements
    uint32_t active_id;  // its entry in the active formatting list, or 0
  };
  struct Active {
    GumboTag tag;  // GUMBO_TAG_LAST for a marker
    uint32_t id;
    bool in_stack;
  };
  enum class Scope { kDefault, kListItem, kButton, kTable };

  void push(GumboTag tag, uint32_t name, uint32_t active_id);
  void pop_to(size_t index);
  size_t find_in_scope(GumboTag tag, Scope scope) const;
  size_t find_before_special(GumboTag tag, uint32_t name) const;
  void close_implied(GumboTag tag);
  void close_list_item(std::initializer_list<GumboTag> items);
  void adoption_agency(GumboTag tag, uint32_t name);
  void reconstruct();
  size_t formatting_after_marker() const;
  size_t find_active(GumboTag tag) const;
  void erase_active(uint32_t id);
  void set_in_stack(uint32_t id, bool in_stack);

  size_t max_depth_;
  size_t max_formatting_;
  std::vector<Open> stack_;
  std::vector<Active> active_;
  uint32_t next_id_ = 1;
  size_t foreign_depth_ = 0;
};

}  // namespace twinflow
