// extract_html: the pipeline from bytes to ExtractedPage, and the clean-up
// of the body's lead (title, subtitle and byline repeated); see
// html_extractor.h.
#include "tasks/extract/html_extractor.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <vector>

#include "tasks/extract/block_writer.h"
#include "tasks/extract/charset.h"
#include "tasks/extract/content_scoring.h"
#include "tasks/extract/html_bounds.h"
#include "tasks/extract/html_tree.h"
#include "tasks/extract/metadata.h"
#include "tasks/extract/platform_rules.h"

namespace twinflow {

namespace {

// Readability's threshold: a pass that finds less body text than this has
// probably thrown the article away with the furniture.
constexpr size_t kMinBodyChars = 500;
// How many times more text a laxer pass must find to replace a short result.
constexpr size_t kRetryGain = 2;
// ... and at least this much: what a lax pass adds to an empty strict result
// is usually the furniture itself (a lone "Home" link), not a lost article.
constexpr size_t kMinLaxPassChars = 80;
// A platform's content element must yield at least this much to be trusted.
constexpr size_t kMinPlatformBodyChars = 25;
// How far into the body the title and subtitle may repeat.
constexpr size_t kLeadBlocks = 4;
constexpr double kTitleSimilarity = 0.75;
constexpr size_t kMaxBylineChars = 120;

size_t text_size(const std::vector<Block>& blocks) {
  size_t n = 0;
  for (const Block& b : blocks) n += b.text.size();
  return n;
}

std::vector<Block> body_from(const HtmlTree& tree, const ExtractionPass& pass, int root) {
  return write_blocks(tree, select_content(tree, pass, root));
}

std::vector<Block> extract_body(const HtmlTree& tree, int platform_root) {
  if (platform_root >= 0) {
    std::vector<Block> blocks = body_from(tree, ExtractionPass{}, platform_root);
    if (text_size(blocks) >= kMinPlatformBodyChars) return blocks;
  }
  static constexpr ExtractionPass kPasses[] = {
      {true, true, true}, {false, true, true}, {false, false, true}, {false, false, false}};
  std::vector<Block> best = body_from(tree, kPasses[0], -1);
  // A short result may be a short post rather than a lost article: a later,
  // laxer pass must find much more to win, or it only adds the furniture
  // the first pass rightly dropped.
  const size_t first_size = text_size(best);
  for (size_t k = 1; k < std::size(kPasses) && text_size(best) < kMinBodyChars; ++k) {
    std::vector<Block> blocks = body_from(tree, kPasses[k], -1);
    if (text_size(blocks) >= kRetryGain * std::max(first_size, kMinLaxPassChars / kRetryGain) &&
        text_size(blocks) > text_size(best)) {
      best = std::move(blocks);
    }
  }
  return best;
}

// Lower-case alphanumeric words; the unit of title comparison.
std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::string w;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || u >= 0x80) {
      w.push_back(c);
    } else if (c >= 'A' && c <= 'Z') {
      w.push_back(static_cast<char>(c + 32));
    } else if (!w.empty()) {
      out.push_back(std::move(w));
      w.clear();
    }
  }
  if (!w.empty()) out.push_back(std::move(w));
  return out;
}

// Readability's text similarity: the share of `b`'s text made of words that
// also occur in `a`.
double similarity(std::string_view a, std::string_view b) {
  const std::vector<std::string> wa = words(a);
  const std::vector<std::string> wb = words(b);
  if (wa.empty() || wb.empty()) return 0;
  const std::set<std::string> in_a(wa.begin(), wa.end());
  size_t total = 0, unique = 0;
  for (const std::string& w : wb) {
    total += w.size() + 1;
    if (!in_a.count(w)) unique += w.size() + 1;
  }
  return 1.0 - static_cast<double>(unique) / static_cast<double>(total);
}

bool same_text(std::string_view a, std::string_view b) {
  return words(a) == words(b);
}

// Whether block `b`, at index `k` of the body, is the title again. A first
// <h1> only needs to be contained in the title (a README's "# name" under
// "owner/name: description"); other headings must match both ways, so that
// a section called "Intro" is not taken for the title "Intro to Rust".
bool repeats_title(const Block& b, size_t k, const std::string& title) {
  if (b.kind != Block::Kind::kHeading || title.empty()) return false;
  if (similarity(title, b.text) < kTitleSimilarity) return false;
  return (k == 0 && b.level == 1) || similarity(b.text, title) >= kTitleSimilarity / 2;
}

// Drops the heading near the top that repeats the title and the block
// that repeats the subtitle, with what comes before them (a hero image's
// caption, a kicker: page furniture above the headline).
void drop_repeated_lead(ExtractedPage& page) {
  const size_t lead = std::min(page.blocks.size(), kLeadBlocks);
  size_t cut = 0;  // blocks [0, cut) go
  bool title_seen = false;
  for (size_t k = 0; k < lead; ++k) {
    const Block& b = page.blocks[k];
    if (!title_seen && repeats_title(b, k, page.title)) {
      title_seen = true;
      cut = k + 1;
    } else if (!page.subtitle.empty() && same_text(b.text, page.subtitle)) {
      cut = k + 1;
      break;
    }
  }
  page.blocks.erase(page.blocks.begin(), page.blocks.begin() + static_cast<long>(cut));
}

// Drops a byline left at the top of the body ("By Jane Doe · 5 min read"):
// a short paragraph that names the author.
void drop_lead_byline(ExtractedPage& page) {
  if (page.author.empty()) return;
  const std::vector<std::string> author = words(page.author);
  for (size_t k = 0; k < page.blocks.size() && k < kLeadBlocks; ++k) {
    const Block& b = page.blocks[k];
    if (b.kind != Block::Kind::kParagraph || b.text.size() > kMaxBylineChars) continue;
    const std::vector<std::string> w = words(b.text);
    if (std::search(w.begin(), w.end(), author.begin(), author.end()) != w.end()) {
      page.blocks.erase(page.blocks.begin() + static_cast<long>(k));
      return;
    }
  }
}

// Without a known subtitle, a lead heading that repeats the description is
// one (Medium writes the subtitle as a heading right after the title).
void find_subtitle_in_lead(ExtractedPage& page, const std::string& description) {
  if (!page.subtitle.empty() || description.empty()) return;
  for (size_t k = 0; k < page.blocks.size() && k < kLeadBlocks; ++k) {
    const Block& b = page.blocks[k];
    if (b.kind == Block::Kind::kHeading && same_text(b.text, description)) {
      page.subtitle = b.text;
      return;
    }
  }
}

// Metadata wins over platform facts, which fill its gaps; an author read
// from a byline in the text yields to a platform's own author field.
ExtractedPage page_metadata(const PageMetadata& meta, const PlatformFacts& facts,
                            const HtmlTree& tree) {
  ExtractedPage page;
  page.title = !meta.title.empty() ? meta.title : facts.title;
  page.author = meta.author_from_byline && facts.ignore_bylines ? "" : meta.author;
  if (!facts.author.empty() && (page.author.empty() || meta.author_from_byline)) {
    page.author = facts.author;
  }
  page.published = !meta.published.empty() ? meta.published : facts.published;
  page.canonical_url = meta.canonical_url;
  page.site_name = !meta.site_name.empty() ? meta.site_name : facts.site_name;
  page.language = meta.language;
  page.subtitle = !facts.subtitle.empty() ? facts.subtitle : generic_subtitle(tree);
  return page;
}

}  // namespace

ExtractedPage extract_html(std::string_view html, const std::string& url,
                           const std::string& platform_hint) {
  const HtmlBounds bounds;
  const std::string utf8 = decode_html_bytes(html.substr(0, bounds.max_input_bytes));
  const HtmlTree tree(bound_html(utf8, bounds));
  const PageMetadata meta = read_metadata(tree, url);
  const Platform platform = detect_platform(platform_hint, url, meta.site_name, meta.title, tree);
  const PlatformFacts facts = platform_facts(tree, platform);
  ExtractedPage page = page_metadata(meta, facts, tree);
  page.blocks = extract_body(tree, facts.content_root);
  find_subtitle_in_lead(page, meta.description);
  drop_repeated_lead(page);
  drop_lead_byline(page);
  return page;
}

}  // namespace twinflow
