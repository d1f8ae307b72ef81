// chunk_text: atoms (sentences, lines, words, hard pieces) packed greedily
// into chunks; see chunk.h.
#include "tasks/text/chunk.h"

#include <cstdint>

#include "tasks/text/utf8.h"
#include "util/error.h"
#include "util/strings.h"

namespace twinflow {

namespace {

// How good a place the gap before an atom is for ending a chunk.
enum Strength : uint8_t {
  kHardSplit = 0,  // inside an over-long word
  kWord = 1,
  kSentence = 2,   // also a line break
  kParagraph = 3,  // a blank line; for code, a blank line between blocks
};

// The unit of packing: a sentence, a line, or a piece of an over-long one.
// Atoms never overlap and appear in text order; the bytes between two atoms
// are whitespace.
struct Atom {
  size_t start, end;        // bytes
  size_t cp_start, cp_end;  // code points
  Strength strength;        // of the break before this atom
};

// Counts code points incrementally. Atoms come in text order, and a unit
// that must be broken up is walked again once, so each byte is counted at
// most three times.
class CodePointCursor {
 public:
  explicit CodePointCursor(std::string_view text) : text_(text) {}
  size_t at(size_t byte) {
    for (; byte_ < byte; ++byte_) cp_ += starts_code_point(byte_);
    for (; byte_ > byte; --byte_) cp_ -= starts_code_point(byte_ - 1);
    return cp_;
  }

 private:
  bool starts_code_point(size_t k) const { return !is_utf8_continuation(text_[k]); }

  std::string_view text_;
  size_t byte_ = 0;
  size_t cp_ = 0;
};

// Splits text into atoms no longer than the target, descending from the
// natural unit (sentence or line) to words and then to hard pieces only for
// units that do not fit.
class Atomizer {
 public:
  Atomizer(std::string_view text, size_t target) : text_(text), target_(target), cursor_(text) {}

  std::vector<Atom> take() { return std::move(atoms_); }

  // Adds [start, end) as one unit, breaking it up when it is too long.
  void add_unit(size_t start, size_t end, Strength strength) {
    if (start >= end) return;
    const size_t cp_start = cursor_.at(start);
    const size_t cp_end = cursor_.at(end);
    if (cp_end - cp_start <= target_) {
      atoms_.push_back({start, end, cp_start, cp_end, strength});
      return;
    }
    add_words(start, end, strength);
  }

 private:
  void add_words(size_t start, size_t end, Strength strength) {
    size_t i = start;
    while (i < end) {
      while (i < end && is_ascii_space(text_[i])) ++i;
      size_t j = i;
      while (j < end && !is_ascii_space(text_[j])) ++j;
      if (j > i) add_word(i, j, strength);
      strength = kWord;
      i = j;
    }
  }

  void add_word(size_t start, size_t end, Strength strength) {
    const size_t cp_start = cursor_.at(start);
    if (cursor_.at(end) - cp_start <= target_) {
      atoms_.push_back({start, end, cp_start, cursor_.at(end), strength});
      return;
    }
    // Hard pieces of `target_` code points each.
    size_t piece = start;
    size_t piece_cp = cp_start;
    size_t count = 0;
    for (size_t k = start; k < end; ++k) {
      if (is_utf8_continuation(text_[k])) continue;
      if (count == target_) {
        atoms_.push_back({piece, k, piece_cp, piece_cp + count, strength});
        strength = kHardSplit;
        piece = k;
        piece_cp += count;
        count = 0;
      }
      ++count;
    }
    atoms_.push_back({piece, end, piece_cp, piece_cp + count, strength});
  }

  std::string_view text_;
  size_t target_;
  CodePointCursor cursor_;
  std::vector<Atom> atoms_;
};

// Abbreviations after which a full stop does not end a sentence.
bool is_abbreviation(std::string_view word) {
  static constexpr std::string_view kAbbreviations[] = {
      "mr",  "mrs", "ms",  "dr", "prof", "sr",  "jr",  "st",     "vs", "e.g",
      "i.e", "inc", "ltd", "co", "no",   "fig", "vol", "approx", "cf", "al"};
  if (word.size() == 1) return true;  // an initial: "J. R. R. Tolkien"
  if (word.size() > 6) return false;
  char lower[8];
  for (size_t k = 0; k < word.size(); ++k) {
    const char c = word[k];
    lower[k] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  const std::string_view w(lower, word.size());
  for (std::string_view a : kAbbreviations) {
    if (w == a) return true;
  }
  return false;
}

inline bool is_closing(char c) {
  return c == '"' || c == '\'' || c == ')' || c == ']';
}

// Returns the end of the sentence whose terminal punctuation is at `pos`, or
// 0 when the punctuation does not end a sentence there.
size_t sentence_end_after(std::string_view text, size_t pos, size_t para_end) {
  size_t end = pos + 1;
  // Closing quotes and brackets belong to the sentence, including the
  // typographic ones (U+2019, U+201D: E2 80 99 / E2 80 9D).
  while (end < para_end) {
    if (is_closing(text[end])) {
      ++end;
    } else if (para_end - end >= 3 && text.substr(end, 2) == "\xE2\x80" &&
               (text[end + 2] == '\x99' || text[end + 2] == '\x9D')) {
      end += 3;
    } else {
      break;
    }
  }
  if (end >= para_end || (text[end] != ' ' && text[end] != '\t')) return 0;
  size_t next = end;
  while (next < para_end && (text[next] == ' ' || text[next] == '\t')) ++next;
  // "e.g. the" or "3.5 percent. and so" read on; a lowercase start is not a
  // new sentence.
  if (next < para_end && text[next] >= 'a' && text[next] <= 'z') return 0;
  if (text[pos] == '.') {
    size_t w = pos;
    while (w > 0 && !is_ascii_space(text[w - 1])) --w;
    if (is_abbreviation(text.substr(w, pos - w))) return 0;
  }
  return end;
}

// Length of a CJK sentence terminator (。！？) at `pos`, or 0.
size_t cjk_terminator_at(std::string_view text, size_t pos, size_t end) {
  if (end - pos < 3) return 0;
  const std::string_view t = text.substr(pos, 3);
  if (t == "\xE3\x80\x82" || t == "\xEF\xBC\x81" || t == "\xEF\xBC\x9F") return 3;
  return 0;
}

// Adds the sentences (and lines) of the paragraph [start, end).
void add_sentences(std::string_view text, size_t start, size_t end, Atomizer& atoms) {
  Strength strength = kParagraph;
  size_t sentence = start;
  size_t i = start;
  while (i < end) {
    const char c = text[i];
    size_t cut = 0;     // where the sentence ends
    size_t resume = 0;  // where the next one may start
    if (c == '\n') {
      cut = i;
      resume = i + 1;
    } else if (c == '.' || c == '!' || c == '?') {
      cut = sentence_end_after(text, i, end);
      resume = cut;
    } else if (c == '\xE3' || c == '\xEF') {
      if (const size_t len = cjk_terminator_at(text, i, end)) cut = resume = i + len;
    }
    if (cut == 0) {
      ++i;
      continue;
    }
    size_t trimmed = cut;
    while (trimmed > sentence && is_ascii_space(text[trimmed - 1])) --trimmed;
    atoms.add_unit(sentence, trimmed, strength);
    if (trimmed > sentence) strength = kSentence;
    i = resume;
    while (i < end && is_ascii_space(text[i])) ++i;
    sentence = i;
  }
  atoms.add_unit(sentence, end, strength);
}

// True when the line starting at `pos` holds only whitespace.
bool line_is_blank(std::string_view text, size_t pos, size_t* line_end) {
  size_t k = pos;
  bool blank = true;
  while (k < text.size() && text[k] != '\n') {
    if (!is_ascii_space(text[k])) blank = false;
    ++k;
  }
  *line_end = k;
  return blank;
}

std::vector<Atom> prose_atoms(std::string_view text, size_t target) {
  Atomizer atoms(text, target);
  size_t para = std::string_view::npos;  // start of the paragraph being read
  size_t para_end = 0;                   // end of its last non-blank line
  size_t pos = 0;
  while (pos < text.size()) {
    size_t line_end;
    if (line_is_blank(text, pos, &line_end)) {
      if (para != std::string_view::npos) add_sentences(text, para, para_end, atoms);
      para = std::string_view::npos;
    } else {
      if (para == std::string_view::npos) {
        para = pos;
        while (is_ascii_space(text[para])) ++para;
      }
      para_end = line_end;
      while (para_end > para && is_ascii_space(text[para_end - 1])) --para_end;
    }
    pos = line_end + 1;
  }
  if (para != std::string_view::npos) add_sentences(text, para, para_end, atoms);
  return atoms.take();
}

// Code atoms are lines with their indentation; a line after a blank line
// starts a block.
std::vector<Atom> code_atoms(std::string_view text, size_t target) {
  Atomizer atoms(text, target);
  Strength strength = kParagraph;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t line_end;
    if (line_is_blank(text, pos, &line_end)) {
      strength = kParagraph;
    } else {
      size_t content_end = line_end;
      while (is_ascii_space(text[content_end - 1])) --content_end;
      atoms.add_unit(pos, content_end, strength);
      strength = kSentence;
    }
    pos = line_end + 1;
  }
  return atoms.take();
}

inline size_t span(const std::vector<Atom>& atoms, size_t first, size_t last) {
  return atoms[last].cp_end - atoms[first].cp_start;
}

// Picks the atom that starts the next chunk, for a chunk of atoms
// [first, next): the earliest one such that the repeated tail stays within
// the overlap and the next chunk can still take atom `next`.
size_t overlap_start(const std::vector<Atom>& atoms, size_t first, size_t next,
                     const ChunkOptions& options) {
  size_t j = next;
  while (j - 1 > first && span(atoms, j - 1, next - 1) <= options.overlap_chars &&
         span(atoms, j - 1, next) <= options.target_chars) {
    --j;
  }
  return j;
}

// Chooses where the chunk starting at atom `first` ends (one past its last
// atom): as many atoms as fit, cut back to the last paragraph or sentence
// break when that keeps at least half the target.
size_t chunk_end(const std::vector<Atom>& atoms, size_t first, const ChunkOptions& options) {
  size_t last = first;
  while (last + 1 < atoms.size() && span(atoms, first, last + 1) <= options.target_chars) ++last;
  if (last + 1 == atoms.size()) return atoms.size();
  const size_t half = options.target_chars / 2;
  for (Strength wanted : {kParagraph, kSentence}) {
    for (size_t m = last + 1; m > first + 1; --m) {
      if (span(atoms, first, m - 1) < half) break;
      if (atoms[m].strength >= wanted) return m;
    }
  }
  return last + 1;
}

void validate(const ChunkOptions& options) {
  if (options.target_chars == 0) throw Error("chunk options: target_chars must be > 0");
  if (options.overlap_chars >= options.target_chars) {
    throw Error("chunk options: overlap_chars (" + std::to_string(options.overlap_chars) +
                ") must be smaller than target_chars (" + std::to_string(options.target_chars) +
                ")");
  }
}

}  // namespace

ChunkOptions ChunkOptions::for_kind(Kind kind) {
  ChunkOptions options;
  options.kind = kind;
  switch (kind) {
    case Kind::kArticle:
      options.target_chars = 1000;
      options.overlap_chars = 150;
      break;
    case Kind::kPost:
      options.target_chars = 400;
      options.overlap_chars = 50;
      break;
    case Kind::kCode:
      options.target_chars = 1500;
      options.overlap_chars = 100;
      break;
  }
  return options;
}

std::vector<Chunk> chunk_text(std::string_view cleaned, const ChunkOptions& options) {
  validate(options);
  const std::vector<Atom> atoms = options.kind == TextKind::kCode
                                      ? code_atoms(cleaned, options.target_chars)
                                      : prose_atoms(cleaned, options.target_chars);
  std::vector<Chunk> chunks;
  size_t first = 0;
  while (first < atoms.size()) {
    const size_t next = chunk_end(atoms, first, options);
    Chunk chunk;
    chunk.start = chunks.empty() ? 0 : atoms[first].start;
    chunk.end = next == atoms.size() ? cleaned.size() : atoms[next - 1].end;
    chunk.position = static_cast<int>(chunks.size());
    // The whitespace between two chunks that do not overlap goes to the
    // earlier one, so that the chunks cover the whole text.
    if (!chunks.empty() && chunks.back().end < chunk.start) chunks.back().end = chunk.start;
    chunks.push_back(std::move(chunk));
    if (next == atoms.size()) break;
    first = overlap_start(atoms, first, next, options);
  }
  for (Chunk& chunk : chunks)
    chunk.text = std::string(cleaned.substr(chunk.start, chunk.end - chunk.start));
  return chunks;
}

}  // namespace twinflow
