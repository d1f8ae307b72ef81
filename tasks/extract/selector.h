// Selector: the small subset of CSS selectors that platform rules need.
//
// A selector is compound parts joined by the descendant combinator (a
// space); each part is an optional tag name followed by any number of
// `.class`, `#id` and `[attr]` / `[attr=value]` tests, e.g.
// "div.body.markup", "#readme article", "[data-test-id=article-body]".
// Matching climbs parents, so it is as deep as the tree but never recurses.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tasks/extract/html_tree.h"

namespace twinflow {

class Selector {
 public:
  // Throws Error on syntax outside the subset.
  explicit Selector(std::string_view text);

  bool matches(const HtmlTree& tree, int i) const;

  // The first matching element of the subtree of `scope`, in document
  // order, or -1.
  int find_first(const HtmlTree& tree, int scope = HtmlTree::kRoot) const;

 private:
  struct Attribute {
    std::string name;
    std::string value;
    bool any_value;
  };
  struct Compound {
    std::string tag;  // "" = any
    std::string id;
    std::vector<std::string> classes;
    std::vector<Attribute> attributes;
  };

  static bool matches(const HtmlTree& tree, int i, const Compound& c);

  std::vector<Compound> parts_;  // outermost first
};

// Whether the space-separated class list `classes` contains `name`.
bool has_class(std::string_view classes, std::string_view name);

}  // namespace twinflow
