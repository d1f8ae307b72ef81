// Tests for tasks/search/query_expansion.h: RM3 weights equal hand-computed
// ones, only the first feedback_chunks chunks and the best feedback_terms
// lexemes count, stop words never enter, and without usable feedback the
// query comes back unchanged.
#include "tasks/search/query_expansion.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "util/error.h"

namespace twinflow {
namespace {

std::map<std::string, double> weights_of(const std::vector<Bm25QueryTerm>& terms) {
  std::map<std::string, double> out;
  for (const Bm25QueryTerm& t : terms) out[t.lexeme] = t.weight;
  return out;
}

TEST(QueryExpansion, WeightsEqualTheHandComputedOnes) {
  // Chunk A (score 2): wing 1/2, lift 1/2 -> wing 1, lift 1.
  // Chunk B (score 1): lift 1/3, drag 2/3 -> lift 1/3, drag 2/3.
  // RM: lift 4/3, wing 1, drag 2/3; two kept: lift and wing, sum 7/3.
  // λ 0.5: wing 0.5·1 + 0.5·(1 / (7/3)) = 0.5 + 3/14; lift 0.5·(4/3)/(7/3) = 2/7.
  ExpansionParams params;
  params.feedback_terms = 2;
  const auto w = weights_of(
      expand_query({{"wing", 1}}, {{2.0, "Wings lift.", ""}, {1.0, "lift drag drag", ""}}, params));
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NEAR(w.at("wing"), 0.5 + 3.0 / 14, 1e-12);
  EXPECT_NEAR(w.at("lift"), 2.0 / 7, 1e-12);
}

TEST(QueryExpansion, OnlyAddedWordsMayBeTooCommonToScore) {
  ExpansionParams params;
  params.max_share = 0.2;
  for (const Bm25QueryTerm& t : expand_query({{"wing", 1}}, {{1.0, "wing lift", ""}}, params))
    EXPECT_EQ(t.max_share, t.lexeme == "wing" ? 1.0 : 0.2) << t.lexeme;
}

TEST(QueryExpansion, TheRelevanceModelIsOrderedByWeightThenAlphabetically) {
  const std::vector<Bm25QueryTerm> model =
      relevance_model({{3.0, "drag lift lift", ""}, {1.0, "wing", ""}}, {});
  ASSERT_EQ(model.size(), 3u);
  EXPECT_EQ(model[0].lexeme, "lift");  // 2/3 · 3
  EXPECT_NEAR(model[0].weight, 2.0, 1e-12);
  EXPECT_EQ(model[1].lexeme, "drag");  // 1/3 · 3 = 1, tied with wing's 1 · 1
  EXPECT_EQ(model[2].lexeme, "wing");
}

TEST(QueryExpansion, OnlyTheFirstFeedbackChunksAreRead) {
  ExpansionParams params;
  params.feedback_chunks = 1;
  const auto w =
      weights_of(expand_query({{"wing", 1}}, {{2.0, "wing lift", ""}, {1.0, "drag", ""}}, params));
  EXPECT_EQ(w.count("drag"), 0u);
  EXPECT_NEAR(w.at("lift"), 0.25, 1e-12);  // 0.5 · (1 / 2)
  EXPECT_NEAR(w.at("wing"), 0.75, 1e-12);
}

TEST(QueryExpansion, StopWordsNeverEnterAndOriginalWeightMixes) {
  ExpansionParams params;
  params.original_weight = 0;
  const auto only_model =
      weights_of(expand_query({{"wing", 1}}, {{1.0, "the the the of flutter", ""}}, params));
  ASSERT_EQ(only_model.size(), 1u);  // the original word has no share at λ = 0
  EXPECT_NEAR(only_model.at("flutter"), 1.0, 1e-12);

  params.original_weight = 1;
  EXPECT_EQ(weights_of(expand_query({{"wing", 2}}, {{1.0, "flutter", ""}}, params)),
            (std::map<std::string, double>{{"wing", 2}}));
}

TEST(QueryExpansion, WithoutUsableFeedbackTheQueryIsUnchanged) {
  const std::vector<Bm25QueryTerm> query = {{"wing", 1}, {"lift", 2}};
  const std::map<std::string, double> same = {{"lift", 2}, {"wing", 1}};
  EXPECT_EQ(weights_of(expand_query(query, std::vector<FeedbackChunk>{}, {})), same);
  EXPECT_EQ(weights_of(expand_query(query, {{0.0, "drag", ""}}, {})), same);  // no positive score
  EXPECT_EQ(weights_of(expand_query(query, {{1.0, "the of and", ""}}, {})), same);
  ExpansionParams off;
  off.feedback_chunks = 0;
  EXPECT_EQ(weights_of(expand_query(query, {{1.0, "drag", ""}}, off)), same);
}

TEST(QueryExpansion, RocchioMovesTheVectorQueryTowardsTheFeedback) {
  // (1, 0) + 0.5 · mean((0, 1), (0, 1)) = (1, 0.5), normalised.
  std::vector<float> q = {1, 0};
  move_towards(q, {0, 1, 0, 1}, 0.5);
  EXPECT_NEAR(q[0], 1 / std::sqrt(1.25), 1e-6);
  EXPECT_NEAR(q[1], 0.5 / std::sqrt(1.25), 1e-6);
  std::vector<float> zero = {0, 0};  // a query the model knows nothing of stays so
  move_towards(zero, {0, 1}, 0.5);
  EXPECT_EQ(zero, (std::vector<float>{0, 0}));
}

TEST(QueryExpansion, ParametersOutOfRangeAreRefused) {
  ExpansionParams p;
  p.feedback_chunks = -1;
  EXPECT_THROW(validate(p), Error);
  p = {};
  p.feedback_terms = 0;
  EXPECT_THROW(validate(p), Error);
  p = {};
  p.original_weight = 1.5;
  EXPECT_THROW(validate(p), Error);
  p = {};
  p.max_share = 0;
  EXPECT_THROW(validate(p), Error);
  EXPECT_NO_THROW(validate(ExpansionParams{}));
}

}  // namespace
}  // namespace twinflow
