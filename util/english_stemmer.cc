#include "util/english_stemmer.h"

#include <libstemmer.h>

#include <climits>

namespace twinflow {

EnglishStemmer::EnglishStemmer() : stemmer_(sb_stemmer_new("english", "UTF_8")) {}

EnglishStemmer::~EnglishStemmer() {
  if (stemmer_) sb_stemmer_delete(stemmer_);
}

std::string_view EnglishStemmer::stem(std::string_view word) {
  if (stemmer_ == nullptr || word.size() > static_cast<size_t>(INT_MAX)) return word;
  const sb_symbol* stemmed = sb_stemmer_stem(
      stemmer_, reinterpret_cast<const sb_symbol*>(word.data()), static_cast<int>(word.size()));
  const int length = stemmed ? sb_stemmer_length(stemmer_) : 0;
  if (length <= 0) return word;
  return {reinterpret_cast<const char*>(stemmed), static_cast<size_t>(length)};
}

}  // namespace twinflow
