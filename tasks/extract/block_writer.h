// write_blocks: turns the selected content subtrees into paragraphs,
// headings, list items, code blocks and quotes.
//
// Block elements end the current block; inline text is whitespace-collapsed
// as a browser would lay it out; <br> is a line break and two in a row end a
// paragraph. <pre> (and a <code> that holds several lines on its own) becomes
// a code block with its text exactly as written. A block's kind comes from
// its innermost heading, list item or blockquote; list items carry their
// list nesting depth.
#pragma once

#include <vector>

#include "tasks/extract/content_scoring.h"
#include "tasks/extract/document.h"
#include "tasks/extract/html_tree.h"

namespace twinflow {

std::vector<Block> write_blocks(const HtmlTree& tree, const ContentSelection& selection);

}  // namespace twinflow
