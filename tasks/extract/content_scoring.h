// select_content: finds the part of a page that is the article, after
// Mozilla Readability.
//
// 1. Furniture is set aside: dead elements (scripts, forms controls, media),
//    hidden ones, and — unless they hold the content — <nav>/<aside>/<footer>/
//    <header>/<form>, furniture ARIA roles and furniture class/id names (see
//    boilerplate.h). "Holding the content" means containing an <article>,
//    <main> or itemprop=articleBody, or most of the page's text.
// 2. Every paragraph (the text a block element holds directly) of 25+
//    characters scores 1 + its commas + one per 100 characters (max 3) and
//    passes the score to five levels of ancestors, halved for the
//    grandparent and divided by 3 x level above. Candidates start from a tag
//    and class/id weight; their final score is scaled by 1 - link density, so
//    link farms lose.
// 3. The best candidate is widened: to a common ancestor of near-equal
//    rivals, to a parent that scores better, through single-child wrappers,
//    and to siblings that score well or are link-free prose paragraphs.
// 4. Inside the chosen subtrees, containers that look like furniture by their
//    numbers (link-heavy, more list items than paragraphs, forms, image
//    galleries without text) are dropped ("clean conditionally").
// Everything works on HtmlTree's flat arrays; nothing recurses.
#pragma once

#include <cstdint>
#include <vector>

#include "tasks/extract/html_tree.h"

namespace twinflow {

// Readability retries with fewer heuristics when a pass finds too little;
// these are the switches.
struct ExtractionPass {
  bool strip_unlikely = true;       // class/id/role/furniture-tag removal
  bool weight_classes = true;       // class/id weights in scores and cleaning
  bool clean_conditionally = true;  // step 4
};

struct ContentSelection {
  std::vector<int> roots;        // subtrees holding the content, in document order
  std::vector<uint8_t> removed;  // per node: 1 = excluded with its subtree
};

// `forced_root` >= 0 (a platform rule's pick) replaces steps 2 and 3.
ContentSelection select_content(const HtmlTree& tree, const ExtractionPass& pass,
                                int forced_root = -1);

}  // namespace twinflow
