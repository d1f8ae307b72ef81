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

namespace {

// One text's analysis, in thread-local scratch reused from call to call:
// each lexeme once (a "slot", numbered in order of first appearance) with
// how many positions to_tsvector keeps of it, and, when asked, the kept
// (slot, position) pairs in text order. The views stay valid until the
// thread's next analysis.
struct Scratch {
  std::vector<std::string_view> lexemes;  // by slot
  std::vector<uint16_t> kept;             // positions kept, by slot
  std::vector<uint16_t> last;             // last position kept, by slot
  std::vector<std::pair<uint32_t, uint16_t>> positions;
};

Scratch& analyse(std::string_view text, bool with_positions) {
  using namespace english_parser;
  thread_local Stemmer stemmer;
  thread_local uint64_t call = 0;
  // Lexeme -> slot; keys point into the stemmer's cache (not cleared during
  // a call) or into `others` (lexemes of the simple dictionary).
  thread_local std::unordered_map<std::string_view, uint32_t> slot_of;
  thread_local std::deque<std::string> others;
  thread_local std::string lowered;
  thread_local Scratch out;
  ++call;
  slot_of.clear();
  others.clear();
  out.lexemes.clear();
  out.kept.clear();
  out.last.clear();
  out.positions.clear();
  if (stemmer.cache.size() > kMaxCache) stemmer.cache.clear();
  auto slot_for = [&](std::string_view lexeme) {
    auto [it, added] = slot_of.try_emplace(lexeme, static_cast<uint32_t>(out.lexemes.size()));
    if (added) {
      out.lexemes.push_back(lexeme);
      out.kept.push_back(0);
      out.last.push_back(0);
    }
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
    // tsvector keeps at most kMaxPositions positions of a lexeme, each at
    // most kMaxPos, each once.
    const uint16_t p = static_cast<uint16_t>(std::min<int>(pos, kMaxPos));
    uint16_t& kept = out.kept[slot];
    uint16_t& last = out.last[slot];
    if (kept == 0 || (kept < kMaxPositions && last != kMaxPos && last != p)) {
      ++kept;
      last = p;
      if (with_positions) out.positions.emplace_back(slot, p);
    }
  }
  return out;
}

// The slots of `a` in tsvector order (byte order of the lexemes).
std::vector<uint32_t> tsvector_order(const Scratch& a) {
  std::vector<uint32_t> order(a.lexemes.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](uint32_t x, uint32_t y) { return a.lexemes[x] < a.lexemes[y]; });
  return order;
}

}  // namespace

std::vector<Lexeme> analyze_english(std::string_view text) {
  const Scratch& a = analyse(text, true);
  std::vector<Lexeme> found(a.lexemes.size());
  for (size_t slot = 0; slot < found.size(); ++slot) {
    found[slot].text = a.lexemes[slot];
    found[slot].positions.reserve(a.kept[slot]);
  }
  for (const auto& [slot, position] : a.positions) found[slot].positions.push_back(position);
  std::vector<Lexeme> out;
  out.reserve(found.size());
  for (uint32_t slot : tsvector_order(a)) out.push_back(std::move(found[slot]));
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
  // analyze_english's lexemes and their counts of positions, without
  // building the positions: the chunk writer only counts them.
  const Scratch& a = analyse(text, false);
  SearchTerms out;
  size_t bytes = 0;
  for (std::string_view l : a.lexemes) bytes += l.size() + 1;
  out.lexemes.reserve(bytes);
  out.frequencies.reserve(a.lexemes.size());
  for (uint32_t slot : tsvector_order(a)) {
    out.lexemes += a.lexemes[slot];
    out.lexemes += '\0';
    out.frequencies.push_back(a.kept[slot]);
    out.length += a.kept[slot];
  }
  return out;
}

}  // namespace twinflow
