// EnglishStemmer: the Snowball English stemmer (libstemmer, Debian
// libstemmer-dev: Snowball 2.2, the one PostgreSQL 15's `english` text search
// configuration embeds), behind one small class so that the search analyzer
// (store/english_analyzer.h) and the built-in embedder's tokenizer
// (tasks/embed/tokenizer.h) reduce words alike: "connections", "connected"
// and "connecting" all become "connect".
//
// Not thread-safe: keep one per thread (the callers keep a thread_local one).
#pragma once

#include <string_view>

struct sb_stemmer;

namespace twinflow {

class EnglishStemmer {
 public:
  EnglishStemmer();
  ~EnglishStemmer();
  EnglishStemmer(const EnglishStemmer&) = delete;
  EnglishStemmer& operator=(const EnglishStemmer&) = delete;

  // The stem of `word` (lower-case UTF-8), valid until the next call; `word`
  // itself when the stemmer gives nothing (an empty result, or no stemmer
  // because libstemmer could not allocate one).
  std::string_view stem(std::string_view word);

 private:
  sb_stemmer* stemmer_;
};

}  // namespace twinflow
