// See sample_filters.h.
#include "tasks/dataset/sample_filters.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "tasks/text/utf8.h"
#include "util/error.h"
#include "util/hash.h"

namespace twinflow {
namespace {

// MinHash: 128 hash functions in 32 bands of 4 rows. A pair with Jaccard s
// shares a band with probability 1 - (1 - s^4)^32: 0.99 at s = 0.5, so pairs
// at any threshold >= 0.5 are practically never missed; lower thresholds lose
// recall smoothly (0.83 at s = 0.4).
constexpr size_t kBands = 32;
constexpr size_t kRows = 4;
constexpr size_t kHashes = kBands * kRows;

using Shingles = std::vector<uint64_t>;  // sorted, unique
using Signature = std::array<uint64_t, kHashes>;

// Words: runs of ASCII letters and digits (lower-cased) and of non-ASCII
// bytes, so punctuation and case changes do not make texts differ.
std::vector<std::string> normalized_words(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c >= 0x80) {
      current += static_cast<char>(std::tolower(c));
    } else if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

// The hashes of every run of `n` consecutive words (one shingle of all the
// words when there are fewer than n).
Shingles shingles_of(std::string_view text, size_t n) {
  const std::vector<std::string> words = normalized_words(text);
  Shingles out;
  if (words.empty()) return out;
  const size_t count = words.size() >= n ? words.size() - n + 1 : 1;
  for (size_t i = 0; i < count; ++i) {
    uint64_t h = kFnv1aOffset;
    for (size_t j = i; j < std::min(i + n, words.size()); ++j) h = fnv1a(words[j], h ^ 0x20);
    out.push_back(h);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

double jaccard(const Shingles& a, const Shingles& b) {
  if (a.empty() && b.empty()) return 1.0;
  size_t common = 0;
  for (size_t i = 0, j = 0; i < a.size() && j < b.size();) {
    if (a[i] == b[j]) {
      ++common, ++i, ++j;
    } else if (a[i] < b[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return static_cast<double>(common) / static_cast<double>(a.size() + b.size() - common);
}

Signature minhash(const Shingles& shingles) {
  Signature sig;
  sig.fill(std::numeric_limits<uint64_t>::max());
  for (uint64_t s : shingles)
    for (size_t k = 0; k < kHashes; ++k)
      sig[k] = std::min(sig[k], mix64(s + (k + 1) * 0x9E3779B97F4A7C15ULL));
  return sig;
}

uint64_t band_key(const Signature& sig, size_t band) {
  uint64_t h = mix64(band + 1);
  for (size_t r = 0; r < kRows; ++r) h = mix64(h ^ sig[band * kRows + r]);
  return h;
}

// Remembers the kept texts and answers "is this one a near-duplicate of any?".
class NearDuplicateIndex {
 public:
  NearDuplicateIndex(double threshold, size_t shingle_words)
      : threshold_(threshold), shingle_words_(shingle_words) {}

  // Adds the text unless it is a near-duplicate of one added before; returns
  // whether it was added.
  bool add_if_new(std::string_view text) {
    Shingles shingles = shingles_of(text, shingle_words_);
    const Signature sig = minhash(shingles);
    std::array<uint64_t, kBands> keys;
    for (size_t b = 0; b < kBands; ++b) keys[b] = band_key(sig, b);
    for (size_t b = 0; b < kBands; ++b) {
      auto it = buckets_.find(keys[b]);
      if (it == buckets_.end()) continue;
      for (size_t kept : it->second)
        if (jaccard(shingles, kept_[kept]) >= threshold_) return false;
    }
    for (size_t b = 0; b < kBands; ++b) buckets_[keys[b]].push_back(kept_.size());
    kept_.push_back(std::move(shingles));
    return true;
  }

 private:
  double threshold_;
  size_t shingle_words_;
  std::vector<Shingles> kept_;
  std::unordered_map<uint64_t, std::vector<size_t>> buckets_;  // band key → kept indexes
};

enum class Verdict { kPass, kTooShort, kTooLong };

Verdict check_length(std::string_view text, size_t min_chars, size_t max_chars) {
  const size_t n = utf8_length(text);
  if (n < min_chars) return Verdict::kTooShort;
  if (n > max_chars) return Verdict::kTooLong;
  return Verdict::kPass;
}

// The worse of two verdicts: too short wins over too long.
Verdict combine(Verdict a, Verdict b) {
  if (a == Verdict::kTooShort || b == Verdict::kTooShort) return Verdict::kTooShort;
  if (a == Verdict::kTooLong || b == Verdict::kTooLong) return Verdict::kTooLong;
  return Verdict::kPass;
}

Verdict length_verdict(const InstructSample& s, const SampleFilterOptions& o) {
  return combine(check_length(s.instruction, o.min_instruction_chars, o.max_instruction_chars),
                 check_length(s.answer, o.min_answer_chars, o.max_answer_chars));
}

Verdict length_verdict(const PreferenceSample& s, const SampleFilterOptions& o) {
  return combine(combine(check_length(s.prompt, o.min_instruction_chars, o.max_instruction_chars),
                         check_length(s.chosen, o.min_answer_chars, o.max_answer_chars)),
                 check_length(s.rejected, 0, o.max_answer_chars));
}

std::string dedup_text(const InstructSample& s) {
  return s.instruction + "\n" + s.answer;
}

std::string dedup_text(const PreferenceSample& s) {
  return s.prompt + "\n" + s.chosen;
}

template <typename Sample>
std::vector<Sample> filter_any(std::vector<Sample> samples, const SampleFilterOptions& options,
                               DatasetCounts& counts) {
  validate_filter_options(options);
  NearDuplicateIndex index(options.duplicate_threshold, options.shingle_words);
  const bool dedup = options.deduplicate && options.duplicate_threshold <= 1.0;
  std::vector<Sample> kept;
  for (Sample& s : samples) {
    switch (length_verdict(s, options)) {
      case Verdict::kTooShort:
        ++counts.too_short;
        continue;
      case Verdict::kTooLong:
        ++counts.too_long;
        continue;
      case Verdict::kPass:
        break;
    }
    if (dedup && !index.add_if_new(dedup_text(s))) {
      ++counts.duplicates;
      continue;
    }
    kept.push_back(std::move(s));
  }
  counts.kept += static_cast<int64_t>(kept.size());
  return kept;
}

}  // namespace

void validate_filter_options(const SampleFilterOptions& o) {
  if (o.min_instruction_chars > o.max_instruction_chars)
    throw Error("sample filters: min_instruction_chars (" +
                std::to_string(o.min_instruction_chars) + ") exceeds max_instruction_chars (" +
                std::to_string(o.max_instruction_chars) + ")");
  if (o.min_answer_chars > o.max_answer_chars)
    throw Error("sample filters: min_answer_chars (" + std::to_string(o.min_answer_chars) +
                ") exceeds max_answer_chars (" + std::to_string(o.max_answer_chars) + ")");
  if (!(o.duplicate_threshold > 0.0))
    throw Error("sample filters: duplicate_threshold must be > 0, got " +
                std::to_string(o.duplicate_threshold));
  if (o.shingle_words == 0) throw Error("sample filters: shingle_words must be > 0");
}

std::vector<InstructSample> filter_samples(std::vector<InstructSample> samples,
                                           const SampleFilterOptions& options,
                                           DatasetCounts& counts) {
  return filter_any(std::move(samples), options, counts);
}

std::vector<PreferenceSample> filter_samples(std::vector<PreferenceSample> samples,
                                             const SampleFilterOptions& options,
                                             DatasetCounts& counts) {
  return filter_any(std::move(samples), options, counts);
}

double shingle_jaccard(const std::string& a, const std::string& b, size_t shingle_words) {
  if (shingle_words == 0) throw Error("shingle_jaccard: shingle_words must be > 0");
  return jaccard(shingles_of(a, shingle_words), shingles_of(b, shingle_words));
}

}  // namespace twinflow
