// Query expansion by pseudo-relevance feedback: the best chunks of a first
// text ranking are read as relevant, the words they share are added to the
// query, and the text ranking is run again with the weighted query (RM3). A
// hybrid search also moves its vector query towards the expanded ranking's
// best chunks (Rocchio: the query's embedding plus β times the mean of
// theirs, normalised); the Retriever does that part (retriever.cc).
//
// RM3 (Lavrenko & Croft 2001; Abdul-Jaleel et al. 2004, as Anserini and
// Lucene's query-expansion modules compute it):
//   P(t|D)  = tf(t, D) / |D|                    over each feedback chunk D
//   RM(t)  ∝ Σ_D P(t|D) · score(D)              score: D's first-pass BM25F
//   keep the feedback_terms lexemes of highest RM(t), normalised to sum 1
//   w(t)    = λ · qtf(t) / Σ qtf + (1 - λ) · RM(t),   λ = original_weight
// The feedback chunks are analysed as chunks are (english_analyzer.h), so
// stop words never enter the model.
//
// Pure: no database here (the Retriever reads the feedback chunks).
#pragma once

#include <string>
#include <vector>

#include "store/search_records.h"

namespace twinflow {

// The defaults (docs/STEPS.md) are textbook ones, not fitted to a
// collection: Anserini's RM3 (10 feedback chunks, 10 expansion lexemes,
// λ = 0.5) and Rocchio's β = 0.75 (SMART's α 1, β 0.75); max_share is a
// speed limit, its cost in quality measured there.
struct ExpansionParams {
  int feedback_chunks = 10;      // first-ranking chunks read as relevant; 0: no expansion
  int feedback_terms = 10;       // lexemes of the relevance model kept, >= 1
  double original_weight = 0.5;  // λ: the original query's share, [0, 1]
  // An added word in more than this share of the searchable chunks is left
  // out of the second ranking (Bm25QueryTerm::max_share): its idf is near 0,
  // so it barely moves a score, and its postings are the longest to read.
  // (0, 1]; the original words are always scored.
  double max_share = 0.1;
  // Hybrid: the mean embedding of the feedback chunks is added to the
  // query's with this weight (Rocchio's β), then normalised; 0: the query's
  // own embedding. >= 0.
  double vector_feedback_weight = 0.75;
};

// Throws Error naming the parameter when one is out of range
// (feedback_chunks in 0..1000, feedback_terms in 1..1000, original_weight in
// [0, 1], max_share in (0, 1], vector_feedback_weight finite and >= 0).
void validate(const ExpansionParams& params);

// One chunk of the first ranking: its score there, its text and its
// document's title (the vector side embeds both, as the embed step does).
struct FeedbackChunk {
  double score = 0;
  std::string text;
  std::string title;
};

// The relevance model of `feedback` (at most params.feedback_chunks of
// them, best first as given; chunks without a positive score are skipped):
// every lexeme with its RM weight, unnormalised, highest first, equal
// weights in alphabetical order.
std::vector<Bm25QueryTerm> relevance_model(const std::vector<FeedbackChunk>& feedback,
                                           const ExpansionParams& params);

// The expanded query: the original lexemes (weights = their counts in the
// query) mixed with the first params.feedback_terms lexemes of `model`; the
// added lexemes carry params.max_share, the original ones 1.
// Without a model lexeme, or at λ = 1, the original query comes back
// unchanged. Lexemes are returned in alphabetical order, each once.
std::vector<Bm25QueryTerm> expand_query(const std::vector<Bm25QueryTerm>& original,
                                        const std::vector<Bm25QueryTerm>& model,
                                        const ExpansionParams& params);

// The same with the relevance model of `feedback`.
std::vector<Bm25QueryTerm> expand_query(const std::vector<Bm25QueryTerm>& original,
                                        const std::vector<FeedbackChunk>& feedback,
                                        const ExpansionParams& params);

// Rocchio: `query` (a unit vector, or zero) becomes query + β · the mean of
// `rows` (row-major, query.size() floats each), normalised to unit length.
// A zero query, β = 0 or no rows leave it as it is.
void move_towards(std::vector<float>& query, const std::vector<float>& rows, double beta);

}  // namespace twinflow
