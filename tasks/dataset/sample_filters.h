// Filters for generated samples: length bounds, then near-duplicate removal.
//
// The reference system kept every sample its LLM returned; here a sample
// whose instruction or answer is too short or too long is dropped, and so is
// a sample that nearly repeats one kept before it (cross-posted articles, a
// post that quotes an article, an LLM that answers two prompts alike), since
// a repeated text is weighted more in the loss and leaks across the
// train/test split.
//
// Near-duplicates are found with MinHash over word shingles and
// locality-sensitive hashing (bands of rows) for candidates, and every
// candidate pair is confirmed with the exact Jaccard similarity of the two
// shingle sets, so the result is exactly "no kept sample has Jaccard >=
// threshold with an earlier kept one", computed in near-linear time. Samples
// are compared on instruction and answer together (prompt and chosen for
// preference samples). Everything is deterministic and the first occurrence
// wins.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "tasks/dataset/samples.h"

namespace twinflow {

struct SampleFilterOptions {
  // Bounds in code points, inclusive. An instruction (prompt) outside
  // [min_instruction_chars, max_instruction_chars] or an answer (chosen)
  // outside [min_answer_chars, max_answer_chars] drops the sample; a rejected
  // answer only has to respect max_answer_chars. Defaults: instructions
  // 10..1000, answers 80..4000. Each min must be <= its max.
  size_t min_instruction_chars = 10;
  size_t max_instruction_chars = 1000;
  size_t min_answer_chars = 80;
  size_t max_answer_chars = 4000;

  // Near-duplicate removal. Two samples are near-duplicates when the Jaccard
  // similarity of their sets of `shingle_words`-word shingles (lower-cased,
  // punctuation ignored) is >= `duplicate_threshold`. Default 0.7 with
  // 3-word shingles, which catches a copy with a few words changed in a
  // paragraph. Threshold in (0, 1]; > 1 turns deduplication off. shingle_words
  // must be > 0.
  bool deduplicate = true;
  double duplicate_threshold = 0.7;
  size_t shingle_words = 3;
};

// Throws Error naming the option when the options break their constraints.
void validate_filter_options(const SampleFilterOptions& options);

// Return the samples that pass, in their order, and add what was dropped
// (too_short, too_long, duplicates) and what passed (kept) to `counts`
// (counts.generated is the generator's to set). A sample both too short and
// too long (short instruction, long answer) counts as too short.
std::vector<InstructSample> filter_samples(std::vector<InstructSample> samples,
                                           const SampleFilterOptions& options,
                                           DatasetCounts& counts);
std::vector<PreferenceSample> filter_samples(std::vector<PreferenceSample> samples,
                                             const SampleFilterOptions& options,
                                             DatasetCounts& counts);

// The Jaccard similarity of the shingle sets of two texts, as the filter
// computes it (for tests and diagnostics).
double shingle_jaccard(const std::string& a, const std::string& b, size_t shingle_words);

}  // namespace twinflow
