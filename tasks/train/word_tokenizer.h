// Word tokens for the built-in neural language model: text → tokens → text.
//
// The model of an author's text (neural_lm.h) predicts one token at a time from
// a vocabulary of a few thousand entries, so tokens are plain words, numbers
// and punctuation, lower-cased (ASCII only: "The" and "the" are one entry,
// which a corpus of a few thousand words cannot afford to tell apart):
//  - a word is a run of ASCII letters, digits and underscores and of any
//    non-ASCII code point that is not listed below, with single inner
//    apostrophes or hyphens ("don't", "fine-tuning"); a number may hold inner
//    '.' or ',' between digits ("3.5", "1,280");
//  - every other ASCII character is punctuation; a run of the same character is
//    one token ("###", "...", "**");
//  - typographic quotes become ASCII ones (’ → ', “ ” → "), and the dashes –, —
//    and the ellipsis … are punctuation tokens of their own;
//  - each line break is the token "\n" (a blank line is two), because the
//    training examples are structured by lines ("### Instruction:\n...");
//    other white space only separates tokens.
// Multi-byte UTF-8 sequences are never split; invalid bytes are kept as word
// bytes, so any input is accepted.
//
// detokenize() joins tokens with the spacing of written English (no space
// before ". , ; : ! ? ) ]" or after "( [", none around line breaks, quotes
// paired), and tokenize(detokenize(tokens)) == tokens for any tokens that
// tokenize() produced.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace twinflow {

// The token that stands for one line break.
inline constexpr std::string_view kNewlineToken = "\n";

std::vector<std::string> tokenize_words(std::string_view text);

std::string detokenize_words(const std::vector<std::string>& tokens);

}  // namespace twinflow
