// Tests for tasks/text/chunk.h: the coverage property (every byte of the text
// lands in a chunk, and each chunk is exactly its byte range), sizes and
// overlaps within their limits, breaks at paragraphs and sentences when
// possible and never inside a UTF-8 sequence, and short texts kept whole.
// Random documents come from fixed seeds, so failures reproduce.
#include "tasks/text/chunk.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tasks/text/clean.h"
#include "tasks/text/utf8.h"
#include "util/error.h"

namespace twinflow {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool has_content(std::string_view s) {
  return !trim(s).empty();
}

// The properties chunk_text promises, checked on any text.
void expect_chunk_properties(std::string_view text, const std::vector<Chunk>& chunks,
                             const ChunkOptions& options) {
  if (!has_content(text)) {
    EXPECT_TRUE(chunks.empty());
    return;
  }
  ASSERT_FALSE(chunks.empty());
  EXPECT_EQ(chunks.front().start, 0u);
  EXPECT_EQ(chunks.back().end, text.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    SCOPED_TRACE("chunk " + std::to_string(i));
    EXPECT_EQ(c.position, static_cast<int>(i));
    ASSERT_LT(c.start, c.end);
    ASSERT_LE(c.end, text.size());
    EXPECT_EQ(c.text, text.substr(c.start, c.end - c.start));
    EXPECT_FALSE(is_utf8_continuation(static_cast<unsigned char>(text[c.start])));
    if (c.end < text.size()) {
      EXPECT_FALSE(is_utf8_continuation(static_cast<unsigned char>(text[c.end])));
    }
    EXPECT_LE(utf8_length(trim(c.text)), options.target_chars);
    if (i == 0) continue;
    const Chunk& prev = chunks[i - 1];
    EXPECT_LE(c.start, prev.end) << "gap between chunks";
    EXPECT_GT(c.start, prev.start) << "no progress";
    EXPECT_GT(c.end, prev.end) << "no progress";
    if (options.kind != TextKind::kCode) {
      EXPECT_FALSE(is_space(text[c.start]));  // code chunks keep indentation
    }
    if (c.start < prev.end) {
      EXPECT_LE(utf8_length(text.substr(c.start, prev.end - c.start)), options.overlap_chars);
    }
  }
}

std::vector<Chunk> chunk_and_check(std::string_view text, const ChunkOptions& options) {
  std::vector<Chunk> chunks = chunk_text(text, options);
  expect_chunk_properties(text, chunks, options);
  return chunks;
}

// Random prose: paragraphs of sentences of words, some non-ASCII, some
// abbreviations, the odd line break and the odd enormous word.
std::string random_prose(uint32_t seed, size_t paragraphs) {
  std::mt19937 rng(seed);
  static const std::vector<std::string> kWords = {
      "the",       "author", "writes", "about",   "systems", "café", "naïve", "日本語の",
      "文章",      "and",    "Dr.",    "e.g.",    "3.5",     "data", "model", "“quoted”",
      "pipelines", "résumé", "€100",   "(aside)", "twin",    "Mr.",  "U.S.",  "—"};
  static const char* kEnds[] = {".", "!", "?", ".”", "。"};
  std::string out;
  for (size_t p = 0; p < paragraphs; ++p) {
    if (p > 0) out += rng() % 7 == 0 ? "\n\n\n" : "\n\n";
    const size_t sentences = 1 + rng() % 12;
    for (size_t s = 0; s < sentences; ++s) {
      if (s > 0) out += rng() % 9 == 0 ? "\n" : " ";
      const size_t words = 1 + rng() % 40;
      for (size_t w = 0; w < words; ++w) {
        if (w > 0) out += ' ';
        if (rng() % 400 == 0) {
          out += std::string(500 + rng() % 3000, 'x');  // a base64-like blob
        } else {
          out += kWords[rng() % kWords.size()];
        }
      }
      out += kEnds[rng() % 5];
    }
  }
  return out;
}

std::string random_code(uint32_t seed, size_t blocks) {
  std::mt19937 rng(seed);
  std::string out;
  for (size_t b = 0; b < blocks; ++b) {
    if (b > 0) out += "\n\n";
    const size_t lines = 1 + rng() % 60;
    for (size_t l = 0; l < lines; ++l) {
      if (l > 0) out += '\n';
      out += std::string(2 * (rng() % 5), ' ');
      out += "value_" + std::to_string(rng() % 1000) + " = compute(x, \"é\");";
      if (rng() % 50 == 0) out += std::string(2000, 'z');  // a minified line
    }
  }
  return out;
}

TEST(ChunkTextTest, DefaultsPerKind) {
  const ChunkOptions article = ChunkOptions::for_kind(TextKind::kArticle);
  EXPECT_EQ(article.target_chars, 1000u);
  EXPECT_EQ(article.overlap_chars, 150u);
  const ChunkOptions post = ChunkOptions::for_kind(TextKind::kPost);
  EXPECT_EQ(post.kind, TextKind::kPost);
  EXPECT_EQ(post.target_chars, 400u);
  EXPECT_EQ(post.overlap_chars, 50u);
  const ChunkOptions code = ChunkOptions::for_kind(TextKind::kCode);
  EXPECT_EQ(code.target_chars, 1500u);
  EXPECT_EQ(code.overlap_chars, 100u);
}

TEST(ChunkTextTest, ShortDocumentsMakeOneChunk) {
  // The reference pipeline dropped articles under 1,000 characters.
  for (std::string_view text : {"Ten chars.", "x", "Hello world, this is short.\n\nTwo paras."}) {
    const std::vector<Chunk> chunks = chunk_and_check(text, ChunkOptions{});
    ASSERT_EQ(chunks.size(), 1u);
    EXPECT_EQ(chunks[0].text, text);
  }
}

TEST(ChunkTextTest, BlankTextMakesNoChunks) {
  EXPECT_TRUE(chunk_text("", ChunkOptions{}).empty());
  EXPECT_TRUE(chunk_text(" \n\n\t ", ChunkOptions{}).empty());
}

TEST(ChunkTextTest, RejectsImpossibleOptions) {
  ChunkOptions options;
  options.target_chars = 0;
  EXPECT_THROW(chunk_text("text", options), Error);
  options.target_chars = 100;
  options.overlap_chars = 100;
  EXPECT_THROW(chunk_text("text", options), Error);
}

TEST(ChunkTextTest, PropertiesHoldOnRandomProse) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string text = random_prose(seed, 1 + seed % 25);
    for (TextKind kind : {TextKind::kArticle, TextKind::kPost}) {
      chunk_and_check(text, ChunkOptions::for_kind(kind));
    }
    ChunkOptions tiny;
    tiny.target_chars = 7 + seed % 40;
    tiny.overlap_chars = seed % 5;
    chunk_and_check(text, tiny);
    ChunkOptions no_overlap;
    no_overlap.overlap_chars = 0;
    chunk_and_check(text, no_overlap);
  }
}

TEST(ChunkTextTest, PropertiesHoldOnRandomCode) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string text = random_code(seed, 1 + seed % 12);
    const ChunkOptions options = ChunkOptions::for_kind(TextKind::kCode);
    const std::vector<Chunk> chunks = chunk_and_check(text, options);
    // Chunks of code start at the start of a line, indentation included,
    // unless a line longer than the target had to be split.
    for (const Chunk& c : chunks) {
      if (c.start > 0 && text[c.start - 1] != '\n') {
        const size_t line = text.rfind('\n', c.start) + 1;
        const size_t line_end = text.find('\n', c.start);
        EXPECT_GT(utf8_length(text.substr(line, line_end - line)), options.target_chars);
      }
    }
  }
}

TEST(ChunkTextTest, PropertiesHoldOnCleanedText) {
  const std::string cleaned =
      clean_text("  𝐓𝐢𝐭𝐥𝐞 🚀\n\n\n" + random_prose(99, 30) + "\n\n  tail  ", CleanOptions{});
  chunk_and_check(cleaned, ChunkOptions::for_kind(TextKind::kArticle));
}

TEST(ChunkTextTest, ConsecutiveChunksOverlapBySentences) {
  std::string text;
  for (int i = 0; i < 60; ++i) text += "Sentence number " + std::to_string(i) + " is here. ";
  const std::vector<Chunk> chunks =
      chunk_and_check(text, ChunkOptions::for_kind(TextKind::kArticle));
  ASSERT_GE(chunks.size(), 2u);
  for (size_t i = 1; i < chunks.size(); ++i) {
    EXPECT_LT(chunks[i].start, chunks[i - 1].end);
    EXPECT_EQ(chunks[i].text.substr(0, 9), "Sentence ");  // starts at a sentence
  }
}

TEST(ChunkTextTest, PrefersParagraphBreaks) {
  std::string text;
  for (int p = 0; p < 12; ++p) {
    if (p > 0) text += "\n\n";
    for (int s = 0; s < 4; ++s) text += "Paragraph " + std::to_string(p) + " has words in it. ";
    text.pop_back();
  }
  ChunkOptions options;
  options.overlap_chars = 0;
  const std::vector<Chunk> chunks = chunk_and_check(text, options);
  ASSERT_GE(chunks.size(), 2u);
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    EXPECT_EQ(trim(chunks[i].text).back(), '.');
    EXPECT_EQ(text.substr(chunks[i + 1].start - 2, 2), "\n\n") << "chunk " << i;
  }
}

TEST(ChunkTextTest, HardSplitsAHugeWordAtCodePointBoundaries) {
  std::string word;
  for (int i = 0; i < 3000; ++i) word += (i % 3 == 0) ? "é" : (i % 3 == 1) ? "日" : "😀";
  ChunkOptions options;
  options.target_chars = 100;
  options.overlap_chars = 10;
  const std::vector<Chunk> chunks = chunk_and_check(word, options);
  EXPECT_EQ(chunks.size(), 30u);
  for (const Chunk& c : chunks) EXPECT_TRUE(is_valid_utf8(c.text));
}

TEST(ChunkTextTest, SplitsALongSentenceAtWords) {
  std::string text;
  for (int i = 0; i < 500; ++i) text += "word" + std::to_string(i) + " ";
  ChunkOptions options;
  options.target_chars = 200;
  options.overlap_chars = 20;
  for (const Chunk& c : chunk_and_check(text, options)) {
    EXPECT_EQ(c.text.substr(0, 4), "word");
  }
}

}  // namespace
}  // namespace twinflow
