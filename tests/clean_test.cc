// Tests for tasks/text/clean.h (and the UTF-8 and Unicode folding helpers it
// rests on): decorative letters read as plain ones, emoji and control
// characters go, whitespace collapses without losing paragraphs, code keeps
// its layout, URLs are replaced on request, and damaged UTF-8 becomes U+FFFD.
#include "tasks/text/clean.h"

#include <gtest/gtest.h>

#include <string>

#include "tasks/text/utf8.h"

namespace twinflow {
namespace {

std::string prose(std::string_view text) {
  return clean_text(text, CleanOptions{});
}

std::string code(std::string_view text) {
  CleanOptions options;
  options.kind = TextKind::kCode;
  return clean_text(text, options);
}

std::string without_urls(std::string_view text, const std::string& replacement = "[URL]") {
  CleanOptions options;
  options.keep_urls = false;
  options.url_replacement = replacement;
  return clean_text(text, options);
}

TEST(CleanTextTest, MapsMathematicalAlphanumericsToAscii) {
  EXPECT_EQ(prose("𝐇𝐞𝐥𝐥𝐨 𝐖𝐨𝐫𝐥𝐝 𝟏𝟐𝟑"), "Hello World 123");  // bold
  EXPECT_EQ(prose("𝑯𝒆𝒍𝒍𝒐"), "Hello");                      // bold italic
  EXPECT_EQ(prose("𝓗𝓮𝓵𝓵𝓸"), "Hello");                      // bold script
  EXPECT_EQ(prose("𝚑𝚎𝚕𝚕𝚘 𝟶𝟿"), "hello 09");                // monospace
  EXPECT_EQ(prose("𝗛𝗲𝗹𝗹𝗼"), "Hello");                      // sans-serif bold
  EXPECT_EQ(prose("𝘏𝘦𝘭𝘭𝘰"), "Hello");                      // sans-serif italic
  EXPECT_EQ(prose("𝔥𝔢𝔩𝔩𝔬"), "hello");                      // fraktur
  EXPECT_EQ(prose("𝕙𝕖𝕝𝕝𝕠 𝟘𝟙"), "hello 01");                // double-struck
}

TEST(CleanTextTest, MapsLetterlikeHolesOfTheMathAlphabets) {
  // Script and double-struck capitals live partly in Letterlike Symbols.
  EXPECT_EQ(prose("ℋℯ𝓁𝓁ℴ ℝ𝕦𝕤𝕥 ℍ𝕒𝕤𝕜𝕖𝕝𝕝"), "Hello Rust Haskell");
}

TEST(CleanTextTest, MapsMathGreekToGreek) {
  EXPECT_EQ(prose("𝛂𝛃 𝚫"), "αβ Δ");
}

TEST(CleanTextTest, MapsFullwidthCircledSquaredAndLigatures) {
  EXPECT_EQ(prose("Ｈｅｌｌｏ，\u3000ｗｏｒｌｄ！"), "Hello, world!");
  EXPECT_EQ(prose("ⓗⓔⓛⓛⓞ ⒽⒾ"), "hello HI");
  EXPECT_EQ(prose("🅷🅴🅻🅻🅾 🄷🄸"), "HELLO HI");
  EXPECT_EQ(prose("ﬁne ﬂow ﬃ"), "fine flow ffi");
}

TEST(CleanTextTest, KeepsOrdinaryNonAsciiText) {
  const std::string text = "Café “naïve” — 日本語, العربية, Ελληνικά © 2024 ™ €5";
  EXPECT_EQ(prose(text), text);
}

TEST(CleanTextTest, RemovesEmojiAndTheirModifiers) {
  EXPECT_EQ(prose("Launch day 🚀🎉 is here 👋🏽!"), "Launch day is here!");
  EXPECT_EQ(prose("family 👨‍👩‍👧‍👦 flag 🇺🇸 done"), "family flag done");
  EXPECT_EQ(prose("I ❤️ NY ★★★☆"), "I NY");
  EXPECT_EQ(prose("press 1️⃣ now"), "press 1 now");
  EXPECT_EQ(prose("ship🚀it"), "ship it");
  EXPECT_EQ(prose("🔥🔥🔥"), "");
}

TEST(CleanTextTest, KeepsKeyboardSymbolsOfTechnicalWriting) {
  EXPECT_EQ(prose("Press ⌘⇧P"), "Press ⌘⇧P");
}

TEST(CleanTextTest, RemovesControlAndFormatCharacters) {
  EXPECT_EQ(prose("a\x01"
                  "b\x7f"
                  "c\x1b[0m"),
            "abc[0m");
  EXPECT_EQ(prose("C1\xC2\x85here"), "C1here");
  EXPECT_EQ(prose("in\u200Bvis\u00ADible\u2060 \uFEFFtext\u200E"), "invisible text");
}

TEST(CleanTextTest, CollapsesWhitespaceWithinLines) {
  EXPECT_EQ(prose("  Hello \t  world  \u00A0 again  "), "Hello world again");
  EXPECT_EQ(prose("one\u2003two\u3000three"), "one two three");
}

TEST(CleanTextTest, KeepsLineBreaksAndOneBlankLineBetweenParagraphs) {
  EXPECT_EQ(prose("\n\n  First   para  \n  second line \n\n\n \t \n\nNext\r\npara\rend\n\n"),
            "First para\nsecond line\n\nNext\npara\nend");
  EXPECT_EQ(prose("a\u2028b\u2029c"), "a\nb\nc");
}

TEST(CleanTextTest, ReplacesIllFormedUtf8) {
  EXPECT_EQ(prose("a\xFF"
                  "b\xC3"),
            "a\uFFFDb\uFFFD");
  EXPECT_EQ(prose("\xC0\xAF"), "\uFFFD\uFFFD");                // overlong
  EXPECT_EQ(prose("x\xED\xA0\x80y"), "x\uFFFD\uFFFD\uFFFDy");  // surrogate
  EXPECT_EQ(prose("\xE2\x82"), "\uFFFD");                      // truncated, one replacement
  EXPECT_TRUE(is_valid_utf8(prose(std::string("\xF4\x90\x80\x80 \xF8\x88\x80\x80\x80 ok"))));
}

TEST(CleanTextTest, CodeKeepsLayoutAndCharacters) {
  EXPECT_EQ(code("\n\n  int x;   \r\n\tif (y) {\x07  \n\n\n    s = \"🚀 Ｈｉ\";\t\n  }  \n\n"),
            "  int x;\n\tif (y) {\n\n\n    s = \"🚀 Ｈｉ\";\n  }");
  EXPECT_EQ(code("a\xFF"
                 "b"),
            "a\uFFFDb");
}

TEST(CleanTextTest, KeepsUrlsByDefault) {
  const std::string text = "See https://example.com/a?b=1 and www.test.org.";
  EXPECT_EQ(prose(text), text);
}

TEST(CleanTextTest, ReplacesUrlsWhenAsked) {
  EXPECT_EQ(without_urls("See https://example.com/a_(b). Also www.test.org, and "
                         "HTTP://x.y/z?q=1#f!"),
            "See [URL]. Also [URL], and [URL]!");
  EXPECT_EQ(without_urls("(see https://x.org/a) and \"http://q.io\""), "(see [URL]) and \"[URL]\"");
  EXPECT_EQ(without_urls("visit http://a.b", "<url>"), "visit <url>");
  // Not URLs: no host, or not at a word start.
  EXPECT_EQ(without_urls("http:// alone, swww.x.com, www."), "http:// alone, swww.x.com, www.");
}

TEST(CleanTextTest, IsIdempotent) {
  const std::string once =
      prose("  𝐁𝐨𝐥𝐝 🚀 text \n\n\n with  spaces\t\u200B and Ｆｕｌｌ\n\nlast\xFF");
  EXPECT_EQ(prose(once), once);
}

TEST(CleanTextTest, EmptyAndBlankInputs) {
  EXPECT_EQ(prose(""), "");
  EXPECT_EQ(prose(" \n\t\n "), "");
  EXPECT_EQ(code("\n \n"), "");
}

TEST(Utf8HelpersTest, DecodesAndEncodesRoundTrip) {
  for (char32_t cp : {U'A', U'é', U'€', U'😀', char32_t{0x10FFFF}}) {
    std::string s;
    append_utf8(s, cp);
    const DecodedChar d = decode_utf8(s, 0);
    EXPECT_TRUE(d.valid);
    EXPECT_EQ(d.cp, cp);
    EXPECT_EQ(d.len, s.size());
  }
}

TEST(Utf8HelpersTest, FloorNeverSplitsASequence) {
  const std::string s = "a€b";  // € is 3 bytes at 1..3
  EXPECT_EQ(utf8_floor(s, 0), 0u);
  EXPECT_EQ(utf8_floor(s, 2), 1u);
  EXPECT_EQ(utf8_floor(s, 3), 1u);
  EXPECT_EQ(utf8_floor(s, 4), 4u);
  EXPECT_EQ(utf8_floor(s, 99), s.size());
  EXPECT_EQ(utf8_length(s), 3u);
}

}  // namespace
}  // namespace twinflow
