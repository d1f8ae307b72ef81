// libFuzzer target for extract_html, and for the text pipeline behind it.
//
// Any byte string is a page: the extractor must return without crashing,
// hanging or reading out of bounds, and everything it returns must be valid
// UTF-8. The body then goes through clean_text and chunk_text, whose
// coverage property is checked here too, and every chunk is analysed for
// search (store/english_analyzer.h: positions ascending and in range), so
// the fuzzer exercises the whole path from crawled bytes to indexed chunks.
// Build: scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "store/english_analyzer.h"
#include "tasks/extract/html_extractor.h"
#include "tasks/text/chunk.h"
#include "tasks/text/clean.h"
#include "tasks/text/utf8.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

void check_chunks(std::string_view text, const std::vector<twinflow::Chunk>& chunks) {
  size_t covered = 0;  // [0, covered) is inside some chunk
  for (const twinflow::Chunk& c : chunks) {
    require(c.start <= covered && c.end > covered && c.end <= text.size());
    require(c.text == text.substr(c.start, c.end - c.start));
    covered = c.end;
  }
  require(chunks.empty() || covered == text.size());
}

void check_analysis(std::string_view text) {
  const std::vector<twinflow::Lexeme> lexemes = twinflow::analyze_english(text);
  for (size_t i = 0; i < lexemes.size(); ++i) {
    const twinflow::Lexeme& l = lexemes[i];
    require(!l.text.empty() && l.text.size() < 2047 && twinflow::is_valid_utf8(l.text));
    require(i == 0 || lexemes[i - 1].text < l.text);
    require(!l.positions.empty() && l.positions.size() <= 255);
    for (size_t k = 0; k < l.positions.size(); ++k)
      require(l.positions[k] >= 1 && l.positions[k] <= 16383 &&
              (k == 0 || l.positions[k - 1] < l.positions[k]));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first byte picks the platform hint, so that the rules run too.
  static const char* kHints[] = {"", "medium", "substack", "linkedin", "github"};
  const std::string hint = size > 0 ? kHints[data[0] % 5] : "";
  const twinflow::ExtractedPage page =
      twinflow::extract_html(input, "https://example.com/a/b", hint);
  const std::string body = page.body_text();
  for (const std::string* field : {&page.title, &page.subtitle, &page.author, &page.published,
                                   &page.canonical_url, &page.site_name, &page.language, &body}) {
    require(twinflow::is_valid_utf8(*field));
  }

  twinflow::CleanOptions clean;
  clean.kind =
      size > 1 ? static_cast<twinflow::TextKind>(data[1] % 3) : twinflow::TextKind::kArticle;
  clean.keep_urls = size > 2 && (data[2] & 1);
  // The raw input too: the cleaner must cope with bytes the extractor never
  // lets through.
  for (std::string_view text : {std::string_view(body), input}) {
    const std::string cleaned = twinflow::clean_text(text, clean);
    require(twinflow::is_valid_utf8(cleaned));
    twinflow::ChunkOptions chunking = twinflow::ChunkOptions::for_kind(clean.kind);
    chunking.target_chars = 16 + (size > 3 ? data[3] : 0);
    chunking.overlap_chars = chunking.target_chars / 4;
    const std::vector<twinflow::Chunk> chunks = twinflow::chunk_text(cleaned, chunking);
    check_chunks(cleaned, chunks);
    for (const twinflow::Chunk& c : chunks) check_analysis(c.text);
  }
  return 0;
}
