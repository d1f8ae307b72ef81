// to_tsvector('english', ...) of PostgreSQL 15, reimplemented; see the header.
// The tokens come from the port of the default parser (english_parser.h);
// here are the `english` configuration's dictionaries: the stop words and
// the Snowball stemmer for words, `simple` (lowercase) for the rest.
#include "store/english_analyzer.h"

#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <deque>
#include <string>
#include <unordered_map>

#include "store/english_parser.h"
#include "util/english_stemmer.h"

namespace twinflow {
namespace english_parser {

// clang-format off
// What the `english` configuration does with each token type: 0 nothing (no
// position), 1 english_stem, 2 simple.
constexpr uint8_t kDictOf[24] = {0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 1, 1,
                                 0, 0, 0, 2, 1, 1, 2, 2, 2, 2, 2, 0};

// Sorted: PostgreSQL's english.stop (127 words).
constexpr std::string_view kStopWords[] = {"a", "about", "above", "after", "again", "against",
  "all", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being",
  "below", "between", "both", "but", "by", "can", "did", "do", "does", "doing", "don", "down",
  "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her",
  "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it",
  "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of",
  "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own",
  "s", "same", "she", "should", "so", "some", "such", "t", "than", "that", "the", "their",
  "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through",
  "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where",
  "which", "while", "who", "whom", "why", "will", "with", "you", "your", "yours", "yourself",
  "yourselves"};  // clang-format on
static_assert(sizeof(kStopWords) / sizeof(kStopWords[0]) == 127);

bool is_stop_word(std::string_view w) {
  return std::binary_search(std::begin(kStopWords), std::end(kStopWords), w);
}

// ---- Dictionaries --------------------------------------------------------------

// lowerstr_with_len under C.UTF-8: towlower on every character.
void lower_into(std::string_view in, std::string& out) {
  out.clear();
  const auto* u = reinterpret_cast<const unsigned char*>(in.data());
  size_t i = 0;
  while (i < in.size()) {
    if (u[i] < 0x80) {
      out.push_back(static_cast<char>(u[i] >= 'A' && u[i] <= 'Z' ? u[i] + 32 : u[i]));
      ++i;
      continue;
    }
    uint32_t cp;
    const int n = decode(u + i, in.size() - i, cp);
    const locale_t loc = c_utf8_locale();
    if (cp == 0xFFFFFFFF || !loc) {
      out.append(in.data() + i, n);
    } else {
      uint32_t lc = static_cast<uint32_t>(towlower_l(cp, loc));
      char buf[4];
      int m;
      if (lc < 0x80) {
        buf[0] = static_cast<char>(lc), m = 1;
      } else if (lc < 0x800) {
        buf[0] = static_cast<char>(0xC0 | (lc >> 6)), m = 2;
      } else if (lc < 0x10000) {
        buf[0] = static_cast<char>(0xE0 | (lc >> 12)), m = 3;
      } else {
        buf[0] = static_cast<char>(0xF0 | (lc >> 18)), m = 4;
      }
      for (int k = 1; k < m; ++k)
        buf[k] = static_cast<char>(0x80 | ((lc >> (6 * (m - 1 - k))) & 0x3F));
      out.append(buf, m);
    }
    i += n;
  }
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
// Per thread: the Snowball stemmer and a cache of lowered word -> lexeme
// ("" for a stop word), with the word's lexeme slot in the current analysis.
struct Stemmer {
  struct Entry {
    std::string lexeme;
    uint64_t call = 0;  // the analysis `slot` belongs to
    uint32_t slot = 0;
  };
  EnglishStemmer stemmer;
  std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> cache;
  Entry& entry(const std::string& lowered) {
    if (auto it = cache.find(std::string_view(lowered)); it != cache.end()) return it->second;
    Entry e;
    if (!is_stop_word(lowered)) e.lexeme = stemmer.stem(lowered);
    return cache.emplace(lowered, std::move(e)).first->second;
  }
};

constexpr int kMaxTokenBytes = 2047;   // tokens this long are ignored (with a NOTICE)
constexpr int kMaxStemBytes = 1000;    // dict_snowball: longer ones only lowercased
constexpr uint16_t kMaxPos = 16383;    // MAXENTRYPOS - 1
constexpr size_t kMaxPositions = 255;  // MAXNUMPOS - 1 kept by to_tsvector
constexpr size_t kMaxCache = 200000;   // cached words per thread

}  // namespace english_parser

std::vector<Lexeme> analyze_english(std::string_view text) {
  using namespace english_parser;
  thread_local Stemmer stemmer;
  thread_local uint64_t call = 0;
  // Lexeme -> index in `found`; keys point into the stemmer's cache (not
  // cleared during a call) or into `others` (lexemes of the simple dictionary).
  thread_local std::unordered_map<std::string_view, uint32_t> slot_of;
  thread_local std::deque<std::string> others;
  thread_local std::string lowered;
  ++call;
  slot_of.clear();
  others.clear();
  if (stemmer.cache.size() > kMaxCache) stemmer.cache.clear();
  std::vector<Lexeme> found;
  auto slot_for = [&](std::string_view lexeme) {
    auto [it, added] = slot_of.try_emplace(lexeme, static_cast<uint32_t>(found.size()));
    if (added) found.push_back(Lexeme{std::string(lexeme), {}});
    return it->second;
  };
  if (text.size() > static_cast<size_t>(INT32_MAX)) text = text.substr(0, INT32_MAX);
  Parser parser(text.data(), static_cast<int>(text.size()));
  Token t;
  int pos = 0;
  while (parser.get(t)) {
    if (t.len >= kMaxTokenBytes) continue;
    const uint8_t dict = kDictOf[t.type];
    if (dict == 0) continue;
    ++pos;
    lower_into(text.substr(t.start, t.len), lowered);
    uint32_t slot;
    if (dict == 1 && t.len <= kMaxStemBytes) {
      Stemmer::Entry& e = stemmer.entry(lowered);
      if (e.lexeme.empty()) continue;  // stop word: the position is used up
      if (e.call != call) e.call = call, e.slot = slot_for(e.lexeme);
      slot = e.slot;
    } else if (auto it = slot_of.find(std::string_view(lowered)); it != slot_of.end()) {
      slot = it->second;
    } else {
      slot = slot_for(others.emplace_back(lowered));
    }
    const uint16_t p = static_cast<uint16_t>(std::min<int>(pos, kMaxPos));
    std::vector<uint16_t>& ps = found[slot].positions;
    if (ps.empty() || (ps.size() < kMaxPositions && ps.back() != kMaxPos && ps.back() != p))
      ps.push_back(p);
  }
  std::vector<uint32_t> order(found.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return found[a].text < found[b].text; });
  std::vector<Lexeme> out;
  out.reserve(found.size());
  for (uint32_t i : order) out.push_back(std::move(found[i]));
  return out;
}

std::string to_tsvector_literal(const std::vector<Lexeme>& lexemes) {
  std::string out;
  for (const Lexeme& l : lexemes) {
    if (!out.empty()) out.push_back(' ');
    out.push_back('\'');
    for (char c : l.text) {
      if (c == '\'' || c == '\\') out.push_back(c);
      out.push_back(c);
    }
    out.push_back('\'');
    for (size_t i = 0; i < l.positions.size(); ++i) {
      out.push_back(i == 0 ? ':' : ',');
      out += std::to_string(l.positions[i]);
    }
  }
  return out;
}

int analyzed_length(const std::vector<Lexeme>& lexemes) {
  int n = 0;
  for (const Lexeme& l : lexemes)
    n += l.positions.empty() ? 1 : static_cast<int>(l.positions.size());
  return n;
}

SearchTerms search_terms(std::string_view text) {
  const std::vector<Lexeme> lexemes = analyze_english(text);
  SearchTerms out;
  out.frequencies.reserve(lexemes.size());
  for (const Lexeme& l : lexemes) {
    out.lexemes += l.text;
    out.lexemes += '\0';
    out.frequencies.push_back(static_cast<uint16_t>(std::max<size_t>(1, l.positions.size())));
  }
  out.length = analyzed_length(lexemes);
  return out;
}

}  // namespace twinflow
