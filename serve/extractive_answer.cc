// Extractive answers: see extractive_answer.h.
#include "serve/extractive_answer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>

#include "tasks/embed/tokenizer.h"
#include "util/strings.h"

namespace twinflow {
namespace {

// Words after which a period does not end a sentence.
bool is_abbreviation(std::string_view word) {
  static const std::set<std::string_view> kAbbreviations = {
      "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "cf", "fig", "no", "approx"};
  std::string lower(word);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.size() == 1 && std::isalpha(static_cast<unsigned char>(lower[0]))) return true;
  return kAbbreviations.count(lower) > 0;
}

bool ends_a_sentence(std::string_view s) {
  while (!s.empty() && (s.back() == '"' || s.back() == '\'' || s.back() == ')')) s.remove_suffix(1);
  return !s.empty() && (s.back() == '.' || s.back() == '!' || s.back() == '?');
}

// The sentences of one line: cut after . ! ? (and closing quotes) before a
// space, unless the word before a period is an abbreviation or a number.
void split_line(std::string_view line, std::vector<std::string_view>& out) {
  size_t start = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c != '.' && c != '!' && c != '?') continue;
    size_t end = i + 1;
    while (end < line.size() && (line[end] == '"' || line[end] == '\'' || line[end] == ')')) ++end;
    if (end < line.size() && !is_ascii_space(line[end])) continue;
    if (c == '.') {
      size_t word_start = i;
      while (word_start > start && !is_ascii_space(line[word_start - 1])) --word_start;
      const std::string_view word = line.substr(word_start, i - word_start);
      if (is_abbreviation(word)) continue;
    }
    out.push_back(line.substr(start, end - start));
    start = end;
  }
  if (start < line.size()) out.push_back(line.substr(start));
}

using TermCounts = std::unordered_map<std::string, double>;

TermCounts count_terms(const Tokenizer& tokenizer, std::string_view text) {
  TermCounts counts;
  tokenizer.for_each_term(text, [&](std::string_view term) { counts[std::string(term)] += 1; });
  return counts;
}

double norm(const TermCounts& v) {
  double sum = 0;
  for (const auto& [term, n] : v) sum += n * n;
  return std::sqrt(sum);
}

double cosine(const TermCounts& a, const TermCounts& b) {
  const double na = norm(a), nb = norm(b);
  if (na == 0 || nb == 0) return 0;
  const TermCounts& small = a.size() < b.size() ? a : b;
  const TermCounts& large = a.size() < b.size() ? b : a;
  double dot = 0;
  for (const auto& [term, n] : small) {
    auto it = large.find(term);
    if (it != large.end()) dot += n * it->second;
  }
  return dot / (na * nb);
}

struct Candidate {
  std::string text;
  int source = 0;
  size_t passage_rank = 0;  // 0-based order of its passage
  TermCounts terms;
  double length = 0;  // number of terms
  double relevance = 0;
};

// Okapi BM25 of the query's terms over the candidates, times a prior that
// slightly prefers passages the retriever ranked higher.
void score(std::vector<Candidate>& candidates, const TermCounts& query) {
  constexpr double k1 = 1.2, b = 0.75;
  double total_length = 0;
  std::map<std::string, double> document_frequency;
  for (const auto& c : candidates) {
    total_length += c.length;
    for (const auto& [term, n] : query)
      if (c.terms.count(term)) document_frequency[term] += 1;
  }
  const double count = static_cast<double>(candidates.size());
  const double average_length = count > 0 ? std::max(1.0, total_length / count) : 1.0;
  for (auto& c : candidates) {
    double sum = 0;
    for (const auto& [term, query_count] : query) {
      auto it = c.terms.find(term);
      if (it == c.terms.end()) continue;
      const double df = document_frequency[term];
      const double idf = std::log(1 + (count - df + 0.5) / (df + 0.5));
      const double tf = it->second;
      sum +=
          query_count * idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * c.length / average_length));
    }
    c.relevance = sum / (1 + 0.1 * static_cast<double>(c.passage_rank));
  }
}

}  // namespace

std::vector<std::string> split_sentences(const std::string& text, size_t min_chars,
                                         size_t max_chars) {
  std::vector<std::string_view> pieces;
  size_t line_start = 0;
  while (line_start <= text.size()) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) line_end = text.size();
    split_line(std::string_view(text).substr(line_start, line_end - line_start), pieces);
    line_start = line_end + 1;
  }
  std::vector<std::string> sentences;
  for (std::string_view piece : pieces) {
    piece = trim(piece);
    if (piece.size() < min_chars || piece.size() > max_chars || !ends_a_sentence(piece)) continue;
    sentences.emplace_back(piece);
  }
  return sentences;
}

ExtractiveAnswer extractive_answer(const std::string& query,
                                   const std::vector<ExtractivePassage>& passages,
                                   const ExtractiveOptions& options) {
  const Tokenizer tokenizer(TokenizerOptions{.bigrams = false});
  std::vector<Candidate> candidates;
  std::set<std::string> seen;  // the same sentence in two chunks is one candidate
  size_t rank = 0;
  for (const auto& passage : passages) {
    if (passage.is_code) continue;
    for (auto& sentence :
         split_sentences(passage.text, options.min_sentence_chars, options.max_sentence_chars)) {
      if (!seen.insert(sentence).second) continue;
      Candidate c;
      c.terms = count_terms(tokenizer, sentence);
      for (const auto& [term, n] : c.terms) c.length += n;
      c.text = std::move(sentence);
      c.source = passage.source;
      c.passage_rank = rank;
      candidates.push_back(std::move(c));
    }
    ++rank;
  }
  ExtractiveAnswer answer;
  if (candidates.empty()) return answer;
  score(candidates, count_terms(tokenizer, query));

  std::vector<const Candidate*> picked;
  size_t chars = 0;
  std::vector<bool> used(candidates.size(), false);
  const double best_relevance =
      std::max_element(candidates.begin(), candidates.end(), [](const auto& x, const auto& y) {
        return x.relevance < y.relevance;
      })->relevance;
  while (picked.size() < options.max_sentences && best_relevance > 0) {
    int best = -1;
    double best_value = 0;
    for (size_t i = 0; i < candidates.size(); ++i) {
      const Candidate& c = candidates[i];
      if (used[i] || c.relevance <= 0) continue;
      if (!picked.empty() && chars + c.text.size() > options.max_chars) continue;
      double similarity = 0;
      for (const Candidate* p : picked)
        similarity = std::max(similarity, cosine(c.terms, p->terms));
      if (similarity > options.max_similarity) continue;
      const double value = c.relevance / best_relevance - options.redundancy_weight * similarity;
      if (best < 0 || value > best_value) {
        best = static_cast<int>(i);
        best_value = value;
      }
    }
    if (best < 0) break;
    used[static_cast<size_t>(best)] = true;
    picked.push_back(&candidates[static_cast<size_t>(best)]);
    chars += picked.back()->text.size();
  }
  if (picked.empty()) picked.push_back(&candidates.front());  // nothing matched: the top passage
  for (const Candidate* c : picked) {
    if (!answer.text.empty()) answer.text += ' ';
    answer.text += c->text + " [" + std::to_string(c->source) + "]";
    answer.sentences.push_back({c->text, c->source, c->relevance});
  }
  return answer;
}

}  // namespace twinflow
