// Tests for tasks/extract: extract_html on small pages shaped like Medium,
// Substack, LinkedIn, GitHub and a furniture-laden news site (exact metadata
// and body blocks), on hostile input (binary, truncated, huge, deeply nested,
// the parser's quadratic cases), on declared and undeclared charsets; the
// date, charset and bounding helpers; and, when the saved pages in
// /work/shared/real-pages are present, on real pages with recall and
// precision measured against their expected text.
#include "tasks/extract/html_extractor.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tasks/extract/charset.h"
#include "tasks/extract/date.h"
#include "tasks/extract/html_bounds.h"
#include "tasks/extract/html_tree.h"
#include "tasks/extract/metadata.h"
#include "tasks/text/utf8.h"
#include "tests/support/shared_corpora.h"
#include "util/files.h"

namespace twinflow {

// Readable failure messages for block lists.
void PrintTo(const Block& b, std::ostream* os) {
  static constexpr const char* kKinds[] = {"paragraph", "heading", "list item", "code", "quote"};
  *os << "{" << kKinds[static_cast<int>(b.kind)] << " " << b.level << " \"" << b.text << "\"}";
}

namespace {

using Kind = Block::Kind;

std::vector<std::string> texts(const ExtractedPage& page) {
  std::vector<std::string> out;
  for (const Block& b : page.blocks) out.push_back(b.text);
  return out;
}

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// --- Platform-shaped pages --------------------------------------------------

constexpr std::string_view kMediumPage = R"(<!DOCTYPE html><html lang="en"><head>
<title>How We Scaled Our Pipeline | by Jane Doe | Medium</title>
<meta property="og:title" content="How We Scaled Our Pipeline">
<meta name="author" content="Jane Doe">
<meta property="article:author" content="https://medium.com/@jane">
<meta property="article:published_time" content="2023-05-01T10:20:30.123Z">
<meta property="og:site_name" content="Medium">
<meta name="description" content="Lessons from a year of data work">
<link rel="canonical" href="https://medium.com/@jane/how-we-scaled-123">
</head><body>
<nav><a href="/">Medium</a><a href="/signin">Sign in</a><a href="/membership">Get started</a></nav>
<article><div><section>
<h1 class="pw-post-title">How We Scaled Our Pipeline</h1>
<h2 class="pw-subtitle-paragraph">Lessons from a year of data work</h2>
<div class="speechify-ignore"><a href="/@jane">Jane Doe</a><span> · </span><span>5 min read</span></div>
<p class="pw-post-body-paragraph">Last year our pipeline processed ten thousand documents a day, and it broke every week.</p>
<p class="pw-post-body-paragraph">This post explains what we changed, why we changed it, and what we would do differently.</p>
<h2>The first problem</h2>
<p>Retries were <em>silent</em>, so failures piled up unnoticed for days.</p>
<pre><code>for attempt in range(3):
    run(step)  # indented by four</code></pre>
<blockquote><p>Make failures loud.</p></blockquote>
<ul><li>Log every retry.</li><li>Alert on the third.<ul><li>Page someone.</li></ul></li></ul>
</section></div></article>
<footer><a href="/about">About</a><a href="/help">Help</a><a href="/terms">Terms</a></footer>
</body></html>)";

TEST(ExtractHtmlTest, MediumLikePage) {
  for (const std::string hint : {"medium", ""}) {
    SCOPED_TRACE("hint '" + hint + "'");
    const ExtractedPage page = extract_html(kMediumPage, "https://medium.com/@jane/x", hint);
    EXPECT_EQ(page.title, "How We Scaled Our Pipeline");
    EXPECT_EQ(page.subtitle, "Lessons from a year of data work");
    EXPECT_EQ(page.author, "Jane Doe");
    EXPECT_EQ(page.published, "2023-05-01T10:20:30.123Z");
    EXPECT_EQ(page.canonical_url, "https://medium.com/@jane/how-we-scaled-123");
    EXPECT_EQ(page.site_name, "Medium");
    EXPECT_EQ(page.language, "en");
    const std::vector<Block> expected = {
        {Kind::kParagraph, 0,
         "Last year our pipeline processed ten thousand documents a day, and it broke every "
         "week."},
        {Kind::kParagraph, 0,
         "This post explains what we changed, why we changed it, and what we would do "
         "differently."},
        {Kind::kHeading, 2, "The first problem"},
        {Kind::kParagraph, 0, "Retries were silent, so failures piled up unnoticed for days."},
        {Kind::kCode, 0, "for attempt in range(3):\n    run(step)  # indented by four"},
        {Kind::kQuote, 0, "Make failures loud."},
        {Kind::kListItem, 1, "Log every retry."},
        {Kind::kListItem, 1, "Alert on the third."},
        {Kind::kListItem, 2, "Page someone."},
    };
    EXPECT_EQ(page.blocks, expected);
  }
}

constexpr std::string_view kSubstackPage = R"(<html><head>
<title>Why I Write Every Day - by Sam Lee - Sam's Notes</title>
<meta property="og:title" content="Why I Write Every Day">
<meta name="author" content="Sam Lee">
<script type="application/ld+json">
<![CDATA[{"@context":"https://schema.org","@type":"NewsArticle","headline":"Why I Write Every Day",
"author":[{"@type":"Person","name":"Sam Lee","url":"https://x.substack.com/@sam"}],
"datePublished":"2024-02-03T08:00:00+02:00",
"publisher":{"@type":"Organization","name":"Sam's Notes"}}]]>
</script>
</head><body>
<div class="main-menu"><a href="/">Sam's Notes</a><a href="/subscribe">Subscribe</a><a href="/signin">Sign in</a></div>
<div class="post-header"><h1 class="post-title">Why I Write Every Day</h1>
<h3 class="subtitle">Notes on a small habit</h3>
<div class="byline-wrapper"><a href="/@sam">Sam Lee</a> Feb 3, 2024</div></div>
<div class="available-content"><div class="body markup" dir="auto">
<p>Writing every day is less about output than about noticing.</p>
<p>I started with ten minutes, and the ten minutes grew.</p>
<div class="subscription-widget-wrap"><p>Subscribe to get new posts.</p><form><input type="email"><button>Subscribe</button></form></div>
<h2>What changed</h2>
<p>I read differently now, with a pen in hand.</p>
<div class="captioned-button-wrap"><p class="cta-caption">Thanks for reading! Share it.</p>
<p class="button-wrapper"><a class="button primary" href="/share"><span>Share</span></a></p></div>
</div></div>
<div class="post-footer"><a>Like</a><a>Comment</a><a>Restack</a></div>
<div id="comments"><div class="comment"><p>Great post, thanks for sharing this with us!</p></div></div>
</body></html>)";

TEST(ExtractHtmlTest, SubstackLikePage) {
  for (const std::string hint : {"substack", ""}) {
    SCOPED_TRACE("hint '" + hint + "'");
    const ExtractedPage page = extract_html(kSubstackPage, "", hint);
    EXPECT_EQ(page.title, "Why I Write Every Day");
    EXPECT_EQ(page.subtitle, "Notes on a small habit");
    EXPECT_EQ(page.author, "Sam Lee");
    EXPECT_EQ(page.published, "2024-02-03T06:00:00Z");
    EXPECT_EQ(page.site_name, "Sam's Notes");
    const std::vector<Block> expected = {
        {Kind::kParagraph, 0, "Writing every day is less about output than about noticing."},
        {Kind::kParagraph, 0, "I started with ten minutes, and the ten minutes grew."},
        {Kind::kHeading, 2, "What changed"},
        {Kind::kParagraph, 0, "I read differently now, with a pen in hand."},
    };
    EXPECT_EQ(page.blocks, expected);
  }
}

constexpr std::string_view kLinkedInPost = R"(<html lang="en"><head>
<title>Alex Kim on LinkedIn: Shipping beats perfect | 12 comments</title>
<meta property="og:title" content="Alex Kim on LinkedIn: Shipping beats perfect">
</head><body>
<header class="nav"><a>Home</a><a>Jobs</a><a>Sign in</a></header>
<main><section class="core-rail"><article class="main-feed-activity-card">
<div class="base-main-feed-card__entity-lockup"><a href="/in/alexkim">Alex Kim</a><p>Engineering lead</p><time>2d</time></div>
<p class="attributed-text-segment-list__content" dir="ltr">Shipping beats perfect.<br><br>Last quarter we cut our release cycle from six weeks to one.<br>Here is what worked:<br>1. Small PRs<br>2. Feature flags<br><br><a href="/feed/hashtag/engineering">#engineering</a> <a href="/feed/hashtag/leadership">#leadership</a></p>
<div class="social-details-social-counts"><span>1,204 reactions</span><span>12 comments</span></div>
<section class="comments"><article class="comment"><p>Love this, Alex! Small PRs changed everything for my team too.</p></article></section>
</article></section></main>
<footer><a>About</a><a>Privacy</a></footer>
</body></html>)";

TEST(ExtractHtmlTest, LinkedInLikePost) {
  const std::vector<std::string> expected = {
      "Shipping beats perfect.",
      "Last quarter we cut our release cycle from six weeks to one.\nHere is what worked:\n"
      "1. Small PRs\n2. Feature flags",
      "#engineering #leadership"};
  {
    const ExtractedPage page = extract_html(kLinkedInPost, "", "linkedin");
    EXPECT_EQ(page.title, "Alex Kim on LinkedIn: Shipping beats perfect");
    EXPECT_EQ(page.author, "Alex Kim");
    EXPECT_EQ(page.site_name, "LinkedIn");
    EXPECT_EQ(page.language, "en");
    EXPECT_EQ(texts(page), expected);
  }
  {
    // Detected from the URL instead of the hint.
    const ExtractedPage page =
        extract_html(kLinkedInPost, "https://www.linkedin.com/posts/alexkim_shipping-123");
    EXPECT_EQ(page.author, "Alex Kim");
    EXPECT_EQ(texts(page), expected);
  }
  // Without hint or URL the page's title gives the platform away.
  EXPECT_EQ(texts(extract_html(kLinkedInPost)), expected);
}

constexpr std::string_view kGitHubPage = R"(<html lang="en"><head>
<title>GitHub - octo/widget: A tiny widget library</title>
<meta property="og:title" content="octo/widget: A tiny widget library">
<meta property="og:site_name" content="GitHub">
<meta property="og:url" content="/octo/widget">
<meta name="description" content="A tiny widget library - octo/widget">
</head><body>
<header class="Header"><a href="/">GitHub</a><a href="/login">Sign in</a></header>
<main><div class="repository-content">
<div class="file-navigation"><a>main</a> <a>Go to file</a> <a>Code</a></div>
<div class="Box-header"><a rel="author" href="/octo">octo</a> <a href="/c/1">Fix build</a>
<relative-time datetime="2021-03-04T05:06:07Z">Mar 4, 2021</relative-time></div>
<div id="readme"><h2 class="Box-title"><a href="#readme">README.md</a></h2>
<article class="markdown-body entry-content" itemprop="text">
<h1><a class="anchor" aria-hidden="true" href="#widget"><svg class="octicon"><path d="M0"></path></svg></a>widget</h1>
<p>widget is a tiny library for drawing widgets, with no dependencies.</p>
<h2>Install</h2>
<div class="highlight"><pre><span>npm install widget</span>
<span>widget --init   # three spaces before the comment</span>
</pre></div>
<h2>Usage</h2>
<ul><li>Import it.</li><li>Call <code>draw()</code>.</li></ul>
</article></div>
</div></main>
<footer><a>Terms</a><a>Privacy</a></footer>
</body></html>)";

TEST(ExtractHtmlTest, GitHubReadmeLikePage) {
  for (const std::string hint : {"github", ""}) {
    SCOPED_TRACE("hint '" + hint + "'");
    const ExtractedPage page = extract_html(kGitHubPage, "https://github.com/octo/widget", hint);
    EXPECT_EQ(page.title, "octo/widget: A tiny widget library");
    EXPECT_EQ(page.author, "");  // committers are not the README's author
    EXPECT_EQ(page.published, "2021-03-04T05:06:07Z");
    EXPECT_EQ(page.canonical_url, "https://github.com/octo/widget");
    EXPECT_EQ(page.site_name, "GitHub");
    const std::vector<Block> expected = {
        {Kind::kParagraph, 0,
         "widget is a tiny library for drawing widgets, with no dependencies."},
        {Kind::kHeading, 2, "Install"},
        {Kind::kCode, 0, "npm install widget\nwidget --init   # three spaces before the comment"},
        {Kind::kHeading, 2, "Usage"},
        {Kind::kListItem, 1, "Import it."},
        {Kind::kListItem, 1, "Call draw()."},
    };
    EXPECT_EQ(page.blocks, expected);
  }
}

constexpr std::string_view kNewsPage =
    R"(<!doctype html><html lang="en-GB"><head><meta charset="utf-8">
<title>Council approves new cycle lanes - The Daily Example</title>
<meta property="og:site_name" content="The Daily Example">
<meta name="author" content="Priya Patel">
<meta property="article:published_time" content="2022-11-08T09:15:00+00:00">
<style>.cookie-banner { position: fixed }</style>
<script>window.dataLayer = [];</script>
</head><body>
<div id="cookie-consent" class="cookie-banner"><p>We use cookies to improve your experience. By continuing, you agree to our use of cookies.</p><button>Accept</button></div>
<header class="site-header"><nav class="main-nav"><ul><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li></ul></nav></header>
<div class="breadcrumbs"><a href="/">Home</a> &gt; <a href="/news">News</a></div>
<main><article>
<h1>Council approves new cycle lanes</h1>
<p class="byline">By Priya Patel</p>
<time datetime="2022-11-08T09:15:00Z">8 November 2022</time>
<div class="share-buttons"><a href="#">Share on Facebook</a><a href="#">Share on Twitter</a></div>
<div class="article-body">
<p>The city council voted on Tuesday to build twelve kilometres of protected cycle lanes, the largest such project in the region.</p>
<p>Construction will begin in spring, and the first lanes should open by the end of next year, officials said.</p>
<div class="ad-slot"><p>Advertisement</p></div>
<p>Residents were divided. Some welcomed safer streets, while shop owners worried about losing parking spaces.</p>
<aside class="related-stories"><h3>Related</h3><ul><li><a href="/a">Bus fares to rise</a></li><li><a href="/b">New bridge opens</a></li></ul></aside>
<p style="display:none">Hidden teaser text that no reader sees on the page at all.</p>
<p>The council will publish detailed plans next month.</p>
</div>
</article>
<section id="comments" class="comments"><h2>Comments</h2><div class="comment"><p>About time, this is great news for the city, thanks.</p></div></section>
<div class="newsletter-signup"><p>Get the morning briefing in your inbox every day.</p><input type="email"><button>Sign up</button></div>
</main>
<footer class="site-footer"><p>&copy; 2022 The Daily Example</p><a href="/privacy">Privacy</a></footer>
</body></html>)";

TEST(ExtractHtmlTest, NewsPageWithFurniture) {
  const ExtractedPage page = extract_html(kNewsPage, "https://news.example/2022/11/lanes");
  EXPECT_EQ(page.title, "Council approves new cycle lanes");
  EXPECT_EQ(page.author, "Priya Patel");
  EXPECT_EQ(page.published, "2022-11-08T09:15:00Z");
  EXPECT_EQ(page.site_name, "The Daily Example");
  EXPECT_EQ(page.language, "en-GB");
  EXPECT_EQ(page.canonical_url, "https://news.example/2022/11/lanes");
  const std::vector<std::string> expected = {
      "The city council voted on Tuesday to build twelve kilometres of protected cycle lanes, "
      "the largest such project in the region.",
      "Construction will begin in spring, and the first lanes should open by the end of next "
      "year, officials said.",
      "Residents were divided. Some welcomed safer streets, while shop owners worried about "
      "losing parking spaces.",
      "The council will publish detailed plans next month."};
  EXPECT_EQ(texts(page), expected);
  EXPECT_EQ(page.body_text(),
            expected[0] + "\n\n" + expected[1] + "\n\n" + expected[2] + "\n\n" + expected[3]);
}

// --- Metadata -----------------------------------------------------------------

TEST(ExtractHtmlTest, ReadsMetaTagsSavedWithValueAttributes) {
  // Some tools save <meta name="og:title" value="..."> instead of
  // property/content (the Postlight fixtures do).
  const ExtractedPage page = extract_html(
      R"(<html><head><meta value="Saved Title" name="og:title"><meta name="author" value="Ann Lee">
      <meta value="2018-01-19T17:06:07.358Z" name="article:published_time">
      <meta value="https://example.com/post" name="og:url"><meta name="locale" value="en_US">
      </head><body><p>Body text.</p></body></html>)");
  EXPECT_EQ(page.title, "Saved Title");
  EXPECT_EQ(page.author, "Ann Lee");
  EXPECT_EQ(page.published, "2018-01-19T17:06:07.358Z");
  EXPECT_EQ(page.canonical_url, "https://example.com/post");
}

TEST(ExtractHtmlTest, PrefersJsonLdAndStripsTitleDecorations) {
  const ExtractedPage page = extract_html(
      R"(<html><head><title>Real Title | My Blog</title><meta property="og:site_name" content="My Blog">
      <script type="application/ld+json">{"@graph":[{"@type":"WebPage","name":"x"},
      {"@type":["BlogPosting"],"headline":"Real Title - Jo Bloggs","author":["Jo Bloggs",
      {"@type":"Person","name":"Al Smith"}],"datePublished":"2021-06-01"}]}</script>
      <meta property="article:published_time" content="1999-01-01"><meta name="author" content="Nobody">
      </head><body><p>Some text here.</p></body></html>)");
  EXPECT_EQ(page.title, "Real Title");
  EXPECT_EQ(page.author, "Jo Bloggs, Al Smith");
  EXPECT_EQ(page.published, "2021-06-01");
  EXPECT_EQ(strip_title_decorations("Title | by Jo Bloggs | Medium", "", "Jo Bloggs"), "Title");
  EXPECT_EQ(strip_title_decorations("A - B - C", "", ""), "A - B - C");
}

TEST(ExtractHtmlTest, FindsBylinesAndTimeElementsWithoutMetadata) {
  const ExtractedPage page = extract_html(
      R"(<html><body><article><h1>Plain Blog Post</h1>
      <div class="post-meta"><span class="author-name">By Maria Gomez</span>
      <time datetime="2020-02-29T23:30:00-05:00">Feb 29</time></div>
      <p>The first paragraph of the post has enough words to count as content here.</p>
      <div class="comment"><span class="author-name">Troll</span><p>First!</p></div>
      </article></body></html>)");
  EXPECT_EQ(page.title, "Plain Blog Post");
  EXPECT_EQ(page.author, "Maria Gomez");
  EXPECT_EQ(page.published, "2020-03-01T04:30:00Z");
  EXPECT_EQ(texts(page),
            std::vector<std::string>{"The first paragraph of the post has enough words to count as "
                                     "content here."});
}

TEST(ExtractHtmlTest, ResolvesRelativeCanonicalUrls) {
  EXPECT_EQ(resolve_url("/a/b?c", "https://ex.com/x/y"), "https://ex.com/a/b?c");
  EXPECT_EQ(resolve_url("c.html", "https://ex.com/x/y.html"), "https://ex.com/x/c.html");
  EXPECT_EQ(resolve_url("//cdn.ex.com/p", "http://ex.com/"), "http://cdn.ex.com/p");
  EXPECT_EQ(resolve_url("https://other.org/", "https://ex.com/"), "https://other.org/");
  EXPECT_EQ(resolve_url("/a", ""), "/a");
}

TEST(ExtractHtmlTest, KeepsTablesCellsAndLineBreaks) {
  const ExtractedPage page = extract_html(
      "<body><article><p>Line one<br>line two<br><br>New paragraph</p>"
      "<table><tr><th>Name</th><th>Value</th></tr><tr><td>alpha</td><td>1</td></tr></table>"
      "<h4>Deep heading</h4><ol><li><p>Item with paragraph</p></li></ol></article></body>");
  const std::vector<Block> expected = {
      {Kind::kParagraph, 0, "Line one\nline two"},
      {Kind::kParagraph, 0, "New paragraph"},
      {Kind::kParagraph, 0, "Name"},
      {Kind::kParagraph, 0, "Value"},
      {Kind::kParagraph, 0, "alpha"},
      {Kind::kParagraph, 0, "1"},
      {Kind::kHeading, 4, "Deep heading"},
      {Kind::kListItem, 1, "Item with paragraph"},
  };
  EXPECT_EQ(page.blocks, expected);
}

// --- Charsets -----------------------------------------------------------------

TEST(ExtractHtmlTest, DecodesDeclaredWindows1252) {
  const std::string html =
      "<html><head><meta charset=\"windows-1252\"><title>Caf\xE9</title></head>"
      "<body><p>\x93Quoted\x94 na\xEFve \x80"
      "5 \x97 done</p></body></html>";
  const ExtractedPage page = extract_html(html);
  EXPECT_EQ(page.title, "Café");
  EXPECT_EQ(page.body_text(), "“Quoted” naïve €5 — done");
}

TEST(ExtractHtmlTest, DecodesLatin1DeclaredInContentType) {
  const std::string html =
      "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-1\">"
      "<p>Gr\xFC\xDF"
      "e</p>";
  EXPECT_EQ(extract_html(html).body_text(), "Grüße");
}

TEST(ExtractHtmlTest, ReplacesIllFormedUtf8) {
  const ExtractedPage page =
      extract_html("<meta charset=utf-8><p>ok \xC3\xA9 bad \xFF\xFE end \xE2\x82</p>");
  EXPECT_TRUE(is_valid_utf8(page.body_text()));
  EXPECT_EQ(page.body_text(), "ok é bad \uFFFD\uFFFD end \uFFFD");
}

TEST(HtmlCharsetTest, SniffsAndDecodes) {
  EXPECT_EQ(sniff_meta_charset("<META HTTP-EQUIV='content-type' CONTENT='text/html; "
                               "Charset=\"Windows-1252\"'>"),
            "windows-1252");
  EXPECT_EQ(sniff_meta_charset("<meta charset='utf-8'>"), "utf-8");
  EXPECT_EQ(sniff_meta_charset("<p>no declaration</p>"), "");
  // Declared Latin-1 but really UTF-8: kept as UTF-8.
  EXPECT_EQ(decode_html_bytes("<meta charset=iso-8859-1><p>caf\xC3\xA9"),
            "<meta charset=iso-8859-1><p>caf\xC3\xA9");
  // Undeclared and not UTF-8: windows-1252.
  EXPECT_EQ(decode_html_bytes("caf\xE9 \x93x\x94"), "café “x”");
  // Mostly UTF-8 with one damaged byte: UTF-8 with a replacement.
  EXPECT_EQ(decode_html_bytes("caf\xC3\xA9 na\xC3\xAFve \xFF"), "café naïve \uFFFD");
  // UTF-16 with a byte order mark.
  EXPECT_EQ(decode_html_bytes(std::string("\xFF\xFE<\0p\0>\0\xE9\0=\xD8\x00\xDE", 14)), "<p>é😀");
  EXPECT_EQ(decode_html_bytes("\xEF\xBB\xBFhi"), "hi");
  EXPECT_EQ(decode_html_bytes("<meta charset=iso-8859-15>\xA4"), "<meta charset=iso-8859-15>€");
}

// --- Dates ----------------------------------------------------------------------

TEST(NormalizeDateTest, NormalizesCommonForms) {
  EXPECT_EQ(normalize_date("2016-10-19T14:30:56.529Z"), "2016-10-19T14:30:56.529Z");
  EXPECT_EQ(normalize_date("2020-09-24T19:29:03+03:00"), "2020-09-24T16:29:03Z");
  EXPECT_EQ(normalize_date("2020-01-01T01:00:00+0230"), "2019-12-31T22:30:00Z");
  EXPECT_EQ(normalize_date("2023-12-16T22:22:08.5+08:00"), "2023-12-16T14:22:08.5Z");
  EXPECT_EQ(normalize_date("2024-02-29"), "2024-02-29");
  EXPECT_EQ(normalize_date("2024/03/05 10:11"), "2024-03-05T10:11:00");
  EXPECT_EQ(normalize_date("Thu, 15 Oct 2015 02:19:15 GMT"), "2015-10-15T02:19:15Z");
  EXPECT_EQ(normalize_date("Published Dec 19, 2016"), "2016-12-19");
  EXPECT_EQ(normalize_date("19 December 2016"), "2016-12-19");
  EXPECT_EQ(normalize_date("March 3rd, 2021"), "2021-03-03");
  EXPECT_EQ(normalize_date("1445998755"), "2015-10-28T02:19:15Z");
  EXPECT_EQ(normalize_date("1445998755123"), "2015-10-28T02:19:15.123Z");
}

TEST(NormalizeDateTest, RejectsNonDates) {
  EXPECT_EQ(normalize_date(""), "");
  EXPECT_EQ(normalize_date("yesterday"), "");
  EXPECT_EQ(normalize_date("2023-02-30"), "");
  EXPECT_EQ(normalize_date("2023-13-01"), "");
  EXPECT_EQ(normalize_date("5 min read"), "");
}

// --- Bad input ----------------------------------------------------------------

TEST(ExtractHtmlTest, SurvivesBinaryGarbage) {
  std::mt19937 rng(7);
  std::string bytes(1 << 20, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  const ExtractedPage page = extract_html(bytes);
  EXPECT_TRUE(is_valid_utf8(page.body_text()));
  EXPECT_TRUE(is_valid_utf8(page.title));
}

TEST(ExtractHtmlTest, SurvivesTruncatedMarkup) {
  EXPECT_EQ(extract_html("<html><body><p>Hello <b>wor").body_text(), "Hello wor");
  EXPECT_EQ(extract_html("<p>text</p><a href=\"unterminated").body_text(), "text");
  EXPECT_EQ(extract_html("<p>kept</p><!-- never closed <p>lost").body_text(), "kept");
  EXPECT_EQ(extract_html("<p>kept</p><script>var a = '<p>x</p>'").body_text(), "kept");
  EXPECT_EQ(extract_html("").body_text(), "");
  EXPECT_EQ(extract_html("<").body_text(), "<");
  EXPECT_EQ(extract_html(std::string("<p>a\0b</p>", 10)).blocks.size(), 1u);
}

TEST(ExtractHtmlTest, HandlesATenMegabytePage) {
  const std::string paragraph =
      "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
      "incididunt ut labore et dolore magna aliqua.</p>\n";
  const std::string html = "<html><body><article>" +
                           repeat(paragraph, (10u << 20) / paragraph.size() + 1) +
                           "</article></body></html>";
  ASSERT_GE(html.size(), 10u << 20);
  const ExtractedPage page = extract_html(html);
  EXPECT_GT(page.blocks.size(), 1000u);
  EXPECT_EQ(page.blocks.front().text.substr(0, 11), "Lorem ipsum");
}

TEST(ExtractHtmlTest, HandlesDeepNesting) {
  const std::string html = repeat("<div>", 100000) + "deep text" + repeat("</div>", 100000);
  EXPECT_EQ(extract_html(html).body_text(), "deep text");
  // Inline nesting, list nesting and blockquotes too.
  EXPECT_EQ(extract_html(repeat("<span>", 200000) + "inline").body_text(), "inline");
  EXPECT_FALSE(extract_html(repeat("<ul><li>x", 50000)).blocks.empty());
  EXPECT_EQ(extract_html(repeat("<blockquote>", 100000) + "quoted").body_text(), "quoted");
}

TEST(HtmlTreeTest, WalksDeepTreesWithoutRecursion) {
  // Inline elements nest without the parser's quadratic scope checks.
  const HtmlTree tree(repeat("<span>", 200000) + "leaf");
  int deepest = 0;
  std::vector<int> depth(tree.size(), 0);
  for (int i = 1; i < tree.size(); ++i) {
    depth[i] = depth[tree.parent(i)] + 1;
    deepest = std::max(deepest, depth[i]);
  }
  EXPECT_GT(deepest, 100000);  // gumbo's tree really is that deep
  EXPECT_EQ(tree.collapsed_text(HtmlTree::kRoot), "leaf");
}

// Inputs on which gumbo's tree construction is quadratic or worse; each took
// from seconds to minutes before html_bounds.cc.
TEST(ExtractHtmlTest, StaysFastOnParserWorstCases) {
  auto numbered = [](std::string_view pattern, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) {
      std::string p(pattern);
      const size_t at = p.find('%');
      if (at != std::string::npos) p.replace(at, 1, std::to_string(i));
      out += p;
    }
    return out + "x";
  };
  for (const std::string& html :
       {numbered("<div>", 200000), numbered("<p><b id=%></p>", 50000),
        numbered("<b><i><u>", 100000), numbered("<table><div>", 100000),
        numbered("<li>x<ul>", 100000), numbered("<template><div>", 100000),
        numbered("<table><tr><td><font size=%>", 50000), numbered("<h1><h2><h3>", 50000)}) {
    const ExtractedPage page = extract_html(html);
    EXPECT_TRUE(is_valid_utf8(page.body_text()));
  }
  std::string attributes = "<div ";
  for (int i = 0; i < 100000; ++i) attributes += "a" + std::to_string(i) + "=1 ";
  EXPECT_EQ(extract_html(attributes + ">text</div>").body_text(), "text");
  std::mt19937 rng(3);
  static const char* kTags[] = {
      "<div>",    "</div>",   "<p>",       "<b>",       "</b>",   "<a href=#>", "</a>",   "<table>",
      "<td>",     "<li>",     "<ul>",      "text ",     "<br>",   "<pre>",      "</p>",   "<svg>",
      "<math>",   "<select>", "<i id=1>",  "<font>",    "<nobr>", "</td>",      "<form>", "<h1>",
      "<button>", "<object>", "<marquee>", "<caption>", "<tr>",   "<frameset>"};
  std::string soup;
  for (int i = 0; i < 400000; ++i) soup += kTags[rng() % 30];
  EXPECT_TRUE(is_valid_utf8(extract_html(soup).body_text()));
}

TEST(HtmlBoundsTest, LeavesOrdinaryMarkupAlone) {
  EXPECT_EQ(bound_html("<p class=\"a>b\">x<!-- c --><script>f('<p>')</script><b>y</b></p>"
                       "<style>p{}</style><script type=\"application/ld+json\">{\"a\":1}</script>"),
            "<p class=\"a>b\">x<script></script><b>y</b></p><style></style>"
            "<script type=\"application/ld+json\">{\"a\":1}</script>");
}

TEST(HtmlBoundsTest, ClosedElementsDoNotCountTowardsTheDepth) {
  // Hundreds of scripts, styles and well-nested blocks before the content
  // must not exhaust the depth budget.
  const std::string page = "<html><head>" +
                           repeat("<script>var x = '<div>';</script><style>a{}</style>", 400) +
                           "</head><body>" + repeat("<div><p>para</p><b>b</b></div>", 400) +
                           "<p>the end</p></body></html>";
  const std::string bounded = bound_html(page);
  EXPECT_NE(bounded.find("<p>the end</p>"), std::string::npos);
  EXPECT_EQ(bound_html("<p>a<!-->b<!--->c<!-- x -->d"), "<p>abcd");
}

TEST(HtmlBoundsTest, DropsWhatExceedsTheLimits) {
  HtmlBounds bounds;
  bounds.max_depth = 4;
  bounds.max_attributes = 2;
  bounds.max_output_bytes = 64;
  EXPECT_EQ(bound_html("<div><div><div><div><div>x</div></div>", bounds),
            "<div><div><div><div>x</div></div>");
  EXPECT_EQ(bound_html("<p a=1 b=2 c=3 d=4>x", bounds), "<p a=1 b=2>x");
  EXPECT_EQ(bound_html(repeat("é", 100), bounds).size(), 64u);
}

// --- Real pages -----------------------------------------------------------------

namespace fs = std::filesystem;

// Lower-case alphanumeric words, the unit of comparison with expected text.
std::vector<std::string> tokens(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || u >= 0x80) {
      word.push_back(c);
    } else if (u >= 'A' && u <= 'Z') {
      word.push_back(static_cast<char>(u + 32));
    } else if (!word.empty()) {
      out.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

// Share of `expected` tokens found in `got` (multiset intersection).
double overlap(const std::vector<std::string>& expected, const std::vector<std::string>& got) {
  if (expected.empty()) return 1;
  std::map<std::string, int> counts;
  for (const std::string& t : got) ++counts[t];
  size_t hits = 0;
  for (const std::string& t : expected) {
    if (counts[t]-- > 0) ++hits;
  }
  return static_cast<double>(hits) / static_cast<double>(expected.size());
}

std::string json_string(const nlohmann::json& j, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    if (j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  }
  return "";
}

// Two ISO-8601 instants agree to the second (or two dates to the day).
bool same_instant(const std::string& expected, const std::string& got) {
  const size_t n = (expected.size() >= 19 && got.size() >= 19) ? 19 : 10;
  return expected.substr(0, n) == got.substr(0, n);
}

struct RealPage {
  std::string name;
  std::string platform;
  std::string url;
  std::string html;
  nlohmann::json expected;
  std::string expected_body;  // from expected.html, when present
};

std::vector<RealPage> load_real_pages(const fs::path& dir) {
  std::vector<RealPage> pages;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (!entry.is_directory() || !fs::exists(entry.path() / "source.html")) continue;
    RealPage page;
    page.name = entry.path().filename().string();
    page.platform = page.name.substr(0, page.name.find('-'));
    page.html = read_file(entry.path() / "source.html", "test page");
    const fs::path json = fs::exists(entry.path() / "expected.json")
                              ? entry.path() / "expected.json"
                              : entry.path() / "expected-metadata.json";
    page.expected = nlohmann::json::parse(read_file(json, "test page"), nullptr, false);
    if (fs::exists(entry.path() / "url.txt")) {
      page.url = read_file(entry.path() / "url.txt", "test page");
      while (!page.url.empty() && std::isspace(static_cast<unsigned char>(page.url.back()))) {
        page.url.pop_back();
      }
    } else {
      page.url = json_string(page.expected, {"url"});
    }
    if (fs::exists(entry.path() / "expected.html")) {
      const HtmlTree tree(read_file(entry.path() / "expected.html", "test page"));
      page.expected_body = tree.collapsed_text(HtmlTree::kRoot, 1u << 30);
    }
    pages.push_back(std::move(page));
  }
  std::sort(pages.begin(), pages.end(),
            [](const RealPage& a, const RealPage& b) { return a.name < b.name; });
  return pages;
}

// The title matches when equal, or when the expected one only adds a site
// or author suffix ("X - John C. Welch - Medium" for "X").
bool title_matches(const std::string& expected, const std::string& got) {
  if (expected == got) return true;
  return !got.empty() && expected.rfind(got + " ", 0) == 0;
}

void check_real_page(const RealPage& page, const std::string& hint, const std::string& url) {
  const ExtractedPage got = extract_html(page.html, url, hint);
  const std::string expected_title = json_string(page.expected, {"title"});
  const std::string expected_author = json_string(page.expected, {"author", "byline"});
  const std::string expected_date =
      json_string(page.expected, {"date_published", "publishedTime", "publishedDate"});
  if (!expected_title.empty()) {
    EXPECT_TRUE(title_matches(expected_title, got.title))
        << "expected title '" << expected_title << "', got '" << got.title << "'";
  }
  if (!expected_author.empty()) {
    EXPECT_EQ(got.author, expected_author);
  }
  // LinkedIn shows its date only as text, which only its platform rule reads.
  const bool date_in_metadata = !(page.platform == "linkedin" && hint.empty());
  if (!expected_date.empty() && date_in_metadata) {
    EXPECT_TRUE(same_instant(expected_date, got.published))
        << "expected date " << expected_date << ", got '" << got.published << "'";
  }
  const std::vector<std::string> body = tokens(got.body_text());
  if (!page.expected_body.empty()) {
    const std::vector<std::string> expected = tokens(page.expected_body);
    const double recall = overlap(expected, body);
    const double precision = overlap(body, expected);
    std::printf("  %-45s hint=%-9s recall %.3f precision %.3f (%zu / %zu words)\n",
                page.name.c_str(), hint.empty() ? "-" : hint.c_str(), recall, precision,
                body.size(), expected.size());
    EXPECT_GE(recall, 0.8);
    EXPECT_GE(precision, 0.7);
  }
  const std::string starts = json_string(page.expected, {"content_starts_with"});
  if (!starts.empty()) {
    const std::vector<std::string> want = tokens(starts);
    const std::vector<std::string> first(body.begin(),
                                         body.begin() + std::min(body.size(), want.size()));
    EXPECT_EQ(first, want) << "body starts: " << got.body_text().substr(0, 200);
    std::printf("  %-45s hint=%-9s first %zu words match: %s (%zu words)\n", page.name.c_str(),
                hint.empty() ? "-" : hint.c_str(), want.size(), first == want ? "yes" : "NO",
                body.size());
  }
}

TEST(RealPagesTest, ExtractsTitleAuthorAndBody) {
  const fs::path shared = shared_corpus_dir();
  if (shared.empty()) GTEST_SKIP() << "no real-pages folder (set TWINFLOW_SHARED_DIR)";
  const std::vector<RealPage> pages = load_real_pages(shared / "real-pages");
  ASSERT_FALSE(pages.empty());
  for (const RealPage& page : pages) {
    SCOPED_TRACE(page.name);
    ASSERT_FALSE(page.expected.is_discarded());
    {
      SCOPED_TRACE("with platform hint and URL");
      check_real_page(page, page.platform, page.url);
    }
    {
      SCOPED_TRACE("without hint or URL");
      check_real_page(page, "", "");
    }
  }
}

}  // namespace
}  // namespace twinflow
