// Edit distance and "did you mean" suggestions for misspelled names.
//
// Diagnostics about unknown keys, step ids, parameters and pools suggest the
// closest known name, the way compilers do, so that a typo costs one glance.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twinflow {

// Levenshtein distance: the fewest single-character insertions, deletions and
// substitutions that turn `a` into `b`, where swapping two adjacent characters
// also counts as one edit (the "optimal string alignment" variant), because
// transposed letters ("stpes") are the commonest typo. Compares bytes.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, if it is near enough to be a plausible typo:
// at most max(1, word.size() / 3) edits and never more than 3. On a tie the
// earlier candidate wins, so callers control preference by order.
std::optional<std::string> closest_match(const std::string& word,
                                         const std::vector<std::string>& candidates);

}  // namespace twinflow
