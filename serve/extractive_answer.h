// Extractive answers: a reply to a question composed only of sentences the
// author wrote, taken from the retrieved passages and cited by source number.
//
// This is the `extractive` generator of `twinflow serve`: it needs no language
// model, so it answers readably from the first crawl on, in the author's own
// words, and every sentence can be checked against its source.
//
// How it chooses (pure, deterministic):
//   1. Each passage that is prose (not code) is split into sentences at . ! ?
//      followed by a space and at line breaks; fragments shorter than
//      `min_sentence_chars` and sentences longer than `max_sentence_chars` are
//      not candidates.
//   2. A sentence's relevance is Okapi BM25 of the query's terms over the
//      candidate sentences (tokenizer.h terms, no bigrams), times a small
//      prior for the passage's rank (the retriever's order).
//   3. Sentences are picked greedily by maximal marginal relevance: relevance
//      minus `redundancy_weight` times the highest cosine similarity to a
//      sentence already picked; a sentence more similar than
//      `max_similarity` to one picked is never added.
//   4. At most `max_sentences` and `max_chars`; each sentence is followed by
//      its citation "[n]", n being the passage's 1-based number.
// When no sentence shares a term with the query, the first sentence of the
// first prose passage stands alone (still cited); with no prose passage at
// all, `text` is empty and `sentences` too.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace twinflow {

struct ExtractivePassage {
  int source = 0;  // the citation number: 1-based position in the response's sources
  std::string text;
  bool is_code = false;  // code passages are never quoted as sentences
};

struct ExtractiveOptions {
  size_t max_sentences = 3;
  size_t max_chars = 700;  // of quoted sentences, citations excluded
  size_t min_sentence_chars = 20;
  size_t max_sentence_chars = 400;
  double redundancy_weight = 0.5;
  double max_similarity = 0.6;
};

struct ExtractiveSentence {
  std::string text;  // verbatim from its passage (surrounding white space trimmed)
  int source = 0;
  double relevance = 0;
};

struct ExtractiveAnswer {
  std::string text;  // "Sentence one. [2] Sentence two. [1]"
  std::vector<ExtractiveSentence> sentences;
};

ExtractiveAnswer extractive_answer(const std::string& query,
                                   const std::vector<ExtractivePassage>& passages,
                                   const ExtractiveOptions& options = {});

// The candidate sentences of a text, in order, as step 1 above splits them.
std::vector<std::string> split_sentences(const std::string& text, size_t min_chars,
                                         size_t max_chars);

}  // namespace twinflow
