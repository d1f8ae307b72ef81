// libFuzzer target for extract_html, and for the text pipeline behind it.
//
// Any byte string is a page: the extractor must return without crashing,
// hanging or reading out of bounds, and everything it returns must be valid
// UTF-8. The body then goes through clean_text and chunk_text, whose
// coverage property is checked here too, so the fuzzer exercises the whole
// path from crawled bytes to chunks. Build:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address -I. \
//     fuzz/html_extractor_fuzz.cc tasks/extract/*.cc tasks/text/*.cc util/error.cc -lgumbo
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

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
    check_chunks(cleaned, twinflow::chunk_text(cleaned, chunking));
  }
  return 0;
}
