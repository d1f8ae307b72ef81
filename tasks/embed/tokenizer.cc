// Tokenizer: one pass over the bytes, words split into identifier parts and
// paired into bigrams; see tokenizer.h.
#include "tasks/embed/tokenizer.h"

#include <algorithm>
#include <iterator>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "util/english_stemmer.h"
#include "util/strings.h"

namespace twinflow {

namespace {

constexpr size_t kMinTermBytes = 2;
constexpr size_t kMaxTermBytes = 40;

// Sorted, so that membership is a binary search over constant data.
constexpr std::string_view kStopWords[] = {
    "about",  "above",  "after", "again", "against", "all",     "also",       "am",
    "an",     "and",    "any",   "are",   "as",      "at",      "be",         "because",
    "been",   "before", "being", "below", "between", "both",    "but",        "by",
    "can",    "could",  "did",   "do",    "does",    "doing",   "down",       "during",
    "each",   "few",    "for",   "from",  "further", "had",     "has",        "have",
    "having", "he",     "her",   "here",  "hers",    "herself", "him",        "himself",
    "his",    "how",    "if",    "in",    "into",    "is",      "it",         "its",
    "itself", "just",   "me",    "might", "more",    "most",    "must",       "my",
    "myself", "no",     "nor",   "not",   "now",     "of",      "off",        "on",
    "once",   "only",   "or",    "other", "our",     "ours",    "ourselves",  "out",
    "over",   "own",    "same",  "she",   "should",  "so",      "some",       "such",
    "than",   "that",   "the",   "their", "theirs",  "them",    "themselves", "then",
    "there",  "these",  "they",  "this",  "those",   "through", "to",         "too",
    "under",  "until",  "up",    "us",    "very",    "was",     "we",         "were",
    "what",   "when",   "where", "which", "while",   "who",     "whom",       "why",
    "will",   "with",   "would", "you",   "your",    "yours",   "yourself",   "yourselves",
};

constexpr bool is_sorted_list() {
  for (size_t i = 1; i < std::size(kStopWords); ++i) {
    if (!(kStopWords[i - 1] < kStopWords[i])) return false;
  }
  return true;
}

// Letters, digits, underscores and every byte of a multi-byte UTF-8 sequence.
inline bool is_token_byte(char c) {
  return is_ascii_alpha(c) || is_ascii_digit(c) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// Whether two words separated by `c` still read as one phrase.
inline bool continues_phrase(char c) {
  return c == ' ' || c == '\t' || c == '-';
}

void append_lower(std::string& out, std::string_view raw) {
  for (char c : raw) out.push_back(to_lower_ascii(c));
}

// True when an identifier part starts at raw[j] because of camel case:
// "parseHttp" at 'H', "HTTPServer" at 'S', "utf8Decode" at 'D'.
bool starts_camel_part(std::string_view raw, size_t j) {
  if (j == 0 || !is_ascii_upper(raw[j])) return false;
  const char before = raw[j - 1];
  if (is_ascii_lower(before) || is_ascii_digit(before)) return true;
  return is_ascii_upper(before) && j + 1 < raw.size() && is_ascii_lower(raw[j + 1]);
}

// Only words with an underscore or a capital after the first letter can split.
bool may_have_parts(std::string_view raw) {
  for (size_t j = 1; j < raw.size(); ++j) {
    if (raw[j] == '_' || is_ascii_upper(raw[j])) return true;
  }
  return false;
}

// The pieces of an identifier, split at underscores and camel-case humps.
std::vector<std::string_view> identifier_parts(std::string_view raw) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t j = 0; j <= raw.size(); ++j) {
    const bool at_end = j == raw.size();
    const bool underscore = !at_end && raw[j] == '_';
    if (!at_end && !underscore && !starts_camel_part(raw, j)) continue;
    if (j > start) parts.push_back(raw.substr(start, j - start));
    start = underscore ? j + 1 : j;
  }
  return parts;
}

// Stems, remembered: stemming costs several times a lookup, and words
// repeat. A thread's own cache sits in front of one that all threads share,
// because embedding runs each batch on new threads, which would otherwise
// stem every word again. Both are bounded: cleared when full.
constexpr size_t kMaxCachedStems = 200000;

struct StemHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StemMap = std::unordered_map<std::string, std::string, StemHash, std::equal_to<>>;

struct SharedStems {
  std::shared_mutex mutex;
  StemMap stems;
};

void remember(StemMap& stems, const std::string& word, const std::string& stem) {
  if (stems.size() >= kMaxCachedStems) stems.clear();
  stems.emplace(word, stem);
}

void stem_in_place(std::string& word) {
  thread_local StemMap local;
  if (auto it = local.find(word); it != local.end()) {
    word.assign(it->second);
    return;
  }
  static SharedStems shared;
  std::string stem;
  {
    std::shared_lock lock(shared.mutex);
    if (auto it = shared.stems.find(word); it != shared.stems.end()) stem = it->second;
  }
  if (stem.empty()) {
    thread_local EnglishStemmer stemmer;
    stem = stemmer.stem(word);
    std::unique_lock lock(shared.mutex);
    remember(shared.stems, word, stem);
  }
  remember(local, word, stem);
  word = std::move(stem);
}

bool is_countable(std::string_view term) {
  return term.size() >= kMinTermBytes && term.size() <= kMaxTermBytes &&
         !Tokenizer::is_stop_word(term);
}

// The state of one for_each_term call: the word that can start a bigram.
class TermEmitter {
 public:
  TermEmitter(const TokenizerOptions& options, const Tokenizer::TermSink& sink)
      : bigrams_(options.bigrams), stem_(options.stem), sink_(sink) {}

  void break_phrase() { phrase_open_ = false; }

  void word(std::string_view raw) {
    while (!raw.empty() && raw.front() == '_') raw.remove_prefix(1);
    while (!raw.empty() && raw.back() == '_') raw.remove_suffix(1);
    if (raw.empty()) return break_phrase();

    whole_.clear();
    append_lower(whole_, raw);
    const bool whole_counts = is_countable(whole_);
    if (whole_counts) {
      if (stem_) stem_in_place(whole_);
      sink_(whole_);
    }
    emit_parts(raw);
    if (!whole_counts) return break_phrase();
    if (bigrams_ && phrase_open_) emit_bigram();
    previous_.swap(whole_);
    phrase_open_ = true;
  }

 private:
  void emit_parts(std::string_view raw) {
    if (!may_have_parts(raw)) return;  // most words: skip the split
    const std::vector<std::string_view> parts = identifier_parts(raw);
    if (parts.size() < 2) return;
    for (std::string_view part : parts) {
      part_.clear();
      append_lower(part_, part);
      if (!is_countable(part_)) continue;
      if (stem_) stem_in_place(part_);
      sink_(part_);
    }
  }

  void emit_bigram() {
    part_.assign(previous_);
    part_.push_back(' ');
    part_.append(whole_);
    sink_(part_);
  }

  bool bigrams_, stem_;
  const Tokenizer::TermSink& sink_;
  bool phrase_open_ = false;
  std::string previous_, whole_, part_;  // reused buffers: no allocation per word
};

}  // namespace

bool Tokenizer::is_stop_word(std::string_view word) {
  static_assert(is_sorted_list(), "kStopWords must stay sorted for binary search");
  return std::binary_search(std::begin(kStopWords), std::end(kStopWords), word);
}

void Tokenizer::for_each_term(std::string_view text, const TermSink& sink) const {
  TermEmitter emitter(options_, sink);
  size_t i = 0;
  while (i < text.size()) {
    if (!is_token_byte(text[i])) {
      if (!continues_phrase(text[i])) emitter.break_phrase();
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < text.size() && is_token_byte(text[i])) ++i;
    emitter.word(text.substr(start, i - start));
  }
}

std::vector<std::string> Tokenizer::terms(std::string_view text) const {
  std::vector<std::string> out;
  for_each_term(text, [&](std::string_view term) { out.emplace_back(term); });
  return out;
}

}  // namespace twinflow
