// See unigram_lm.h.
#include "tasks/train/unigram_lm.h"

#include <cmath>

#include "tasks/train/word_tokenizer.h"

namespace twinflow {

LmScore unigram_score(const Vocabulary& vocabulary, const std::vector<std::string>& texts) {
  // <s> is never predicted, so it takes no mass.
  const size_t predictable = vocabulary.size() - 1;
  double total = 0;
  for (size_t id = 0; id < vocabulary.size(); ++id) {
    if (static_cast<int32_t>(id) != Vocabulary::kBegin) {
      total += static_cast<double>(vocabulary.count(static_cast<int32_t>(id)));
    }
  }
  const double denominator = std::log(total + static_cast<double>(predictable));
  LmScore score;
  score.texts = static_cast<int64_t>(texts.size());
  for (const auto& text : texts) {
    std::vector<int32_t> ids = vocabulary.encode(tokenize_words(text));
    ids.push_back(Vocabulary::kEnd);
    for (const int32_t id : ids) {
      score.log_likelihood += std::log(static_cast<double>(vocabulary.count(id)) + 1) - denominator;
    }
    score.tokens += static_cast<int64_t>(ids.size());
  }
  return score;
}

}  // namespace twinflow
