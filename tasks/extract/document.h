// ExtractedPage: what the HTML extractor found on a page, as structured text.
//
// The body is a flat list of blocks rather than a tree: cleaning, chunking and
// dataset building only need to know where paragraphs, headings, list items,
// code and quotes begin and end, and a flat list is trivial to serialise and
// to compare in tests.
#pragma once

#include <string>
#include <vector>

namespace twinflow {

struct Block {
  enum class Kind { kParagraph, kHeading, kListItem, kCode, kQuote };
  Kind kind = Kind::kParagraph;
  int level = 0;  // heading level (1..6) or list depth (1 = top-level list)
  // Inline text with whitespace collapsed; line breaks (<br>) kept as '\n'.
  // kCode keeps the <pre> text exactly.
  std::string text;

  bool operator==(const Block&) const = default;
};

struct ExtractedPage {
  std::string title;
  std::string subtitle;       // dek / standfirst, when the page has one
  std::string author;         // names joined by ", " when there are several
  std::string published;      // ISO-8601 ("2016-10-19T14:30:56.529Z", "2016-12-19") when found
  std::string canonical_url;  // absolute when the page or the caller gave a base URL
  std::string site_name;
  std::string language;  // BCP 47 as the page declares it ("en", "en-US")
  std::vector<Block> blocks;

  // The blocks' text joined by blank lines; code blocks keep their layout.
  std::string body_text() const;
};

}  // namespace twinflow
