// Tests that the bundled sample corpus (sample/site, described by
// sample/expected.json) extracts as the offline demo pipeline needs it to.
//
// The README's first command crawls these pages and trains, embeds and
// searches what the extractor makes of them, so every page must come out with
// the right title, author and date, must start and end its body where the
// article does, and must leave the platform's furniture (sign-up prompts,
// follow and share buttons, subscribe widgets, cookie banners, "More from"
// lists) behind. A failure here means either the page or the extractor
// changed in a way the demo would show.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "tasks/extract/html_extractor.h"

namespace twinflow {
namespace {

using Json = nlohmann::json;

const std::filesystem::path kSample = std::filesystem::path(TWINFLOW_SOURCE_DIR) / "sample";

std::string read_sample_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Json expected_corpus() {
  return Json::parse(read_sample_file(kSample / "expected.json"));
}

// The texts of the paragraph blocks, in order: headings, lists, code and
// quotes sit between them but never open or close an article here.
std::vector<std::string> paragraphs(const ExtractedPage& page) {
  std::vector<std::string> out;
  for (const Block& b : page.blocks) {
    if (b.kind == Block::Kind::kParagraph) out.push_back(b.text);
  }
  return out;
}

struct SamplePage {
  Json expected;
  ExtractedPage extracted;
};

// Extracts a page as the crawler would see it: served from the loopback
// demo server, with the platform named by its folder.
SamplePage extract_sample_page(const Json& expected) {
  const std::string path = expected.at("path");
  const std::string html = read_sample_file(kSample / "site" / path);
  const std::string url = "http://127.0.0.1:8000/" + path;
  return {expected, extract_html(html, url, expected.at("platform"))};
}

std::vector<SamplePage> all_sample_pages() {
  std::vector<SamplePage> pages;
  const Json corpus = expected_corpus();
  for (const Json& e : corpus.at("pages")) pages.push_back(extract_sample_page(e));
  return pages;
}

TEST(SampleCorpus, ListsThirtyPagesAcrossThreePlatforms) {
  const Json corpus = expected_corpus();
  std::map<std::string, int> per_platform;
  for (const Json& e : corpus.at("pages")) {
    ++per_platform[e.at("platform").get<std::string>()];
    EXPECT_TRUE(
        std::filesystem::is_regular_file(kSample / "site" / e.at("path").get<std::string>()))
        << e.at("path");
  }
  EXPECT_EQ(per_platform["medium"], 5);
  EXPECT_EQ(per_platform["substack"], 5);
  EXPECT_EQ(per_platform["linkedin"], 20);
  EXPECT_TRUE(std::filesystem::is_regular_file(kSample / "site" / "index.html"));
  EXPECT_NE(read_sample_file(kSample / "site" / "robots.txt").find("Disallow: /private/"),
            std::string::npos);
}

TEST(SampleCorpus, EveryPageHasItsTitleAuthorAndDate) {
  for (const SamplePage& p : all_sample_pages()) {
    SCOPED_TRACE(p.expected.at("path").get<std::string>());
    EXPECT_EQ(p.extracted.title, p.expected.at("title"));
    EXPECT_EQ(p.extracted.author, p.expected.at("author"));
    EXPECT_EQ(p.extracted.published.substr(0, 10), p.expected.at("published"));
  }
}

TEST(SampleCorpus, EveryBodyStartsAndEndsWhereTheArticleDoes) {
  for (const SamplePage& p : all_sample_pages()) {
    SCOPED_TRACE(p.expected.at("path").get<std::string>());
    const std::vector<std::string> texts = paragraphs(p.extracted);
    ASSERT_GE(texts.size(), 2u);
    EXPECT_EQ(texts.front(), p.expected.at("first_paragraph"));
    EXPECT_EQ(texts.back(), p.expected.at("last_paragraph"));
  }
}

TEST(SampleCorpus, NoPlatformFurnitureInAnyBody) {
  // Strings that only the page chrome contains; the articles avoid them.
  static constexpr const char* kFurniture[] = {"Sign up",       "Sign in",
                                               "Follow",        "Share",
                                               "Subscribe",     "More from",
                                               "cookie",        "Cookie",
                                               "Listen",        "Member-only",
                                               "Join now",      "Recommended",
                                               "Start writing", "Thanks for reading",
                                               "min read",      "Help",
                                               "Privacy",       "Comments",
                                               "Written by"};
  for (const SamplePage& p : all_sample_pages()) {
    SCOPED_TRACE(p.expected.at("path").get<std::string>());
    const std::string body = p.extracted.body_text();
    for (const char* furniture : kFurniture) {
      EXPECT_EQ(body.find(furniture), std::string::npos) << "\"" << furniture << "\" in body";
    }
  }
}

TEST(SampleCorpus, ArticlesKeepTheirStructure) {
  // Medium and Substack pages have headings, a list, a code block and a
  // quote; chunking and the demo's answers rely on them surviving.
  for (const SamplePage& p : all_sample_pages()) {
    if (p.expected.at("platform") == "linkedin") continue;
    SCOPED_TRACE(p.expected.at("path").get<std::string>());
    std::map<Block::Kind, int> kinds;
    for (const Block& b : p.extracted.blocks) ++kinds[b.kind];
    EXPECT_GE(kinds[Block::Kind::kHeading], 3);
    EXPECT_GE(kinds[Block::Kind::kListItem], 3);
    EXPECT_EQ(kinds[Block::Kind::kCode], 1);
    EXPECT_EQ(kinds[Block::Kind::kQuote], 1);
  }
}

TEST(SampleCorpus, LinkedInPostsKeepTheirLineBreaks) {
  const Json corpus = expected_corpus();
  for (const Json& e : corpus.at("pages")) {
    if (e.at("path") != "linkedin/training-serving-skew.html") continue;
    const ExtractedPage page = extract_sample_page(e).extracted;
    const std::string body = page.body_text();
    EXPECT_NE(body.find("in a nightly batch job.\nServing computed it on the fly"),
              std::string::npos)
        << body;
    EXPECT_NE(body.find("𝗧𝗿𝗮𝗶𝗻𝗶𝗻𝗴/𝘀𝗲𝗿𝘃𝗶𝗻𝗴 𝘀𝗸𝗲𝘄"), std::string::npos) << body;
    return;
  }
  FAIL() << "linkedin/training-serving-skew.html is not in expected.json";
}

}  // namespace
}  // namespace twinflow
