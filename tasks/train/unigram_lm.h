// The unigram baseline: P(token) = (count + 1) / (total + vocabulary size),
// from the training counts a Vocabulary keeps (add-one smoothing, so <unk> and
// rare tokens get a little mass). A neural model that cannot beat this has
// learned nothing from context; the trainer reports both.
#pragma once

#include <string>
#include <vector>

#include "tasks/train/neural_lm.h"
#include "tasks/train/vocabulary.h"

namespace twinflow {

// Scores the texts as NeuralLm::evaluate does (same tokens, </s> included).
LmScore unigram_score(const Vocabulary& vocabulary, const std::vector<std::string>& texts);

}  // namespace twinflow
