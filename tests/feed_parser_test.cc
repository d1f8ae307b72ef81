// parse_feed on RSS 2.0 (Medium- and Substack-shaped), RSS 1.0 and Atom, and
// on hostile input: malformed XML, HTML served as a feed, entity bombs, gzip
// bombs, and feeds of 20,000 and 100,000 entries.
#include "tasks/crawl/feed_parser.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "tasks/crawl/gzip.h"

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

std::string rss_with(size_t items) {
  std::string xml = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Big</title>";
  for (size_t i = 0; i < items; ++i)
    xml += "<item><title>Post " + std::to_string(i) + "</title><link>https://blog.example/p/" +
           std::to_string(i) + "</link><pubDate>Mon, 06 Jan 2025 10:00:00 GMT</pubDate></item>";
  return xml + "</channel></rss>";
}

TEST(FeedParserTest, MediumRssWithTrackingParametersAndCdata) {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<rss xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:atom="http://www.w3.org/2005/Atom" version="2.0">
<channel>
  <title><![CDATA[Stories by Ines Calloway on Medium]]></title>
  <link>https://medium.com/@ines?source=rss-abc------2</link>
  <atom:link href="https://medium.com/@ines/feed" rel="self" type="application/rss+xml"/>
  <item>
    <title><![CDATA[Chunking for RAG & why it matters]]></title>
    <link>https://medium.com/@ines/chunking-for-rag-1a2b3c?source=rss-abc------2</link>
    <guid isPermaLink="false">https://medium.com/p/1a2b3c</guid>
    <dc:creator><![CDATA[Ines Calloway]]></dc:creator>
    <pubDate>Tue, 14 Jan 2025 09:30:00 GMT</pubDate>
    <atom:updated>2025-01-20T08:00:00.000Z</atom:updated>
    <content:encoded><![CDATA[<p>Body</p>]]></content:encoded>
  </item>
  <item>
    <title>Second</title>
    <link>https://medium.com/@ines/second-4d5e6f?utm_source=x&amp;keep=1#frag</link>
    <pubDate>Wed, 01 Jan 2025 12:00:00 +0100</pubDate>
  </item>
</channel></rss>)";
  ParsedFeed feed = parse_feed(xml, "https://medium.com/feed/@ines");
  ASSERT_TRUE(feed.ok()) << feed.error;
  EXPECT_EQ(feed.format, "rss");
  EXPECT_EQ(feed.title, "Stories by Ines Calloway on Medium");
  ASSERT_EQ(feed.entries.size(), 2u);
  EXPECT_EQ(feed.entries[0].url, "https://medium.com/@ines/chunking-for-rag-1a2b3c");
  EXPECT_EQ(feed.entries[0].id, "https://medium.com/p/1a2b3c");
  EXPECT_EQ(feed.entries[0].title, "Chunking for RAG & why it matters");
  EXPECT_EQ(feed.entries[0].published, "2025-01-14T09:30:00Z");
  EXPECT_EQ(feed.entries[0].updated, "2025-01-20T08:00:00.000Z");
  EXPECT_EQ(feed.entries[0].stamp(), "2025-01-20T08:00:00.000Z");
  EXPECT_EQ(feed.entries[1].url, "https://medium.com/@ines/second-4d5e6f?keep=1");
  EXPECT_EQ(feed.entries[1].published, "2025-01-01T11:00:00Z");
  EXPECT_EQ(feed.entries[1].stamp(), feed.entries[1].published);
  EXPECT_TRUE(feed.truncation.empty());
}

TEST(FeedParserTest, SubstackRssGuidPermalinkAndRelativeLinks) {
  const std::string xml = R"(<rss version="2.0"><channel><title>Gradient Notes</title>
  <item><title>A</title><guid>https://ines.substack.com/p/a</guid></item>
  <item><title>B</title><link>/p/b</link></item>
  <item><title>No link</title><guid isPermaLink="false">12345</guid></item>
  <item><title>Duplicate</title><link>https://ines.substack.com/p/a</link></item>
  </channel></rss>)";
  ParsedFeed feed = parse_feed(xml, "https://ines.substack.com/feed");
  ASSERT_TRUE(feed.ok()) << feed.error;
  ASSERT_EQ(feed.entries.size(), 2u);
  EXPECT_EQ(feed.entries[0].url, "https://ines.substack.com/p/a");
  EXPECT_EQ(feed.entries[1].url, "https://ines.substack.com/p/b");
  EXPECT_EQ(feed.entries_total, 4u);
  EXPECT_EQ(feed.entries_without_link, 1u);
}

TEST(FeedParserTest, AtomWithXmlBaseAlternateLinksAndUpdated) {
  const std::string xml = R"(<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/posts/">
  <title type="text">Blog</title>
  <entry>
    <title>One</title>
    <link rel="edit" href="https://blog.example/api/1"/>
    <link rel="alternate" type="text/html" href="one.html"/>
    <id>tag:blog.example,2025:1</id>
    <published>2025-02-01T10:00:00+02:00</published>
    <updated>2025-02-03T10:00:00Z</updated>
  </entry>
  <entry>
    <title>Two</title>
    <link href="https://other.example/two"/>
    <id>tag:blog.example,2025:2</id>
    <updated>2025-02-04</updated>
  </entry>
</feed>)";
  ParsedFeed feed = parse_feed(xml, "https://blog.example/atom.xml");
  ASSERT_TRUE(feed.ok()) << feed.error;
  EXPECT_EQ(feed.format, "atom");
  ASSERT_EQ(feed.entries.size(), 2u);
  EXPECT_EQ(feed.entries[0].url, "https://blog.example/posts/one.html");
  EXPECT_EQ(feed.entries[0].id, "tag:blog.example,2025:1");
  EXPECT_EQ(feed.entries[0].published, "2025-02-01T08:00:00Z");
  EXPECT_EQ(feed.entries[0].stamp(), "2025-02-03T10:00:00Z");
  EXPECT_EQ(feed.entries[1].url, "https://other.example/two");
  EXPECT_EQ(feed.entries[1].stamp(), "2025-02-04");
}

TEST(FeedParserTest, Rss1RdfItems) {
  const std::string xml = R"(<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel><title>Old blog</title></channel>
  <item><title>X</title><link>https://old.example/x</link><dc:date>2004-05-06</dc:date></item>
</rdf:RDF>)";
  ParsedFeed feed = parse_feed(xml, "https://old.example/index.rdf");
  ASSERT_TRUE(feed.ok()) << feed.error;
  EXPECT_EQ(feed.format, "rdf");
  ASSERT_EQ(feed.entries.size(), 1u);
  EXPECT_EQ(feed.entries[0].published, "2004-05-06");
}

TEST(FeedParserTest, MalformedXmlIsAnErrorNamingTheLine) {
  ParsedFeed feed =
      parse_feed("<rss><channel>\n<item><title>x</item></channel></rss>", "https://x.example/feed");
  EXPECT_FALSE(feed.ok());
  EXPECT_NE(feed.error.find("malformed XML (line 2"), std::string::npos) << feed.error;
  EXPECT_TRUE(feed.entries.empty());
  EXPECT_FALSE(parse_feed("", "u").ok());
  EXPECT_FALSE(parse_feed(std::string("\x00\x01\x02garbage", 10), "u").ok());
}

TEST(FeedParserTest, AnHtmlPageIsNotAFeed) {
  ParsedFeed feed = parse_feed("<!DOCTYPE html>\n<html><head><title>Blog</title></head></html>",
                               "https://x.example/feed");
  EXPECT_EQ(feed.error, "an HTML page, not a feed");
  feed = parse_feed("<html xmlns=\"http://www.w3.org/1999/xhtml\"><body/></html>", "u");
  EXPECT_EQ(feed.error, "an HTML page, not a feed");
  feed = parse_feed("<?xml version=\"1.0\"?><html><body/></html>", "u");
  EXPECT_EQ(feed.error, "an HTML page, not a feed");
  feed = parse_feed("<?xml version=\"1.0\"?><opml/>", "u");
  EXPECT_NE(feed.error.find("not an RSS or Atom feed"), std::string::npos);
}

TEST(FeedParserTest, EntityDeclarationsAreRefusedNotExpanded) {
  std::string bomb = "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY a \"aaaaaaaaaa\">";
  std::string prev = "a";
  for (int i = 0; i < 10; ++i) {
    const std::string name = "e" + std::to_string(i);
    bomb += "<!ENTITY " + name + " \"";
    for (int j = 0; j < 10; ++j) bomb += "&" + prev + ";";
    bomb += "\">";
    prev = name;
  }
  bomb += "]><rss><channel><item><title>&" + prev + ";</title><link>https://x/1</link></item>" +
          "</channel></rss>";
  ParsedFeed feed = parse_feed(bomb, "https://x.example/feed");
  EXPECT_FALSE(feed.ok());
  EXPECT_TRUE(feed.entries.empty());
  // External entities (file or network) are refused the same way.
  feed = parse_feed(
      "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
      "<rss><channel><item><title>&x;</title><link>https://x/1</link></item></channel></rss>",
      "u");
  EXPECT_EQ(feed.error, "the document declares XML entities (refused)");
}

TEST(FeedParserTest, GzipFeedsAreInflatedAndBombsStopAtTheCap) {
  const std::string xml = rss_with(3);
  ParsedFeed feed = parse_feed(gzip(xml), "https://blog.example/feed.gz");
  ASSERT_TRUE(feed.ok()) << feed.error;
  EXPECT_EQ(feed.entries.size(), 3u);

  // 16 MB of zeros compress to ~16 KB; the cap stops inflation at 1 MB.
  const std::string bomb = gzip(std::string(16u << 20, '\0'));
  ASSERT_LT(bomb.size(), 200u * 1024);
  FeedLimits limits;
  limits.max_bytes = 1u << 20;
  feed = parse_feed(bomb, "https://blog.example/feed.gz", limits);
  EXPECT_NE(feed.error.find("inflates past 1 MB"), std::string::npos) << feed.error;

  GunzipResult truncated = gunzip_capped(gzip(xml).substr(0, 20), 1 << 20);
  EXPECT_FALSE(truncated.ok());
}

TEST(FeedParserTest, TwentyThousandEntriesAreRead) {
  ParsedFeed feed = parse_feed(rss_with(20000), "https://blog.example/feed");
  ASSERT_TRUE(feed.ok()) << feed.error;
  EXPECT_EQ(feed.entries.size(), 20000u);
  EXPECT_EQ(feed.entries.back().url, "https://blog.example/p/19999");
  EXPECT_TRUE(feed.truncation.empty());
}

TEST(FeedParserTest, AHundredThousandEntriesAreTruncatedWithTheReason) {
  ParsedFeed feed = parse_feed(rss_with(100000), "https://blog.example/feed");
  ASSERT_TRUE(feed.ok()) << feed.error;
  EXPECT_EQ(feed.entries.size(), 50000u);
  EXPECT_EQ(feed.entries_total, 100000u);
  EXPECT_EQ(feed.truncation,
            "the feed lists 100000 entries; the first 50000 were kept (max_entries)");
}

TEST(FeedParserTest, StripTrackingKeepsOtherParameters) {
  EXPECT_EQ(strip_tracking("https://a/b?utm_source=x&utm_medium=y"), "https://a/b");
  EXPECT_EQ(strip_tracking("https://a/b?page=2&source=rss-1"), "https://a/b?page=2");
  EXPECT_EQ(strip_tracking("https://a/b#c"), "https://a/b");
  EXPECT_EQ(strip_tracking("https://a/b?source=home"), "https://a/b?source=home");
}

}  // namespace
}  // namespace twinflow
