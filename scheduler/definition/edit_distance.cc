// Edit distance over three rows, and the suggestion picker built on it.
#include "scheduler/definition/edit_distance.h"

#include <algorithm>
#include <numeric>

namespace twinflow {

namespace {

// Beyond this many edits a "suggestion" is a different word, not a typo.
constexpr size_t kMaxSuggestionDistance = 3;

size_t allowed_distance(const std::string& word) {
  return std::min(std::max<size_t>(1, word.size() / 3), kMaxSuggestionDistance);
}

size_t length_difference(std::string_view a, std::string_view b) {
  return a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
}

}  // namespace

size_t edit_distance(std::string_view a, std::string_view b) {
  // row[j] is the distance between the first i bytes of a and the first j
  // bytes of b. A transposition looks two rows back, so three rows are kept.
  std::vector<size_t> before_previous(b.size() + 1);
  std::vector<size_t> previous(b.size() + 1);
  std::vector<size_t> current(b.size() + 1);
  std::iota(previous.begin(), previous.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before_previous[j - 2] + 1);
      }
    }
    std::swap(before_previous, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string> closest_match(const std::string& word,
                                         const std::vector<std::string>& candidates) {
  const size_t limit = allowed_distance(word);
  std::optional<std::string> best;
  size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    // The length gap is a lower bound of the distance: skip the quadratic work
    // for candidates that cannot qualify (step lists can be long).
    if (length_difference(word, candidate) >= best_distance) continue;
    size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

}  // namespace twinflow
