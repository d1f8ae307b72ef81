// clean_text: turns extracted text into what the chunker, the embedder and the
// dataset builder should see.
//
// Prose (articles, posts) gets Unicode folding (see unicode_fold.h), control
// and format characters removed, emoji removed, and whitespace collapsed
// within lines while line breaks survive and any run of blank lines becomes
// exactly one blank line, so paragraphs stay paragraphs. Code keeps its layout:
// only control characters and trailing whitespace go. Ill-formed UTF-8 becomes
// U+FFFD in both cases. The result has no leading or trailing blank lines.
#pragma once

#include <string>
#include <string_view>

#include "tasks/text/text_kind.h"

namespace twinflow {

struct CleanOptions {
  using Kind = TextKind;

  // What the text is. Default: an article.
  Kind kind = Kind::kArticle;

  // When false, every http://, https:// or www. URL is replaced by
  // `url_replacement`. Default: URLs are kept.
  bool keep_urls = true;
  std::string url_replacement = "[URL]";
};

std::string clean_text(std::string_view text, const CleanOptions& options);

}  // namespace twinflow
