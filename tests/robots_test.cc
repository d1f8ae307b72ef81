// Tests of the robots.txt parser and matcher (RFC 9309 and its examples).
#include "tasks/crawl/robots.h"

#include <gtest/gtest.h>

namespace twinflow {
namespace {

constexpr const char* kAgent = "twinflow/0.1 (+https://github.com/twinflow)";

TEST(RobotsRules, EmptyFileAllowsEverything) {
  const RobotsRules rules = RobotsRules::parse("", kAgent);
  EXPECT_TRUE(rules.allowed("/"));
  EXPECT_TRUE(rules.allowed("/anything?x=1"));
  EXPECT_FALSE(rules.crawl_delay_seconds().has_value());
  EXPECT_TRUE(RobotsRules().allowed("/private"));
}

TEST(RobotsRules, StarGroupAppliesWhenNoGroupNamesUs) {
  const RobotsRules rules = RobotsRules::parse(
      "User-agent: otherbot\nDisallow: /\n\nUser-agent: *\nDisallow: /private\n", kAgent);
  EXPECT_FALSE(rules.allowed("/private"));
  EXPECT_FALSE(rules.allowed("/private/page.html"));
  EXPECT_FALSE(rules.allowed("/privateer"));  // patterns are prefixes
  EXPECT_TRUE(rules.allowed("/public"));
  EXPECT_TRUE(rules.allowed(""));
}

TEST(RobotsRules, OurGroupReplacesTheStarGroup) {
  const RobotsRules rules = RobotsRules::parse(
      "User-agent: *\nDisallow: /\n\nUser-agent: TwinFlow\nDisallow: /drafts\n", kAgent);
  EXPECT_TRUE(rules.allowed("/posts/1"));  // the * group's "Disallow: /" is not ours
  EXPECT_FALSE(rules.allowed("/drafts/1"));
}

TEST(RobotsRules, GroupsNamingUsAreMergedAndAgentLinesShareAGroup) {
  const RobotsRules rules = RobotsRules::parse(
      "User-agent: a\nUser-agent: twinflow\nUser-agent: b\nDisallow: /one\n"
      "User-agent: c\nDisallow: /two\n"
      "User-agent: twinflow\nDisallow: /three\n",
      kAgent);
  EXPECT_FALSE(rules.allowed("/one"));
  EXPECT_TRUE(rules.allowed("/two"));
  EXPECT_FALSE(rules.allowed("/three"));
}

TEST(RobotsRules, LongestMatchWinsAndAllowWinsATie) {
  const RobotsRules rules = RobotsRules::parse(
      "User-agent: *\nDisallow: /a\nAllow: /a/b\nDisallow: /a/b/c\n"
      "Allow: /tie\nDisallow: /tie\n",
      kAgent);
  EXPECT_FALSE(rules.allowed("/a/x"));
  EXPECT_TRUE(rules.allowed("/a/b/x"));
  EXPECT_FALSE(rules.allowed("/a/b/c/d"));
  EXPECT_TRUE(rules.allowed("/tie/page"));
}

TEST(RobotsRules, WildcardsAndEndAnchor) {
  const RobotsRules rules = RobotsRules::parse(
      "User-agent: *\nDisallow: /*.pdf$\nDisallow: /search*q=\nAllow: /*.pdf$/ok\n", kAgent);
  EXPECT_FALSE(rules.allowed("/docs/file.pdf"));
  EXPECT_TRUE(rules.allowed("/docs/file.pdf?download=1"));  // $ anchors the end
  EXPECT_TRUE(rules.allowed("/docs/file.pdfx"));
  EXPECT_FALSE(rules.allowed("/search?lang=en&q=cats"));
  EXPECT_TRUE(rules.allowed("/search?lang=en"));
}

TEST(RobotsRules, IgnoresCommentsJunkAndEmptyDisallow) {
  const RobotsRules rules = RobotsRules::parse(
      "\xEF\xBB\xBF# a comment\r\nDisallow: /before-any-group\r\n"
      "USER-AGENT: * # everyone\r\nthis line is junk\r\nDisallow:\r\n"
      "Disallow: /tmp # temporary\r\nSitemap: https://example.com/sitemap.xml\r\n",
      kAgent);
  EXPECT_TRUE(rules.allowed("/before-any-group"));
  EXPECT_TRUE(rules.allowed("/index.html"));
  EXPECT_FALSE(rules.allowed("/tmp/x"));
  ASSERT_EQ(rules.sitemaps().size(), 1u);
  EXPECT_EQ(rules.sitemaps()[0], "https://example.com/sitemap.xml");
}

TEST(RobotsRules, RobotsTxtItselfIsAlwaysAllowed) {
  const RobotsRules rules = RobotsRules::parse("User-agent: *\nDisallow: /\n", kAgent);
  EXPECT_FALSE(rules.allowed("/"));
  EXPECT_FALSE(rules.allowed("/index.html"));
  EXPECT_TRUE(rules.allowed("/robots.txt"));
}

TEST(RobotsRules, PercentEscapesCompareCaseInsensitively) {
  const RobotsRules rules = RobotsRules::parse("User-agent: *\nDisallow: /a%2fb\n", kAgent);
  EXPECT_FALSE(rules.allowed("/a%2Fb"));
  EXPECT_FALSE(rules.allowed("/a%2fb/c"));
  EXPECT_TRUE(rules.allowed("/a/b"));
}

TEST(RobotsRules, CrawlDelayOfTheChosenGroups) {
  EXPECT_EQ(RobotsRules::parse("User-agent: *\nCrawl-delay: 2.5\n", kAgent).crawl_delay_seconds(),
            2.5);
  EXPECT_EQ(
      RobotsRules::parse("User-agent: other\nCrawl-delay: 9\nUser-agent: *\nDisallow: /x\n", kAgent)
          .crawl_delay_seconds(),
      std::nullopt);
  EXPECT_EQ(RobotsRules::parse("User-agent: *\nCrawl-delay: soon\n", kAgent).crawl_delay_seconds(),
            std::nullopt);
}

TEST(RobotsProductToken, TakesTheLeadingTokenInLowerCase) {
  EXPECT_EQ(robots_product_token(kAgent), "twinflow");
  EXPECT_EQ(robots_product_token("  Googlebot-News/2.1"), "googlebot-news");
  EXPECT_EQ(robots_product_token("*"), "");
}

TEST(RobotsPatternMatches, HandlesStarsAnchorsAndBacktracking) {
  EXPECT_TRUE(robots_pattern_matches("/", "/anything"));
  EXPECT_TRUE(robots_pattern_matches("/fish", "/fish.html"));
  EXPECT_FALSE(robots_pattern_matches("/fish", "/Fish.asp"));  // case matters
  EXPECT_TRUE(robots_pattern_matches("/fish*.php", "/fish/salmon.php?id=1"));
  EXPECT_FALSE(robots_pattern_matches("/fish*.php", "/fish/salmon.PHP"));
  EXPECT_TRUE(robots_pattern_matches("/*.php$", "/folder/filename.php"));
  EXPECT_FALSE(robots_pattern_matches("/*.php$", "/filename.php/"));
  EXPECT_TRUE(robots_pattern_matches("/a*b*c$", "/aXbYbZc"));
  EXPECT_FALSE(robots_pattern_matches("/a*b*c$", "/aXbYcZ"));
  EXPECT_TRUE(robots_pattern_matches("*", "/x"));
  EXPECT_TRUE(robots_pattern_matches("/$", "/"));
  EXPECT_FALSE(robots_pattern_matches("/$", "/x"));
}

}  // namespace
}  // namespace twinflow
