// chunk_text: splits cleaned text into overlapping pieces sized for an
// embedding model.
//
// Chunks are byte ranges of the cleaned text, so a chunk can always be traced
// back to where it came from. Every byte of the text lands in at least one
// chunk: unlike the reference pipeline, which dropped every chunk under 1,000
// characters (and with it every short article), a ten-character note yields
// one chunk. Breaks fall, in order of preference, between paragraphs, between
// sentences (or lines), between words, and only for a single "word" longer
// than the target (a base64 blob, a minified line) inside it; never inside a
// UTF-8 sequence. Sizes count code points.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tasks/text/text_kind.h"

namespace twinflow {

struct Chunk {
  size_t start = 0;  // byte offset into the cleaned text
  size_t end = 0;    // one past the last byte
  std::string text;  // == cleaned.substr(start, end - start)
  int position = 0;  // 0-based index of the chunk within its document
};

struct ChunkOptions {
  using Kind = TextKind;

  // Articles are packed from paragraphs and sentences; posts likewise, with
  // lines counting as sentences; code from blank-line separated blocks and
  // then lines.
  Kind kind = Kind::kArticle;

  // A chunk holds at most this many code points, apart from the whitespace
  // that separates it from the next chunk (kept so that chunks cover the
  // text). Must be > 0.
  size_t target_chars = 1000;

  // How much of the end of a chunk the next chunk repeats, at most, in code
  // points; whole sentences (lines for code) where possible. 0 = none. Must be
  // < target_chars.
  size_t overlap_chars = 150;

  // The defaults for a kind: articles 1000/150, posts 400/50, code 1500/100.
  static ChunkOptions for_kind(Kind kind);
};

// Throws Error when the options break their constraints. Returns no chunks
// for text without any non-whitespace character.
std::vector<Chunk> chunk_text(std::string_view cleaned, const ChunkOptions& options);

}  // namespace twinflow
