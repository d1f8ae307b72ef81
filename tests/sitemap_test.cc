// parse_sitemap and SitemapWalk: urlsets and indexes, gzip, lastmod, and the
// protocol's limits (50,000 entries, 50 MB per file), loops and deep nesting;
// LinkFollower: bounded following through a calendar-style trap.
#include "tasks/crawl/sitemap.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "tasks/crawl/link_follower.h"

namespace twinflow {
namespace {

std::string gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string urlset(size_t n, const std::string& prefix = "https://x.example/p/") {
  std::string xml =
      R"(<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">)";
  for (size_t i = 0; i < n; ++i)
    xml += "<url><loc>" + prefix + std::to_string(i) + "</loc><lastmod>2025-03-0" +
           std::to_string(1 + i % 9) + "</lastmod></url>";
  return xml + "</urlset>";
}

std::string index_of(const std::vector<std::string>& children) {
  std::string xml = R"(<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">)";
  for (const auto& c : children) xml += "<sitemap><loc>" + c + "</loc></sitemap>";
  return xml + "</sitemapindex>";
}

TEST(SitemapTest, UrlsetWithLastmodAndRelativeLocs) {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://x.example/a</loc><lastmod>2025-01-02T03:04:05+00:00</lastmod>
       <changefreq>weekly</changefreq></url>
  <url><loc> https://x.example/b </loc></url>
  <url><loc>https://x.example/a</loc></url>
  <url><loc>javascript:alert(1)</loc></url>
</urlset>)";
  ParsedSitemap map = parse_sitemap(xml, "https://x.example/sitemap.xml");
  ASSERT_TRUE(map.ok()) << map.error;
  EXPECT_FALSE(map.is_index);
  ASSERT_EQ(map.entries.size(), 2u);
  EXPECT_EQ(map.entries[0].loc, "https://x.example/a");
  EXPECT_EQ(map.entries[0].lastmod, "2025-01-02T03:04:05Z");
  EXPECT_EQ(map.entries[1].loc, "https://x.example/b");
  EXPECT_EQ(map.entries[1].lastmod, "");
}

TEST(SitemapTest, GzipIndexAndBomb) {
  ParsedSitemap map = parse_sitemap(gzip(index_of({"https://x.example/s1.xml.gz"})),
                                    "https://x.example/sitemap.xml.gz");
  ASSERT_TRUE(map.ok()) << map.error;
  EXPECT_TRUE(map.is_index);
  ASSERT_EQ(map.entries.size(), 1u);

  SitemapLimits limits;
  limits.max_bytes_per_file = 1u << 20;
  map = parse_sitemap(gzip(std::string(8u << 20, ' ')), "https://x.example/s.xml.gz", limits);
  EXPECT_NE(map.error.find("inflates past 1 MB (a gzip bomb?)"), std::string::npos) << map.error;
}

TEST(SitemapTest, MoreThanFiftyThousandUrlsAreCutAtTheProtocolLimit) {
  ParsedSitemap map = parse_sitemap(urlset(50001), "https://x.example/big.xml");
  ASSERT_TRUE(map.ok()) << map.error;
  EXPECT_EQ(map.entries.size(), 50000u);
  EXPECT_NE(map.truncation.find("lists 50001 entries, past the 50000 a sitemap may hold"),
            std::string::npos)
      << map.truncation;
}

TEST(SitemapTest, FilesOverTheSizeLimitAndNonSitemapsAreErrors) {
  SitemapLimits limits;
  limits.max_bytes_per_file = 1000;
  EXPECT_NE(parse_sitemap(urlset(100), "u", limits).error.find("larger than"), std::string::npos);
  EXPECT_EQ(parse_sitemap("<!doctype html><p>hi", "u").error, "an HTML page, not a sitemap");
  EXPECT_NE(parse_sitemap("<urlset><url>", "u").error.find("malformed XML"), std::string::npos);
  EXPECT_NE(parse_sitemap("<rss/>", "u").error.find("not a sitemap"), std::string::npos);
}

TEST(SitemapTest, WalkReadsEachFileOnceAndReportsLoops) {
  SitemapWalk walk("https://x.example/index.xml");
  auto files = walk.next_files();
  ASSERT_EQ(files, std::vector<std::string>{"https://x.example/index.xml"});
  ParsedSitemap root =
      parse_sitemap(index_of({"https://x.example/a.xml", "https://x.example/index.xml"}), files[0]);
  walk.add(files[0], &root);
  files = walk.next_files();
  ASSERT_EQ(files, std::vector<std::string>{"https://x.example/a.xml"});
  ParsedSitemap a = parse_sitemap(urlset(3), files[0]);
  walk.add(files[0], &a);
  EXPECT_TRUE(walk.next_files().empty());
  EXPECT_EQ(walk.urls().size(), 3u);
  EXPECT_NE(walk.truncation().find("the sitemap index loops"), std::string::npos)
      << walk.truncation();
}

TEST(SitemapTest, WalkStopsAtTheNestingDepth) {
  // index0 -> index1 -> index2 -> index3 ...: each lists the next.
  SitemapWalk walk("https://x.example/i0.xml", 2);
  int read = 0;
  for (auto files = walk.next_files(); !files.empty(); files = walk.next_files()) {
    for (const std::string& f : files) {
      ++read;
      const int n = std::stoi(f.substr(f.find("/i") + 2));
      ParsedSitemap p =
          parse_sitemap(index_of({"https://x.example/i" + std::to_string(n + 1) + ".xml"}), f);
      walk.add(f, &p);
    }
  }
  EXPECT_EQ(read, 3);
  EXPECT_NE(walk.truncation().find("nests sitemap indexes deeper than 2 levels"), std::string::npos)
      << walk.truncation();
}

TEST(SitemapTest, WalkCapsUrlsAndFiles) {
  SitemapWalk walk("https://x.example/index.xml", 2, 3, 10);
  auto files = walk.next_files();
  ParsedSitemap root = parse_sitemap(
      index_of({"https://x.example/a", "https://x.example/b", "https://x.example/c"}), files[0]);
  walk.add(files[0], &root);
  files = walk.next_files();
  EXPECT_EQ(files.size(), 2u);  // 3 files at most, the index included
  for (const auto& f : files) {
    ParsedSitemap p = parse_sitemap(urlset(8, f + "/p"), f);
    walk.add(f, &p);
  }
  EXPECT_EQ(walk.urls().size(), 10u);
  EXPECT_NE(walk.truncation().find("stopped after 3 sitemap files"), std::string::npos);
  EXPECT_NE(walk.truncation().find("more than 10 URLs"), std::string::npos);
  walk.fail("https://x.example/z", "HTTP 500");
  EXPECT_EQ(walk.errors(), "https://x.example/z: HTTP 500");
}

TEST(LinkFollowerTest, ExtractsAbsoluteLinksOnce) {
  const std::string html = R"(<html><head><base href="https://x.example/blog/"></head><body>
    <a href="post-1">1</a> <a href="/post-2#c">2</a> <a href="post-1">again</a>
    <a href="mailto:a@b">m</a> <a href="#top">t</a> <a href="https://y.example/z?utm_source=q">z</a>
  </body></html>)";
  EXPECT_EQ(extract_links(html, "https://x.example/index.html"),
            (std::vector<std::string>{"https://x.example/blog/post-1", "https://x.example/post-2",
                                      "https://y.example/z"}));
}

TEST(LinkFollowerTest, PatternsMatchHostAndPathOrPathAlone) {
  EXPECT_TRUE(follow_pattern_matches("/p/*", "https://x.example/p/one"));
  EXPECT_FALSE(follow_pattern_matches("/p/*", "https://x.example/archive"));
  EXPECT_TRUE(follow_pattern_matches("x.example/*/posts/*", "https://X.example/a/posts/b?q=1"));
}

// An archive whose every month links the next one, forever, plus posts.
std::string calendar_page(int month) {
  return "<a href=\"/archive/" + std::to_string(month + 1) + "\">next month</a>" +
         "<a href=\"/p/post-" + std::to_string(month) + "\">post</a>" +
         "<a href=\"https://elsewhere.example/p/x\">off-site</a><a href=\"/style.css\">css</a>";
}

TEST(LinkFollowerTest, CalendarTrapEndsAtTheDepthCap) {
  FollowSpec spec;
  spec.start = {"https://x.example/archive/0"};
  spec.match = {"/p/*"};
  spec.max_depth = 5;
  spec.max_pages = 1000;
  LinkFollower follower(spec);
  size_t fetched = 0;
  for (auto pages = follower.next_pages(); !pages.empty(); pages = follower.next_pages())
    for (const auto& page : pages) {
      ++fetched;
      follower.add_page(page, calendar_page(std::stoi(page.substr(page.rfind('/') + 1))));
    }
  EXPECT_EQ(fetched, 6u);  // the start page and five levels below it
  EXPECT_EQ(follower.entries().size(), 6u);
  EXPECT_EQ(follower.entries().front(), "https://x.example/p/post-0");
  EXPECT_NE(follower.truncation().find("deeper than max_depth 5"), std::string::npos);
}

TEST(LinkFollowerTest, CalendarTrapEndsAtThePageCap) {
  FollowSpec spec;
  spec.start = {"https://x.example/archive/0"};
  spec.match = {"/p/*"};
  spec.max_depth = 20;
  spec.max_pages = 4;
  LinkFollower follower(spec);
  size_t fetched = 0;
  for (auto pages = follower.next_pages(); !pages.empty(); pages = follower.next_pages())
    for (const auto& page : pages) {
      ++fetched;
      follower.add_page(page, calendar_page(std::stoi(page.substr(page.rfind('/') + 1))));
    }
  EXPECT_EQ(fetched, 4u);
  EXPECT_NE(follower.truncation().find("stopped after max_pages 4 pages"), std::string::npos)
      << follower.truncation();
}

}  // namespace
}  // namespace twinflow
