// RM3 query expansion. See query_expansion.h.
#include "tasks/search/query_expansion.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "store/english_analyzer.h"
#include "util/error.h"

namespace twinflow {

void validate(const ExpansionParams& p) {
  if (p.feedback_chunks < 0 || p.feedback_chunks > 1000)
    throw Error("feedback_chunks must be between 0 and 1000, got " +
                std::to_string(p.feedback_chunks));
  if (p.feedback_terms < 1 || p.feedback_terms > 1000)
    throw Error("feedback_terms must be between 1 and 1000, got " +
                std::to_string(p.feedback_terms));
  if (!(p.original_weight >= 0 && p.original_weight <= 1))
    throw Error("original_weight must be between 0 and 1, got " +
                std::to_string(p.original_weight));
  if (!(p.max_share > 0 && p.max_share <= 1))
    throw Error("max_share must be > 0 and at most 1, got " + std::to_string(p.max_share));
  if (!(p.vector_feedback_weight >= 0) || !std::isfinite(p.vector_feedback_weight))
    throw Error("vector_feedback_weight must be a finite number >= 0, got " +
                std::to_string(p.vector_feedback_weight));
}

std::vector<Bm25QueryTerm> relevance_model(const std::vector<FeedbackChunk>& feedback,
                                           const ExpansionParams& params) {
  validate(params);
  std::map<std::string, double> model;
  const size_t n = std::min(feedback.size(), static_cast<size_t>(params.feedback_chunks));
  for (size_t i = 0; i < n; ++i) {
    if (!(feedback[i].score > 0)) continue;
    const SearchTerms terms = search_terms(feedback[i].text);  // as chunks are counted
    terms.each([&](std::string_view lexeme, int frequency) {
      model[std::string(lexeme)] +=
          static_cast<double>(frequency) / terms.length * feedback[i].score;
    });
  }
  std::vector<Bm25QueryTerm> out;
  for (auto& [lexeme, weight] : model) out.push_back({lexeme, weight});
  std::stable_sort(out.begin(), out.end(), [](const Bm25QueryTerm& a, const Bm25QueryTerm& b) {
    return a.weight > b.weight;  // ties stay alphabetical
  });
  return out;
}

std::vector<Bm25QueryTerm> expand_query(const std::vector<Bm25QueryTerm>& original,
                                        const std::vector<Bm25QueryTerm>& model,
                                        const ExpansionParams& params) {
  validate(params);
  std::map<std::string, double> query;
  double query_total = 0;
  for (const Bm25QueryTerm& t : original) {
    query[t.lexeme] += t.weight;
    query_total += t.weight;
  }
  std::vector<Bm25QueryTerm> kept;
  double model_total = 0;
  for (const Bm25QueryTerm& t : model) {
    if (kept.size() >= static_cast<size_t>(params.feedback_terms)) break;
    kept.push_back(t);
    model_total += t.weight;
  }
  const double lambda = params.original_weight;
  const bool mix = model_total > 0 && query_total > 0 && lambda < 1;
  std::map<std::string, double> mixed;
  for (const auto& [lexeme, weight] : query)
    mixed[lexeme] += mix ? lambda * weight / query_total : weight;
  if (mix)
    for (const Bm25QueryTerm& t : kept) mixed[t.lexeme] += (1 - lambda) * t.weight / model_total;
  std::vector<Bm25QueryTerm> out;
  for (const auto& [lexeme, weight] : mixed)
    if (weight > 0) out.push_back({lexeme, weight, query.count(lexeme) ? 1.0 : params.max_share});
  return out;
}

std::vector<Bm25QueryTerm> expand_query(const std::vector<Bm25QueryTerm>& original,
                                        const std::vector<FeedbackChunk>& feedback,
                                        const ExpansionParams& params) {
  return expand_query(original, relevance_model(feedback, params), params);
}

void move_towards(std::vector<float>& query, const std::vector<float>& rows, double beta) {
  const size_t d = query.size();
  if (d == 0 || rows.size() < d || !(beta > 0) ||
      std::all_of(query.begin(), query.end(), [](float x) { return x == 0.0f; }))
    return;
  const size_t n = rows.size() / d;
  for (size_t i = 0; i < d; ++i) {
    double sum = 0;
    for (size_t r = 0; r < n; ++r) sum += rows[r * d + i];
    query[i] += static_cast<float>(beta * sum / static_cast<double>(n));
  }
  double norm = 0;
  for (float x : query) norm += static_cast<double>(x) * x;
  if (norm > 0)
    for (float& x : query) x = static_cast<float>(x / std::sqrt(norm));
}

}  // namespace twinflow
