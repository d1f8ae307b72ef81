// Tests for store/english_analyzer: hand-written analyses (stop words using up
// positions, hyphenated compounds and their parts, numbers, apostrophes,
// skipped HTML, PostgreSQL's length and position limits, empty and invalid
// input) whose expected values were taken from PostgreSQL 15; then, against
// the test PostgreSQL, exact equality with to_tsvector('english', ...) on
// tricky strings, >= 99% agreement of (lexeme, position) pairs on the saved
// pages of /work/shared/real-pages when present, and round trips of the
// tsvector literal through ::tsvector::text.
#include "store/english_analyzer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "tests/support/shared_corpora.h"
#include "tests/support/test_database.h"
#include "util/files.h"

namespace twinflow {
namespace {

namespace fs = std::filesystem;

// The lexemes of analyze_english alone, in its order.
std::vector<std::string> english_lexemes(std::string_view text) {
  std::vector<std::string> out;
  for (Lexeme& l : analyze_english(text)) out.push_back(std::move(l.text));
  return out;
}

std::string analysed(std::string_view text) {
  return to_tsvector_literal(analyze_english(text));
}

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t n = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 ? 2 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

using Occurrences = std::set<std::pair<std::string, int>>;

Occurrences occurrences(const std::vector<Lexeme>& lexemes) {
  Occurrences out;
  for (const Lexeme& l : lexemes)
    for (uint16_t p : l.positions) out.insert({l.text, p});
  return out;
}

// --- Without a database -------------------------------------------------------

TEST(EnglishAnalyzer, WordsStemsAndStopWords) {
  EXPECT_EQ(analysed("The cats are running"), "'cat':2 'run':4");
  // Stop words are dropped but use up their positions.
  EXPECT_EQ(analysed("To be or not to be: that is the question."), "'question':10");
  EXPECT_EQ(analysed("zebra Apple apples ab abc Zulu école 42"),
            "'42':8 'ab':4 'abc':5 'appl':2,3 'zebra':1 'zulu':6 'école':7");
  EXPECT_EQ(analysed("ÉCOLE Äpfel ΣΟΦΙΑ Москва"), "'äpfel':2 'école':1 'σοφια':3 'москва':4");
}

TEST(EnglishAnalyzer, HyphenatedCompoundsComeBeforeTheirParts) {
  EXPECT_EQ(analysed("State-of-the-art fine-tuning"),
            "'art':5 'fine':7 'fine-tun':6 'state':2 'state-of-the-art':1 'tune':8");
  EXPECT_EQ(analysed("COVID-19 x86-64 e-mail re-re-read"),
            "'-19':2 '-64':4 'covid':1 'e':6 'e-mail':5 'mail':7 're':9,10 're-re-read':8 "
            "'read':11 'x86':3");
}

TEST(EnglishAnalyzer, Numbers) {
  EXPECT_EQ(analysed("42 -17 +5 3.14 -2.5 1e10 2.5e-3 v1.2.3 1.2.3 10.0.0.1"),
            "'+5':3 '-17':2 '-2.5':5 '1.2.3':9 '10.0.0.1':10 '1e10':6 '2.5e-3':7 '3.14':4 "
            "'42':1 'v1.2.3':8");
}

TEST(EnglishAnalyzer, Apostrophes) {
  EXPECT_EQ(analysed("Don't stop: O'Reilly's dog's bone; it’s fine"),
            "'bone':9 'dog':7 'fine':12 'o':4 'reilli':5 'stop':3");
}

TEST(EnglishAnalyzer, HtmlTagsEntitiesScriptsAndCommentsAreSkipped) {
  EXPECT_EQ(analysed("<p class=\"x\">Hello <b>world</b></p> &amp; &#169; "
                     "<script>var hidden = 1;</script><!-- note --> done"),
            "'done':3 'hello':1 'world':2");
}

TEST(EnglishAnalyzer, EmailsUrlsHostsAndPaths) {
  EXPECT_EQ(analysed("mail bob@example.com see https://example.com/a/b?x=1 and /usr/local/bin"),
            "'/a/b?x=1':6 '/usr/local/bin':8 'bob@example.com':2 'example.com':5 "
            "'example.com/a/b?x=1':4 'mail':1 'see':3");
}

TEST(EnglishAnalyzer, LongTokensAreDroppedWithoutAPosition) {
  // PostgreSQL ignores tokens of 2047 bytes or more; 2046 are kept.
  EXPECT_EQ(analysed("x " + std::string(2047, 'b') + " y"), "'x':1 'y':2");
  const auto kept = analyze_english(std::string(2046, 'a') + " y");
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].text, std::string(2046, 'a'));
  EXPECT_EQ(analysed(repeat("é", 1024) + " y"), "'y':1");
  // Over 1000 bytes the stemmer is skipped: only lower-cased.
  EXPECT_EQ(english_lexemes(std::string(1001, 'B') + "ING")[0], std::string(1001, 'b') + "ing");
}

TEST(EnglishAnalyzer, PositionLimits) {
  // At most 255 positions per lexeme (MAXNUMPOS - 1), the first ones.
  const auto words = analyze_english(repeat("word ", 300));
  ASSERT_EQ(words.size(), 1u);
  ASSERT_EQ(words[0].positions.size(), 255u);
  EXPECT_EQ(words[0].positions.front(), 1);
  EXPECT_EQ(words[0].positions.back(), 255);
  EXPECT_EQ(analyzed_length(words), 255);
  // Positions stop at 16383, shared by everything after it.
  std::string text;
  for (int i = 0; i < 16390; ++i) text += "w" + std::to_string(i % 100) + "x ";
  const auto far = analyze_english(text + "last final");
  EXPECT_EQ(far[0].text, "final");
  EXPECT_EQ(far[0].positions, std::vector<uint16_t>{16383});
  const auto last = std::find_if(far.begin(), far.end(), [](auto& l) { return l.text == "last"; });
  ASSERT_NE(last, far.end());
  EXPECT_EQ(last->positions, std::vector<uint16_t>{16383});
}

TEST(EnglishAnalyzer, EmptyAndBlankText) {
  EXPECT_TRUE(analyze_english("").empty());
  EXPECT_TRUE(analyze_english(" \t\n\r  ,.;  ").empty());
  EXPECT_TRUE(analyze_english("the and of <b></b> &amp;").empty());
  EXPECT_EQ(to_tsvector_literal({}), "");
  EXPECT_EQ(analyzed_length({}), 0);
}

TEST(EnglishAnalyzer, InvalidUtf8DoesNotCrash) {
  const std::string bad = "abc \xff\xfe def\xc3 \xe2\x82 gh\xed\xa0\x80ij \xf4\x90\x80\x80 k\xc3";
  const auto lexemes = analyze_english(bad);
  for (const Lexeme& l : lexemes) EXPECT_TRUE(valid_utf8(l.text)) << l.text;
  const auto texts = english_lexemes(bad);
  EXPECT_NE(std::find(texts.begin(), texts.end(), "abc"), texts.end());
  EXPECT_NE(std::find(texts.begin(), texts.end(), "def"), texts.end());
  std::string noise;
  for (int i = 0; i < 5000; ++i) noise.push_back(static_cast<char>((i * 7919) % 256));
  for (const Lexeme& l : analyze_english(noise)) EXPECT_TRUE(valid_utf8(l.text));
}

TEST(EnglishAnalyzer, LexemesAndLength) {
  EXPECT_EQ(english_lexemes("Running runs; the runner ran"),
            (std::vector<std::string>{"ran", "run", "runner"}));
  const auto l = analyze_english("Running runs; the runner ran");
  EXPECT_EQ(analyzed_length(l), 4);
  EXPECT_EQ(analyzed_length({Lexeme{"a", {}}, Lexeme{"b", {1, 2}}}), 3);
}

// search_terms counts positions without building them: the same lexemes, in
// the same order, as many positions of each and the same length as
// analyze_english, including at PostgreSQL's limits.
TEST(EnglishAnalyzer, SearchTermsCountWhatTheAnalysisKeeps) {
  std::string far;
  for (int i = 0; i < 16390; ++i) far += "w" + std::to_string(i % 100) + "x ";
  const std::vector<std::string> texts = {
      "",
      "the and of",
      "Running runs; the runner ran. Connection pools connect to PostgreSQL 15.",
      "mail bob@example.com see https://example.com/a/b?x=1 and /usr/local/bin v1.2.3",
      repeat("word ", 300) + "other",
      far + "last final last",
      "x " + std::string(2047, 'b') + " y " + std::string(1001, 'B') + "ING",
      "abc \xff\xfe def\xc3 \xe2\x82 gh caf\xc3\xa9 Caf\xc3\xa9 na\xc3\xafve",
  };
  for (const std::string& text : texts) {
    const std::vector<Lexeme> lexemes = analyze_english(text);
    std::string joined;
    std::vector<uint16_t> frequencies;
    for (const Lexeme& l : lexemes) {
      joined += l.text + '\0';
      frequencies.push_back(static_cast<uint16_t>(l.positions.size()));
    }
    const SearchTerms terms = search_terms(text);
    EXPECT_EQ(terms.lexemes, joined) << text.substr(0, 60);
    EXPECT_EQ(terms.frequencies, frequencies) << text.substr(0, 60);
    EXPECT_EQ(terms.length, analyzed_length(lexemes)) << text.substr(0, 60);
  }
  const SearchTerms words = search_terms(repeat("word ", 300));
  EXPECT_EQ(words.frequencies, std::vector<uint16_t>{255});
  EXPECT_EQ(words.length, 255);
}

TEST(EnglishAnalyzer, SameResultOnEveryThread) {
  const std::string text = repeat("Threads share nothing: each stems its own words. ", 200);
  const std::string want = analysed(text);
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      for (int k = 0; k < 20; ++k) got[i] = analysed(text);
    });
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, want);
}

// --- Against PostgreSQL -------------------------------------------------------

const char* const kTrickyStrings[] = {
    "The quick brown fox jumps over the lazy dog's back; it isn't the dogs' fault.",
    "State-of-the-art fine-tuning of GPT-4 and COVID-19 vaccines, well-being, e-mail, co-operate, "
    "x--y, a - b, 3-4, -3-4, abc-123-def, 12-abc",
    "Numbers: 42 -17 +5 3.14 -2.5 +0.5 1e10 2.5e-3 -1.5E+7 1.2.3 v1.2.3 10.0.0.1 1,000,000 0.5. .5 "
    "5. 1.2.3.4.5 -1.2.3",
    "Emails: bob@example.com, first.last+tag@sub.example.co.uk, user_name@host-name.org a@b.c",
    "URLs: https://example.com/a/b?x=1&y=2#frag http://localhost:8080/path "
    "ftp://ftp.example.org/file.txt www.example.com/index.html example.com:443/x",
    "Paths: /usr/local/bin/python3 ./configure ../up/dir ~/notes.txt C:\\Windows\\System32 "
    "file_name.tar.gz /etc/passwd.",
    "HTML: <p class=\"x\">Hello <b>world</b></p> <br/> <img src='a.png' alt=\"pic\"> &amp; "
    "&lt;tag&gt; &#169; &#x27; &nbsp; <!-- a comment --> <script>var x = 1;</script> "
    "<style>.a{color:red}</style> after",
    "Unicode: Café naïve résumé ÉCOLE Äpfel Straße ΣΟΦΙΑ σοφία Москва İstanbul 東京 日本語テキスト "
    "— “quoted” ‘single’ it’s don’t",
    "Mixed: abc123 123abc a1b2c3 x86_64 foo_bar foo.bar foo.bar.baz CamelCase UPPER lower iPhone "
    "O'Reilly rock'n'roll",
    "Punct: hello,world hello.world hello!world (parenthetical) [bracketed] {braced} \"double\" "
    "'single' ... --- *** ### $100 50% @mention #hashtag",
    "Running runs ran runner easily fairly generously happiness relational conditional rational",
    "see example.com/it's/a'b?q='x' and http://h.io/p'q",
    "<a href=\"x\\\"y\">link</a> <tag attr='it\\'s'>in</tag> 3e 3e+ 3e+5x 0x1F 1_000 1-800-555",
    "ab\xcc\x81"
    "cd x\xcc\x81 ab\xc2\xad"
    "cd ab\xe2\x80\x8b"
    "cd \xe0\xa4\x95\xe0\xa4\xbe",
    "",
    "   ",
};

TEST(EnglishAnalyzerPostgres, EqualsToTsvectorOnTrickyStrings) {
  pqxx::connection c(fresh_test_database());
  pqxx::nontransaction tx(c);
  for (const char* text : kTrickyStrings) {
    SCOPED_TRACE(text);
    const std::string want =
        tx.exec_params1("SELECT to_tsvector('english', $1)::text", std::string(text))[0]
            .as<std::string>();
    EXPECT_EQ(analysed(text), want);
  }
}

TEST(EnglishAnalyzerPostgres, AgreesOnRealPages) {
  const fs::path shared = shared_corpus_dir();
  if (shared.empty()) GTEST_SKIP() << "no real-pages folder (set TWINFLOW_SHARED_DIR)";
  std::vector<fs::path> files;
  for (const auto& dir : fs::directory_iterator(shared / "real-pages"))
    if (dir.is_directory())
      for (const auto& f : fs::directory_iterator(dir.path()))
        if (f.is_regular_file()) files.push_back(f.path());
  if (files.empty()) GTEST_SKIP() << "real-pages is empty";
  std::sort(files.begin(), files.end());
  pqxx::connection c(fresh_test_database());
  pqxx::nontransaction tx(c);
  size_t agree = 0, total = 0;
  int exact = 0;
  for (const fs::path& path : files) {
    const std::string text = read_file(path, "test page");
    if (!valid_utf8(text) || text.find('\0') != std::string::npos) continue;  // not storable
    Occurrences want;
    for (const auto& row : tx.exec_params(
             "SELECT u.lexeme, p FROM unnest(to_tsvector('english', $1)) u, unnest(u.positions) p",
             text))
      want.insert({row[0].as<std::string>(), row[1].as<int>()});
    const Occurrences got = occurrences(analyze_english(text));
    size_t common = 0;
    for (const auto& o : got) common += want.count(o);
    agree += common;
    total += std::max(want.size(), got.size());
    exact += want == got;
    if (want != got) std::printf("differs from to_tsvector: %s\n", path.c_str());
  }
  ASSERT_GT(total, 0u);
  const double agreement = static_cast<double>(agree) / static_cast<double>(total);
  std::printf(
      "english analyzer vs to_tsvector on %zu real-page files: %zu/%zu (%.3f%%) "
      "lexeme occurrences agree, %d files identical\n",
      files.size(), agree, total, 100 * agreement, exact);
  EXPECT_GE(agreement, 0.99);
}

TEST(EnglishAnalyzerPostgres, LiteralRoundTrips) {
  pqxx::connection c(fresh_test_database());
  pqxx::nontransaction tx(c);
  std::vector<Lexeme> odd = {{"it's", {1}},       {"back\\slash", {2, 7}}, {"''", {3}},
                             {"a'b\\c", {}},      {"ünïcode", {4}},        {"x y", {5}},
                             {"quote\"d", {6, 9}}};
  std::sort(odd.begin(), odd.end(), [](auto& a, auto& b) { return a.text < b.text; });
  for (const std::vector<Lexeme>& lexemes :
       {odd, analyze_english("see example.com/it's/a'b?q='x' and http://h.io/p'q"),
        analyze_english(kTrickyStrings[7]), analyze_english(repeat("word ", 300))}) {
    const std::string literal = to_tsvector_literal(lexemes);
    SCOPED_TRACE(literal);
    const pqxx::row row = tx.exec_params1(
        "SELECT $1::tsvector::text, (SELECT coalesce(sum(coalesce(array_length(u.positions, 1), "
        "1)), 0)::integer FROM unnest($1::tsvector) u)",
        literal);
    EXPECT_EQ(row[0].as<std::string>(), literal);
    EXPECT_EQ(row[1].as<int>(), analyzed_length(lexemes));
  }
}

}  // namespace
}  // namespace twinflow
