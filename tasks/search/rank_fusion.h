// reciprocal_rank_fusion: merges ranked result lists (vector search,
// PostgreSQL full-text search, ...) into one ranking.
//
// Reciprocal rank fusion (Cormack, Clarke & Büttcher 2009) scores each id by
// Σ 1 / (k_rrf + rank) over the lists it appears in, ranks counted from 1. It
// needs only ranks, not scores, so cosines and ts_rank values that live on
// different scales fuse without calibration, and an id found by several
// retrievers rises above one found by a single retriever. Each hit keeps its
// rank in every list, so a result page can explain why a chunk was chosen.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace twinflow {

struct FusedHit {
  int64_t id = 0;
  double score = 0;
  // ranks[i]: 1-based position of `id` in rankings[i], 0 when absent.
  std::vector<size_t> ranks;
};

// The best k ids of the fused ranking, highest score first; equal scores are
// ordered by ascending id. Within one list only an id's first (best) position
// counts. Ranks are summed in a canonical order, so ids with the same ranks
// (in whichever lists) get bit-identical scores. Throws Error unless
// k_rrf >= 0.
std::vector<FusedHit> reciprocal_rank_fusion(const std::vector<std::vector<int64_t>>& rankings,
                                             size_t k, double k_rrf = 60);

// Weighted fusion of scored rankings (a hybrid search's vector and text
// lists):
//  - kReciprocalRank: Σ w_i / (k_rrf + rank_i), the above with a weight per
//    list; only ranks count.
//  - kScore: Σ w_i · (s_i - min_i) / (max_i - min_i), each list's scores
//    min-max normalised over the list (1 when all are equal), 0 when absent:
//    how far apart the scores are counts, not only their order.
enum class FusionMethod { kReciprocalRank, kScore };

// "rrf" or "score"; throws Error otherwise.
FusionMethod parse_fusion_method(const std::string& name);
const char* fusion_method_name(FusionMethod method);

// The defaults (docs/STEPS.md): RRF with the k_rrf of its paper, both lists
// weighted alike. Weights are relative: only their ratio matters.
struct FusionParams {
  FusionMethod method = FusionMethod::kReciprocalRank;
  double k_rrf = 60;
  double vector_weight = 1;
  double text_weight = 1;
};

// Throws Error naming the parameter when one is out of range (k_rrf >= 0,
// weights >= 0 and finite, not both 0).
void validate(const FusionParams& params);

struct ScoredList {
  std::vector<std::pair<int64_t, double>> hits;  // best first
  double weight = 1;
};

// The best k ids of the fused lists, best first, equal scores by ascending
// id; ranks as in reciprocal_rank_fusion. A list of weight 0 only reports
// ranks. Throws Error unless k_rrf >= 0.
std::vector<FusedHit> fuse_rankings(const std::vector<ScoredList>& lists, FusionMethod method,
                                    size_t k, double k_rrf = 60);

}  // namespace twinflow
