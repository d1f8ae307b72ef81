// HtmlTree: a page parsed by gumbo, seen as a flat array of nodes in document
// order.
//
// Every analysis of the extractor walks the tree, and pages can nest elements
// thousands deep, so nothing may recurse. Numbering the nodes in pre-order and
// storing for each node one past its last descendant (`end`) makes a subtree a
// contiguous range [i, end(i)): walking it is a loop, skipping it is
// `i = end(i)`, and bottom-up sums are one reverse pass over the array.
// Per-node facts the analyses compute live in plain vectors indexed the same
// way, so gumbo's own tree is never modified.
//
// Gumbo 0.10 frees its tree recursively, which overflows the stack on deep
// trees; HtmlTree gives gumbo an allocator that records every block and frees
// them all in one sweep instead of calling gumbo_destroy_output.
#pragma once

#include <gumbo.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace twinflow {

class HtmlTree {
 public:
  // Parses `html`, which must be UTF-8. Keep it bounded (see html_bounds.h):
  // gumbo's tree construction is quadratic on some inputs.
  explicit HtmlTree(std::string html);
  ~HtmlTree();
  HtmlTree(const HtmlTree&) = delete;
  HtmlTree& operator=(const HtmlTree&) = delete;

  int size() const { return static_cast<int>(nodes_.size()); }
  // Node 0 is the <html> element.
  static constexpr int kRoot = 0;

  int parent(int i) const { return nodes_[i].parent; }
  int end(int i) const { return nodes_[i].end; }
  int first_child(int i) const { return i + 1 < end(i) ? i + 1 : -1; }
  bool is_element(int i) const { return nodes_[i].node->type == GUMBO_NODE_ELEMENT; }
  bool is_text(int i) const { return !is_element(i); }
  // GUMBO_TAG_UNKNOWN for text nodes and for elements gumbo does not know.
  GumboTag tag(int i) const { return nodes_[i].tag; }
  // The element's name, lower case, for unknown elements too ("relative-time").
  std::string tag_name(int i) const;
  // Text nodes only: their text, entities decoded.
  std::string_view text(int i) const;
  // The attribute's value, or nullptr when absent.
  const char* attr(int i, const char* name) const;
  std::string_view attr_or_empty(int i, const char* name) const;

  // The first <head> / <body> element, or -1.
  int head() const { return head_; }
  int body() const { return body_; }

  // Whether `ancestor` is `i` or contains it.
  bool contains(int ancestor, int i) const { return i >= ancestor && i < end(ancestor); }

  // Text of the subtree with runs of whitespace collapsed to one space and
  // trimmed; stops collecting at `max_bytes`.
  std::string collapsed_text(int i, size_t max_bytes = 1 << 20) const;

 private:
  struct Entry {
    const GumboNode* node;
    int parent;
    int end;
    GumboTag tag;
  };
  struct Allocations;

  void index(const GumboNode* root);

  std::string html_;  // gumbo's nodes point into it
  std::unique_ptr<Allocations> allocations_;
  std::vector<Entry> nodes_;
  int head_ = -1;
  int body_ = -1;
};

// Elements laid out inline (phrasing content): text inside them belongs to
// the paragraph of their nearest non-inline ancestor. Unknown elements count
// as inline, as browsers lay them out.
bool is_inline_tag(GumboTag tag);

// Appends `text` to `out` with HTML whitespace (and NO-BREAK SPACE) runs
// collapsed to one space; `pending_space` carries a space across calls.
void append_collapsed(std::string& out, std::string_view text, bool& pending_space);

}  // namespace twinflow
