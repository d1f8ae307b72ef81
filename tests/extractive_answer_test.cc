// Extractive answers (serve/extractive_answer.h): only sentences of the
// passages, each cited with its passage's number, the most relevant first,
// no near-repeats, no code.
#include "serve/extractive_answer.h"

#include <gtest/gtest.h>

namespace twinflow {
namespace {

TEST(SplitSentences, CutsAtEndPunctuationAndLineBreaksButNotAbbreviations) {
  const auto sentences = split_sentences(
      "Chunk by structure first, e.g. by headings. Then by size!\n"
      "Short.\nA heading without a stop\nIs it worth it? Mostly, says Dr. Who.",
      10, 400);
  ASSERT_EQ(sentences.size(), 4u);
  EXPECT_EQ(sentences[0], "Chunk by structure first, e.g. by headings.");
  EXPECT_EQ(sentences[1], "Then by size!");
  EXPECT_EQ(sentences[2], "Is it worth it?");
  EXPECT_EQ(sentences[3], "Mostly, says Dr. Who.");
}

TEST(ExtractiveAnswer, QuotesTheMostRelevantSentencesWithTheirSources) {
  const std::vector<ExtractivePassage> passages = {
      {1, "I bake bread every weekend. Sourdough needs patience."},
      {2,
       "Chunk documents by their headings before you embed them. "
       "Retrieval quality depends on chunk size more than on the embedding model."},
      {3, "def chunk(text): return text.split('. ')", true},
  };
  const auto answer = extractive_answer("how should I chunk documents for retrieval", passages);
  ASSERT_EQ(answer.sentences.size(), 2u);
  for (const auto& s : answer.sentences) {
    EXPECT_EQ(s.source, 2);
    EXPECT_NE(passages[1].text.find(s.text), std::string::npos) << s.text;
    EXPECT_GT(s.relevance, 0);
  }
  EXPECT_GE(answer.sentences[0].relevance, answer.sentences[1].relevance);
  EXPECT_EQ(answer.text, answer.sentences[0].text + " [2] " + answer.sentences[1].text + " [2]");
}

TEST(ExtractiveAnswer, LeavesOutNearRepeatsAndRespectsTheLimits) {
  const std::vector<ExtractivePassage> passages = {
      {1, "Embeddings map chunks of text to vectors for retrieval."},
      {2, "Embeddings map chunks of text to vectors for retrieval, mostly."},
      {3, "Vectors make retrieval of similar chunks fast with an index."},
  };
  ExtractiveOptions options;
  options.max_sentences = 5;
  const auto answer = extractive_answer("embeddings vectors retrieval chunks", passages, options);
  ASSERT_EQ(answer.sentences.size(), 2u);  // the near-copy in [2] is left out
  EXPECT_EQ(answer.sentences[0].source, 1);
  EXPECT_EQ(answer.sentences[1].source, 3);
  options.max_sentences = 1;
  EXPECT_EQ(
      extractive_answer("embeddings vectors retrieval chunks", passages, options).sentences.size(),
      1u);
}

TEST(ExtractiveAnswer, WithNoMatchingTermTheTopPassageLeadsAndWithNoProseNothing) {
  const std::vector<ExtractivePassage> passages = {
      {1, "Pipelines should be boring to operate. Boring is good."},
  };
  const auto fallback = extractive_answer("the of and", passages);
  ASSERT_EQ(fallback.sentences.size(), 1u);
  EXPECT_EQ(fallback.text, "Pipelines should be boring to operate. [1]");
  EXPECT_TRUE(extractive_answer("anything", {{1, "int main() {}", true}}).text.empty());
  EXPECT_TRUE(extractive_answer("anything", {}).sentences.empty());
}

}  // namespace
}  // namespace twinflow
