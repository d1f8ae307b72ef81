// Tests for tasks/search/rank_fusion.h: scores follow Σ 1/(k_rrf + rank), an
// id found by two retrievers beats one found by one, per-list ranks are kept,
// ties are broken by id whatever the list order, repeats within a list count
// once, and k truncates.
#include "tasks/search/rank_fusion.h"

#include <gtest/gtest.h>

#include <vector>

#include "util/error.h"

namespace twinflow {
namespace {

std::vector<int64_t> ids_of(const std::vector<FusedHit>& hits) {
  std::vector<int64_t> ids;
  for (const auto& hit : hits) ids.push_back(hit.id);
  return ids;
}

TEST(RankFusion, ScoresAreSumsOfReciprocalRanks) {
  const auto hits = reciprocal_rank_fusion({{10, 20, 30}, {30, 40}}, 10, 60);
  ASSERT_EQ(hits.size(), 4u);
  EXPECT_EQ(hits[0].id, 30);  // 1/63 + 1/61 beats 1/61 alone
  EXPECT_DOUBLE_EQ(hits[0].score, 1.0 / 61 + 1.0 / 63);
  EXPECT_EQ(hits[0].ranks, (std::vector<size_t>{3, 1}));
  EXPECT_EQ(ids_of(hits), (std::vector<int64_t>{30, 10, 20, 40}));
  EXPECT_EQ(hits[3].ranks, (std::vector<size_t>{0, 2}));
  EXPECT_DOUBLE_EQ(hits[3].score, 1.0 / 62);
}

TEST(RankFusion, SmallKRrfFavoursTopRanks) {
  // With k_rrf = 0, a first place (1) beats a second and a third place
  // (1/2 + 1/3); with the usual 60, agreement between the lists wins.
  const std::vector<std::vector<int64_t>> lists = {{1, 2, 3}, {4, 5, 2}};
  EXPECT_EQ(reciprocal_rank_fusion(lists, 1, 0)[0].id, 1);
  EXPECT_EQ(reciprocal_rank_fusion(lists, 1, 60)[0].id, 2);
}

TEST(RankFusion, TiesAreBrokenByIdWhateverTheListOrder) {
  // 9 holds ranks 1, 2, 7 and 5 holds 7, 1, 2: equal scores, although summed
  // list by list, (1/61 + 1/62) + 1/67 and (1/67 + 1/61) + 1/62, they would
  // differ in the last bit. So the lower id leads, in any list order.
  const std::vector<std::vector<int64_t>> lists = {
      {9, 11, 12, 13, 14, 15, 5}, {5, 9}, {21, 5, 22, 23, 24, 25, 9}};
  const std::vector<std::vector<int64_t>> reordered = {lists[2], lists[0], lists[1]};
  for (const auto& input : {lists, reordered}) {
    const auto hits = reciprocal_rank_fusion(input, 3);
    ASSERT_EQ(hits.size(), 3u);
    EXPECT_EQ(ids_of(hits), (std::vector<int64_t>{5, 9, 21}));
    EXPECT_EQ(hits[0].score, hits[1].score);
  }
}

TEST(RankFusion, RepeatsWithinAListCountOnce) {
  const auto hits = reciprocal_rank_fusion({{3, 3, 4}}, 10);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].ranks, (std::vector<size_t>{1}));
  EXPECT_DOUBLE_EQ(hits[0].score, 1.0 / 61);
  EXPECT_EQ(hits[1].ranks, (std::vector<size_t>{3}));
}

TEST(RankFusion, KTruncatesAndEmptyInputsGiveNothing) {
  EXPECT_EQ(ids_of(reciprocal_rank_fusion({{1, 2, 3, 4}}, 2)), (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(reciprocal_rank_fusion({}, 5).empty());
  EXPECT_TRUE(reciprocal_rank_fusion({{}, {}}, 5).empty());
  EXPECT_TRUE(reciprocal_rank_fusion({{1}}, 0).empty());
}

TEST(RankFusion, RejectsNegativeKRrf) {
  EXPECT_THROW(reciprocal_rank_fusion({{1}}, 1, -1), Error);
}

TEST(RankFusion, WeightedReciprocalRanks) {
  // Weights 1 and 3: w / (60 + rank) per list.
  const std::vector<ScoredList> lists = {{{{1, 0.9}, {2, 0.8}}, 1}, {{{2, 7.0}, {3, 5.0}}, 3}};
  const auto hits = fuse_rankings(lists, FusionMethod::kReciprocalRank, 10, 60);
  ASSERT_EQ(ids_of(hits), (std::vector<int64_t>{2, 3, 1}));
  EXPECT_DOUBLE_EQ(hits[0].score, 3.0 / 61 + 1.0 / 62);
  EXPECT_DOUBLE_EQ(hits[1].score, 3.0 / 62);
  EXPECT_DOUBLE_EQ(hits[2].score, 1.0 / 61);
  EXPECT_EQ(hits[0].ranks, (std::vector<size_t>{2, 1}));
}

TEST(RankFusion, ScoreFusionNormalisesEachList) {
  // List 1 scores 10, 6, 2 -> 1, 0.5, 0; list 2 scores 0.9, 0.3 -> 1, 0.
  const std::vector<ScoredList> lists = {{{{1, 10}, {2, 6}, {3, 2}}, 1}, {{{3, 0.9}, {2, 0.3}}, 1}};
  const auto hits = fuse_rankings(lists, FusionMethod::kScore, 10);
  ASSERT_EQ(ids_of(hits), (std::vector<int64_t>{1, 3, 2}));
  EXPECT_DOUBLE_EQ(hits[0].score, 1.0);
  EXPECT_DOUBLE_EQ(hits[1].score, 1.0);  // 0 + 1: a tie, broken by id
  EXPECT_DOUBLE_EQ(hits[2].score, 0.5);
  // A list whose scores are all equal counts 1 for each of its ids; weight 0
  // keeps only the ranks.
  const auto flat = fuse_rankings({{{{5, 2}, {6, 2}}, 1}, {{{6, 9}}, 0}}, FusionMethod::kScore, 10);
  ASSERT_EQ(flat.size(), 2u);
  EXPECT_DOUBLE_EQ(flat[0].score, 1.0);
  EXPECT_EQ(flat[1].ranks, (std::vector<size_t>{2, 1}));
}

TEST(RankFusion, FusionParamsAreValidated) {
  EXPECT_NO_THROW(validate(FusionParams{}));
  EXPECT_THROW(validate(FusionParams{FusionMethod::kScore, -1, 1, 1}), Error);
  EXPECT_THROW(validate(FusionParams{FusionMethod::kScore, 60, -1, 1}), Error);
  EXPECT_THROW(validate(FusionParams{FusionMethod::kScore, 60, 0, 0}), Error);
  EXPECT_EQ(parse_fusion_method("score"), FusionMethod::kScore);
  EXPECT_THROW(parse_fusion_method("max"), Error);
}

}  // namespace
}  // namespace twinflow
