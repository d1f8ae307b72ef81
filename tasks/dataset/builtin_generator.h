// BuiltinGenerator: the offline sample generator of the dataset step, so a
// pipeline builds instruct and preference datasets without any LLM.
//
// Every answer is the author's own text; only the instructions are made up,
// from what the document already says about itself:
//
// - articles (Medium, Substack, and the prose files of a repository such as
//   its README): the title ("Write an article titled ..." → the opening
//   paragraphs) and each section, by its heading (a question formed from it,
//   "Explain ... as <author> would", or "Write the section ...") or by its
//   lead sentence ("Continue this article: <sentence>" → the rest);
// - posts (LinkedIn): "Write a LinkedIn post about <topic>" (its hashtags) →
//   the whole post, or "Continue this LinkedIn post: <first sentence>" → the
//   rest;
// - code files of a repository: only a leading docstring or comment block is
//   prose the author wrote, so the one sample is "Explain what <file> is for"
//   → that text; a file without one gives nothing. Code itself is never
//   used as an answer, because it teaches the model nothing about her voice.
//
// No two samples of a document share a paragraph, so the generator itself
// makes no near-duplicates. Headings come from the source's `blocks` when
// present, else from Markdown heading lines ("## ..."). Answers are whole
// paragraphs up to max_answer_chars (a single longer paragraph is cut at a
// sentence end).
//
// A preference sample pairs the same prompt and the author's answer (chosen)
// with a generic rewrite (rejected): sentences with numbers, code or
// first-person experience dropped, names replaced with vague words, hashtags
// removed, and bland hedging added at both ends.
//
// Which template a heading gets and which hedges a rewrite uses are drawn from
// a generator seeded with options.seed and the document's identity, so the
// output for a document depends on the seed and that document only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tasks/dataset/samples.h"

namespace twinflow {

struct BuiltinGeneratorOptions {
  // The author's name, used in "Explain ... as <author> would". Default: a
  // neutral "the author".
  std::string author = "the author";

  // Seeds the choice of instruction templates and hedging phrases.
  uint64_t seed = 42;

  // An answer (and a chosen text) holds at most this many code points. Must
  // be > 0. Default 2000, the upper end of the reference's extracts.
  size_t max_answer_chars = 2000;

  // Sections and paragraphs shorter than this (code points) give no sample:
  // a one-line section teaches little. Default 80.
  size_t min_answer_chars = 80;
};

class BuiltinGenerator {
 public:
  // Throws Error when max_answer_chars is 0.
  explicit BuiltinGenerator(BuiltinGeneratorOptions options);

  std::vector<InstructSample> instruct(const DatasetSource& source) const;

  // The same prompts and answers as instruct(), each with a rejected rewrite;
  // a sample whose rewrite would equal the answer is left out.
  std::vector<PreferenceSample> preference(const DatasetSource& source) const;

  // The generic rewrite of `text` used as a rejected answer; `salt` varies the
  // hedging phrases (with the seed).
  std::string generic_rewrite(const std::string& text, uint64_t salt) const;

 private:
  BuiltinGeneratorOptions options_;
};

}  // namespace twinflow
