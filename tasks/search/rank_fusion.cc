// reciprocal_rank_fusion: collect each id's ranks, score, keep the best k;
// see rank_fusion.h.
#include "tasks/search/rank_fusion.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <unordered_map>

#include "util/error.h"

namespace twinflow {

namespace {

// Every id of every list, with its rank in each list.
std::vector<FusedHit> collect_ranks(const std::vector<std::vector<int64_t>>& rankings) {
  std::vector<FusedHit> hits;
  std::unordered_map<int64_t, size_t> position_of;
  for (size_t list = 0; list < rankings.size(); ++list) {
    for (size_t position = 0; position < rankings[list].size(); ++position) {
      const int64_t id = rankings[list][position];
      const auto [it, inserted] = position_of.emplace(id, hits.size());
      if (inserted) hits.push_back(FusedHit{id, 0, std::vector<size_t>(rankings.size(), 0)});
      size_t& rank = hits[it->second].ranks[list];
      if (rank == 0) rank = position + 1;  // a repeat within a list does not count
    }
  }
  return hits;
}

// Σ 1/(k_rrf + rank), summed from the best rank down, so the order of the
// lists cannot change the rounding.
double fused_score(const std::vector<size_t>& ranks, double k_rrf) {
  std::vector<size_t> present;
  for (size_t rank : ranks) {
    if (rank != 0) present.push_back(rank);
  }
  std::sort(present.begin(), present.end());
  double score = 0;
  for (size_t rank : present) score += 1.0 / (k_rrf + static_cast<double>(rank));
  return score;
}

bool fuses_before(const FusedHit& a, const FusedHit& b) {
  return a.score != b.score ? a.score > b.score : a.id < b.id;
}

}  // namespace

std::vector<FusedHit> reciprocal_rank_fusion(const std::vector<std::vector<int64_t>>& rankings,
                                             size_t k, double k_rrf) {
  if (!(k_rrf >= 0) || std::isinf(k_rrf)) {
    throw Error("reciprocal rank fusion: k_rrf must be a finite number >= 0, got " +
                std::to_string(k_rrf));
  }
  std::vector<FusedHit> hits = collect_ranks(rankings);
  for (FusedHit& hit : hits) hit.score = fused_score(hit.ranks, k_rrf);
  k = std::min(k, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + k, hits.end(), fuses_before);
  hits.resize(k);
  return hits;
}

FusionMethod parse_fusion_method(const std::string& name) {
  if (name == "rrf") return FusionMethod::kReciprocalRank;
  if (name == "score") return FusionMethod::kScore;
  throw Error("unknown fusion method '" + name + "': use rrf or score");
}

const char* fusion_method_name(FusionMethod method) {
  return method == FusionMethod::kScore ? "score" : "rrf";
}

void validate(const FusionParams& p) {
  if (!(p.k_rrf >= 0) || std::isinf(p.k_rrf))
    throw Error("fusion: k_rrf must be a finite number >= 0, got " + std::to_string(p.k_rrf));
  for (const auto& [name, w] :
       {std::pair{"vector_weight", p.vector_weight}, std::pair{"text_weight", p.text_weight}}) {
    if (!(w >= 0) || std::isinf(w))
      throw Error(std::string("fusion: ") + name + " must be a finite number >= 0, got " +
                  std::to_string(w));
  }
  if (p.vector_weight == 0 && p.text_weight == 0)
    throw Error("fusion: vector_weight and text_weight cannot both be 0");
}

std::vector<FusedHit> fuse_rankings(const std::vector<ScoredList>& lists, FusionMethod method,
                                    size_t k, double k_rrf) {
  if (!(k_rrf >= 0) || std::isinf(k_rrf)) {
    throw Error("rank fusion: k_rrf must be a finite number >= 0, got " + std::to_string(k_rrf));
  }
  std::vector<std::vector<int64_t>> rankings(lists.size());
  for (size_t i = 0; i < lists.size(); ++i)
    for (const auto& hit : lists[i].hits) rankings[i].push_back(hit.first);
  std::vector<FusedHit> hits = collect_ranks(rankings);
  // Each list's normalised score per rank (kScore).
  std::vector<std::vector<double>> normalised(lists.size());
  for (size_t i = 0; i < lists.size(); ++i) {
    double low = 0, high = 0;
    for (size_t r = 0; r < lists[i].hits.size(); ++r) {
      const double s = lists[i].hits[r].second;
      low = r == 0 ? s : std::min(low, s);
      high = r == 0 ? s : std::max(high, s);
    }
    for (const auto& hit : lists[i].hits)
      normalised[i].push_back(high > low ? (hit.second - low) / (high - low) : 1.0);
  }
  for (FusedHit& hit : hits) {
    // Summed in a canonical order (by contribution), as in fused_score.
    std::vector<double> parts;
    for (size_t i = 0; i < lists.size(); ++i) {
      const size_t rank = hit.ranks[i];
      if (rank == 0 || lists[i].weight == 0) continue;
      parts.push_back(method == FusionMethod::kScore
                          ? lists[i].weight * normalised[i][rank - 1]
                          : lists[i].weight / (k_rrf + static_cast<double>(rank)));
    }
    std::sort(parts.begin(), parts.end(), std::greater<>());
    for (double part : parts) hit.score += part;
  }
  k = std::min(k, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + k, hits.end(), fuses_before);
  hits.resize(k);
  return hits;
}

}  // namespace twinflow
