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

}  // namespace twinflow
