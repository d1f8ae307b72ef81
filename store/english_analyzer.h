// PostgreSQL 15's to_tsvector('english', text) in C++: the default text search
// parser (wparser_def.c, ported state by state) followed by the `english`
// configuration (english_stem Snowball dictionary with english.stop for word
// tokens, `simple` for numbers, hosts, URLs, e-mails, paths and versions),
// under a database with encoding UTF8 and lc_ctype C.UTF-8 (glibc classes and
// towlower). Several times faster than the server, so chunks can carry their
// tsvector literal and queries can be analysed without a round trip.
//
// Lexemes are sorted as a tsvector stores and prints them: byte order of the
// UTF-8 text (memcmp, a shorter prefix first) -- not by length first.
//
// Words are stemmed by util/english_stemmer.h (Snowball 2.2, the stemmer
// PostgreSQL 15 embeds). Thread-safe: each thread keeps its own stemmer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace twinflow {

// One lexeme of an analysed text: its positions (1-based word positions,
// ascending, at most 255 kept, each at most 16383 -- PostgreSQL's tsvector
// limits; to_tsvector keeps MAXNUMPOS - 1 = 255 positions per lexeme).
struct Lexeme {
  std::string text;
  std::vector<uint16_t> positions;
};

// PostgreSQL's to_tsvector('english', text): lexemes in tsvector order (byte
// order of text), each once. Stop words are dropped but consume a position;
// HTML tags, entities, blanks and protocol heads consume none; tokens of 2047
// bytes or more are dropped without a position, as PostgreSQL does (NOTICE
// "word is too long to be indexed"). Invalid UTF-8 bytes never crash: they
// separate words like punctuation (PostgreSQL rejects such text outright).
std::vector<Lexeme> analyze_english(std::string_view text);

// The text form of a tsvector ('word':1,4 'other':2): each lexeme quoted, with
// ' doubled and \ doubled, so `literal::tsvector` gives the same value and
// `::text` gives the literal back. An empty vector gives "".
std::string to_tsvector_literal(const std::vector<Lexeme>& lexemes);

// A text's analysis in the compact form the chunk writer keeps and counts
// (store/bm25_batch.h): about a fifth of the memory of the Lexeme vector.
struct SearchTerms {
  std::string lexemes;                // the lexemes in tsvector order, each followed by '\0'
  std::vector<uint16_t> frequencies;  // positions of each (at least 1)
  int length = 0;                     // analyzed_length

  // Calls visit(lexeme, frequency) for each lexeme, in order.
  template <typename Visit>
  void each(Visit&& visit) const {
    size_t start = 0;
    for (uint16_t frequency : frequencies) {
      const size_t end = lexemes.find('\0', start);
      visit(std::string_view(lexemes).substr(start, end - start), frequency);
      start = end + 1;
    }
  }
};
SearchTerms search_terms(std::string_view text);

// Number of word positions the analysis counts (sum of positions.size(), or 1
// for a lexeme without positions) -- what the SQL function
// twinflow_tsvector_length returns for the tsvector.
int analyzed_length(const std::vector<Lexeme>& lexemes);

}  // namespace twinflow
