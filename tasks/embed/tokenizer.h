// Tokenizer: turns cleaned text (prose or code) into the terms the built-in
// TF-IDF embedder counts.
//
// A word is a run of ASCII letters, digits and underscores, plus any non-ASCII
// UTF-8 byte, so that accented and non-Latin words stay whole (the cleaner has
// already folded decorative letters; only ASCII is lower-cased here, because
// case tables for all of Unicode would cost more than they bring). Code
// identifiers are split as well as kept: `parseHttpRequest` yields
// `parsehttprequest`, `parse`, `http` and `request`, `max_df_ratio` yields
// `max_df_ratio`, `max`, `df` and `ratio`, so a prose query finds code and an
// exact identifier still finds its file. Adjacent words (not separated by
// punctuation or a stop word) also yield a bigram "first second", which lets
// phrases like "connection pool" outweigh their common parts.
//
// Dropped: a small list of English stop words, one-byte terms and terms over
// 40 bytes (hashes, base64, minified code), which only bloat the vocabulary.
//
// With `stem`, every word and identifier part that is kept is reduced to its
// Snowball English stem (util/english_stemmer.h, as search's analyzer does),
// so "flows", "flowing" and "flow" count as one term, and bigrams join stems.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace twinflow {

struct TokenizerOptions {
  // Emit "first second" for adjacent non-stop words as well as the words.
  bool bigrams = true;
  // Reduce words to their English stems (the stop words and the length limits
  // apply to the word as written).
  bool stem = false;
};

class Tokenizer {
 public:
  using TermSink = std::function<void(std::string_view term)>;

  explicit Tokenizer(TokenizerOptions options = {}) : options_(options) {}

  // Calls `sink` for every term of `text`, in text order (a word, then its
  // identifier parts, then the bigram it ends). The view is valid only during
  // the call. Any bytes are accepted.
  void for_each_term(std::string_view text, const TermSink& sink) const;

  // The same terms, collected.
  std::vector<std::string> terms(std::string_view text) const;

  // True for the small English stop-word list (lower-case input).
  static bool is_stop_word(std::string_view word);

  // True when `term` is a bigram (two words joined by a space).
  static bool is_bigram(std::string_view term) { return term.find(' ') != std::string_view::npos; }

 private:
  TokenizerOptions options_;
};

}  // namespace twinflow
