// Unicode folding for crawled prose: what to do with one non-ASCII code point.
//
// Social-media authors decorate text with "fancy letters" (Mathematical
// Alphanumeric Symbols such as U+1D400 MATHEMATICAL BOLD CAPITAL A, fullwidth
// and circled forms) and emoji. Embedding models and fine-tuning gain nothing
// from them: the letters should read as the plain letters they stand for
// (what NFKC does for them) and pictographs should go. This file is the one
// table of those decisions; the cleaner applies it.
#pragma once

#include <string_view>

namespace twinflow {

struct CharFold {
  enum class Action {
    kKeep,        // keep the code point as it is
    kDrop,        // remove it without a trace (format and control characters)
    kSpace,       // a space (NO-BREAK SPACE, EM SPACE...)
    kPictograph,  // remove it, leaving a word break unless punctuation follows
    kMap,         // replace it with the code point `cp`
    kExpand,      // replace it with the ASCII string `text` (ligatures)
  };
  Action action = Action::kKeep;
  char32_t cp = 0;        // kMap only
  std::string_view text;  // kExpand only; points to a string literal
};

// Classifies a non-ASCII code point. ASCII is the caller's business: it is the
// hot path and needs no table.
CharFold fold_char(char32_t cp);

}  // namespace twinflow
