// Records of text retrieval: the Okapi BM25F parameters a search takes and
// what the store's ranking returns (store/store_search.cc, migration 0012).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace twinflow {

// BM25F over two fields of a chunk, its body and its document's title:
//   tf~(t, c) = tf_body / (1 - b + b·len_body/avg_body)
//             + title_weight · tf_title / (1 - b + b·len_title/avg_title)
//   score(c)  = Σ_t w(t) · idf(t) · tf~·(k1 + 1) / (k1 + tf~)
//   idf(t)    = ln(1 + (N - df + 0.5) / (df + 0.5))
// w(t) is the term's weight in the query: the times it occurs there, or the
// weight query expansion gave it (tasks/search/query_expansion.h).
// N, df and the average lengths are over the searchable chunks (current
// chunks of latest documents) in the search's scope (author, kind,
// platform). The defaults are the textbook ones (Robertson & Zaragoza 2009;
// Lucene's): k1 1.2, b 0.75; a title word counts twice a body word, the usual
// small field boost, not fitted to any collection.
struct Bm25Params {
  double k1 = 1.2;            // term-frequency saturation, >= 0
  double b = 0.75;            // length normalisation, [0, 1]
  double title_weight = 2.0;  // weight of the title field against the body's 1, >= 0
};

// Throws Error naming the parameter when one is out of range.
void validate(const Bm25Params& params);

// A lexeme of a query (PostgreSQL `english` analysis) and its weight w(t).
struct Bm25QueryTerm {
  std::string lexeme;
  double weight = 1;  // > 0
  // The term is not scored when it is in more than this share of the
  // searchable chunks in scope (an expansion word too common to be worth its
  // postings); 1: always scored. (0, 1].
  double max_share = 1;
};

// A query lexeme and its statistics.
struct Bm25Term {
  std::string lexeme;
  double weight = 0;   // w(t): times in the query, or its expansion weight
  int64_t chunks = 0;  // df: searchable chunks in scope that contain it
  double idf = 0;
};

struct Bm25Hit {
  int64_t id = 0;
  double score = 0;
  std::map<std::string, double> terms;  // lexeme -> its part of the score
};

struct Bm25Result {
  int64_t chunks = 0;  // N: searchable chunks in scope
  // Every lexeme of the query, in the analyzer's (alphabetical) order; an
  // empty list means the query had no word left after analysis (only stop
  // words or punctuation). Lexemes with chunks == 0 match nothing.
  std::vector<Bm25Term> terms;
  // Lexemes that were scored: those with chunks > 0, the rarest
  // kMaxScoredTerms of them when the query has more.
  size_t scored_terms = 0;
  std::vector<Bm25Hit> hits;  // best first; equal scores by ascending id
};

// Where searches keep the postings they read for the next ones
// (store/bm25_postings_cache.h).
class Bm25PostingsCache;

// A query's lexemes beyond this many (the most frequent ones) are not
// scored: they would add little and cost a scan each.
constexpr size_t kMaxScoredTerms = 256;

}  // namespace twinflow
