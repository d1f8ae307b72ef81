// Tests of the YAML document tree: node kinds, marks, plain versus quoted
// scalars, block and flow styles, aliases, syntax errors and empty input.
//
// Marks are checked exactly: the DAG loader's diagnostics point where the
// tree says a node is, and its tests expect byte columns.
#include "scheduler/definition/yaml_document.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "tests/support/hostile_yaml.h"

namespace twinflow {
namespace {

// Parses `text`, which must be valid; fails the test with the error if not.
YamlDocument parse_valid(std::string_view text) {
  YamlParseResult result = parse_yaml(text);
  EXPECT_TRUE(result.ok()) << result.error << " at " << result.error_mark.line << ":"
                           << result.error_mark.column;
  return std::move(result.document);
}

// "line:column" of a node, for compact assertions.
std::string at(const YamlNode& node) {
  return std::to_string(node.mark().line) + ":" + std::to_string(node.mark().column);
}

// The value of `key` in `mapping`; a null node when absent.
const YamlNode& value_of(const YamlNode& mapping, std::string_view key) {
  static const YamlNode kAbsent;
  for (const YamlEntry& entry : mapping.entries())
    if (entry.key.is_scalar() && entry.key.scalar() == key) return entry.value;
  return kAbsent;
}

TEST(YamlDocumentTest, BlockMappingOfEveryKind) {
  YamlDocument document = parse_valid(
      "name: hello\n"
      "list:\n"
      "  - a\n"
      "  - b\n"
      "map:\n"
      "  x: 1\n"
      "empty:\n");
  const YamlNode& root = document.root();
  ASSERT_TRUE(root.is_mapping());
  EXPECT_EQ(root.size(), 4u);
  EXPECT_EQ(at(root), "1:1");

  const YamlEntry& name = root.entries()[0];
  EXPECT_EQ(name.key.scalar(), "name");
  EXPECT_EQ(at(name.key), "1:1");
  EXPECT_EQ(name.value.kind(), YamlNode::Kind::kScalar);
  EXPECT_EQ(name.value.scalar(), "hello");
  EXPECT_EQ(at(name.value), "1:7");

  const YamlNode& list = value_of(root, "list");
  ASSERT_TRUE(list.is_sequence());
  ASSERT_EQ(list.items().size(), 2u);
  EXPECT_EQ(list.items()[1].scalar(), "b");
  EXPECT_EQ(at(list), "3:3");
  EXPECT_EQ(at(list.items()[1]), "4:5");
  EXPECT_TRUE(list.entries().empty());  // not a mapping

  const YamlNode& map = value_of(root, "map");
  ASSERT_TRUE(map.is_mapping());
  EXPECT_EQ(at(map.entries()[0].key), "6:3");
  EXPECT_EQ(map.entries()[0].value.scalar(), "1");
  EXPECT_TRUE(map.items().empty());  // not a sequence
  EXPECT_TRUE(map.scalar().empty());

  EXPECT_TRUE(value_of(root, "empty").is_null());
}

TEST(YamlDocumentTest, FlowStyleMarksPointAtTheOpeningBracket) {
  YamlDocument document = parse_valid("steps: [{id: x, needs: [a, b]}, {}, []]\n");
  const YamlNode& steps = value_of(document.root(), "steps");
  ASSERT_TRUE(steps.is_sequence());
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(at(steps), "1:8");
  const YamlNode& step = steps.items()[0];
  EXPECT_EQ(at(step), "1:9");
  EXPECT_EQ(at(step.entries()[1].key), "1:17");
  const YamlNode& needs = value_of(step, "needs");
  EXPECT_EQ(at(needs), "1:24");
  EXPECT_EQ(needs.items()[1].scalar(), "b");
  EXPECT_EQ(at(needs.items()[1]), "1:28");
  EXPECT_TRUE(steps.items()[1].is_mapping());
  EXPECT_EQ(steps.items()[1].size(), 0u);
  EXPECT_TRUE(steps.items()[2].is_sequence());
  EXPECT_EQ(steps.items()[2].size(), 0u);
}

TEST(YamlDocumentTest, PlainAndQuotedScalars) {
  YamlDocument document = parse_valid(
      "- 3\n"
      "- '3'\n"
      "- \"true\"\n"
      "- ~\n"
      "- null\n"
      "- \"a\\tb\\u00e9\"\n"
      "- 'it''s'\n"
      "- \"\"\n");
  auto items = document.root().items();
  ASSERT_EQ(items.size(), 8u);
  EXPECT_TRUE(items[0].is_plain());
  EXPECT_EQ(items[0].scalar(), "3");
  EXPECT_FALSE(items[1].is_plain());
  EXPECT_EQ(items[1].scalar(), "3");
  EXPECT_FALSE(items[2].is_plain());
  // `~` and `null` are plain scalars: what they mean is for the reader to decide.
  EXPECT_TRUE(items[3].is_scalar());
  EXPECT_TRUE(items[3].is_plain());
  EXPECT_EQ(items[3].scalar(), "~");
  EXPECT_EQ(items[4].scalar(), "null");
  EXPECT_EQ(items[5].scalar(), "a\tb\xC3\xA9");
  EXPECT_EQ(items[6].scalar(), "it's");
  // Quoted and empty is an empty string, not a missing value.
  EXPECT_TRUE(items[7].is_scalar());
  EXPECT_FALSE(items[7].is_plain());
  EXPECT_EQ(items[7].scalar(), "");
}

TEST(YamlDocumentTest, BlockScalarsKeepOrFoldNewlines) {
  YamlDocument document = parse_valid(
      "literal: |\n"
      "  line one\n"
      "    indented\n"
      "  line three\n"
      "folded: >\n"
      "  one\n"
      "  two\n"
      "stripped: |-\n"
      "  3\n"
      "plain: one\n"
      "  two\n");
  const YamlNode& root = document.root();
  const YamlNode& literal = value_of(root, "literal");
  EXPECT_EQ(literal.scalar(), "line one\n  indented\nline three\n");
  EXPECT_FALSE(literal.is_plain());
  EXPECT_EQ(at(literal), "1:10");
  EXPECT_EQ(value_of(root, "folded").scalar(), "one two\n");
  EXPECT_EQ(value_of(root, "stripped").scalar(), "3");
  EXPECT_FALSE(value_of(root, "stripped").is_plain());
  EXPECT_EQ(value_of(root, "plain").scalar(), "one two");
  EXPECT_TRUE(value_of(root, "plain").is_plain());
}

TEST(YamlDocumentTest, RepeatedKeysAndNonScalarKeysAreKeptInOrder) {
  YamlDocument document = parse_valid("{b: 1, a: 2, b: 3, [k]: 4, ? x}\n");
  auto entries = document.root().entries();
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0].key.scalar(), "b");
  EXPECT_EQ(entries[1].key.scalar(), "a");
  EXPECT_EQ(entries[2].key.scalar(), "b");
  EXPECT_EQ(entries[2].value.scalar(), "3");
  EXPECT_EQ(at(entries[2].key), "1:14");
  EXPECT_TRUE(entries[3].key.is_sequence());
  EXPECT_EQ(entries[4].key.scalar(), "x");
  EXPECT_TRUE(entries[4].value.is_null());
}

TEST(YamlDocumentTest, TagsAreClassified) {
  YamlDocument document = parse_valid("[!!str 3, ! 3, !!int \"3\", !custom x, 3, !!str ]\n");
  auto items = document.root().items();
  ASSERT_EQ(items.size(), 6u);
  EXPECT_EQ(items[0].tag(), YamlNode::Tag::kString);
  EXPECT_EQ(items[0].scalar(), "3");
  EXPECT_EQ(at(items[0]), "1:2");  // the mark includes the tag
  EXPECT_EQ(items[1].tag(), YamlNode::Tag::kString);
  EXPECT_EQ(items[2].tag(), YamlNode::Tag::kOther);
  EXPECT_EQ(items[3].tag(), YamlNode::Tag::kOther);
  EXPECT_EQ(items[4].tag(), YamlNode::Tag::kNone);
  // A tag with no text is an empty string, not a missing value.
  EXPECT_TRUE(items[5].is_scalar());
  EXPECT_EQ(items[5].scalar(), "");
}

TEST(YamlDocumentTest, AliasesCopyTheAnchoredNodeAndAreMarkedWhereWritten) {
  YamlDocument document = parse_valid(
      "base: &b {command: run, env: {A: x}}\n"
      "name: &n hello\n"
      "copy: *b\n"
      "again: *n\n");
  const YamlNode& root = document.root();
  const YamlNode& base = value_of(root, "base");
  EXPECT_EQ(at(base), "1:7");  // the mark includes the anchor
  const YamlNode& copy = value_of(root, "copy");
  ASSERT_TRUE(copy.is_mapping());
  EXPECT_EQ(at(copy), "3:7");
  EXPECT_EQ(value_of(copy, "command").scalar(), "run");
  EXPECT_EQ(value_of(value_of(copy, "env"), "A").scalar(), "x");
  EXPECT_EQ(at(value_of(copy, "command")), "1:20");  // what is inside keeps its own place
  const YamlNode& again = value_of(root, "again");
  EXPECT_EQ(again.scalar(), "hello");
  EXPECT_EQ(at(again), "4:8");
}

TEST(YamlDocumentTest, UndefinedAndSelfReferringAliasesAreErrors) {
  YamlParseResult undefined = parse_yaml("a: 1\nb: *nope\n");
  EXPECT_EQ(undefined.error, "found undefined alias 'nope'");
  EXPECT_EQ(undefined.error_mark.line, 2);
  EXPECT_EQ(undefined.error_mark.column, 4);
  EXPECT_TRUE(undefined.document.root().is_null());

  YamlParseResult recursive = parse_yaml("a: &x [1, *x]\n");
  EXPECT_EQ(recursive.error, "found alias 'x' inside the node it refers to");
  EXPECT_EQ(recursive.error_mark.line, 1);
  EXPECT_EQ(recursive.error_mark.column, 11);
}

TEST(YamlDocumentTest, SyntaxErrorGivesLibyamlsProblemContextAndPosition) {
  YamlParseResult result = parse_yaml(
      "name: hello\n"
      "steps:\n"
      "  - id: x\n"
      "   command: echo\n");
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error,
            "did not find expected '-' indicator (while parsing a block collection started at "
            "line 3, column 3)");
  EXPECT_EQ(result.error_mark.line, 4);
  EXPECT_EQ(result.error_mark.column, 4);
  EXPECT_TRUE(result.document.root().is_null());
}

TEST(YamlDocumentTest, UnterminatedQuoteIsReportedAtTheEndWithWhereItStarted) {
  YamlParseResult result = parse_yaml("name: \"abc\nsteps: []\n");
  EXPECT_EQ(result.error,
            "found unexpected end of stream (while scanning a quoted scalar started at line 1, "
            "column 7)");
  EXPECT_EQ(result.error_mark.line, 3);
  EXPECT_EQ(result.error_mark.column, 1);
}

// Found by fuzz/dag_loader_fuzz.cc: libyaml puts the end of a text without a
// final line break on a line past the last, which has no text to show.
TEST(YamlDocumentTest, AnErrorAtTheEndOfATextWithoutFinalBreakIsOnItsLastLine) {
  YamlParseResult result = parse_yaml("a: 1\nb: {c: d");
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error_mark.line, 2);
  EXPECT_EQ(result.error_mark.column, 9);
  YamlParseResult quoted = parse_yaml("name: \"\u00e9bc");
  EXPECT_EQ(quoted.error_mark.line, 1);
  EXPECT_EQ(quoted.error_mark.column, 12);  // after the last byte
}

TEST(YamlDocumentTest, InvalidUtf8IsAnErrorAtItsByte) {
  YamlParseResult result = parse_yaml("a: 1\nb: x\xFF\n");
  EXPECT_EQ(result.error, "invalid leading UTF-8 octet");
  EXPECT_EQ(result.error_mark.line, 2);
  EXPECT_EQ(result.error_mark.column, 5);
}

TEST(YamlDocumentTest, EmptyInputHasANullRootWithoutPosition) {
  for (std::string_view text : {"", "# only a comment\n", "\n\n"}) {
    YamlParseResult result = parse_yaml(text);
    EXPECT_TRUE(result.ok()) << result.error;
    EXPECT_TRUE(result.document.root().is_null());
    EXPECT_EQ(result.document.root().mark().line, 0);
  }
  YamlParseResult explicit_document = parse_yaml("---\n");
  EXPECT_TRUE(explicit_document.ok());
  EXPECT_TRUE(explicit_document.document.root().is_null());
  EXPECT_TRUE(parse_yaml(std::string_view()).ok());
}

TEST(YamlDocumentTest, OnlyTheFirstDocumentIsRead) {
  YamlParseResult result = parse_yaml("a: 1\n---\nb: [unclosed\n");
  EXPECT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.document.root().size(), 1u);
  EXPECT_EQ(result.document.root().entries()[0].key.scalar(), "a");
}

TEST(YamlDocumentTest, ColumnsCountBytes) {
  // 'é' is two bytes: the value after "é: " starts at byte column 5.
  YamlDocument document = parse_valid("é: x\nab: [ü, y]\n");
  auto entries = document.root().entries();
  EXPECT_EQ(at(entries[0].value), "1:5");
  EXPECT_EQ(at(entries[1].value.items()[1]), "2:10");

  // A byte order mark is not part of any line's columns.
  YamlDocument with_bom = parse_valid(
      "\xEF\xBB\xBF"
      "a: é\nb: c\n");
  EXPECT_EQ(at(with_bom.root().entries()[0].value), "1:4");
  EXPECT_EQ(at(with_bom.root().entries()[1].value), "2:4");
}

TEST(YamlDocumentTest, CrLfLineEndings) {
  YamlDocument document = parse_valid("a: 1\r\nb:\r\n  - x\r\n");
  const YamlNode& b = value_of(document.root(), "b");
  EXPECT_EQ(at(b.items()[0]), "3:5");
  EXPECT_EQ(b.items()[0].scalar(), "x");
}

TEST(YamlDocumentTest, NestingIsLimited) {
  std::string deep(999, '[');
  deep += std::string(999, ']');
  EXPECT_TRUE(parse_yaml(deep).ok());
  std::string too_deep(1001, '[');
  too_deep += std::string(1001, ']');
  YamlParseResult result = parse_yaml(too_deep);
  EXPECT_EQ(result.error, "nested more than 1000 levels deep");
  EXPECT_EQ(result.error_mark.line, 1);
  EXPECT_EQ(result.error_mark.column, 1001);
}

TEST(YamlDocumentTest, NestedAliasesFailAtTheAliasThatGoesPastTheLimit) {
  YamlParseResult result = parse_yaml(billion_laughs_dag());
  EXPECT_TRUE(result.limit_exceeded);
  EXPECT_EQ(result.error,
            "alias '*e' brings the nodes that aliases expand to past 100000 (aliases of aliases "
            "multiply; write the values out instead)");
  EXPECT_EQ(result.error_mark.line, 8);
  EXPECT_EQ(result.error_mark.column, 10);
  EXPECT_TRUE(result.document.root().is_null());
}

TEST(YamlDocumentTest, AFewAliasesOfAliasesAreFine) {
  YamlDocument document = parse_valid(
      "defaults: &defaults {retries: 2, env: &env {A: x, B: y}}\n"
      "one: *defaults\n"
      "two: [*defaults, *env, *env]\n");
  const YamlNode& two = value_of(document.root(), "two");
  ASSERT_EQ(two.size(), 3u);
  EXPECT_EQ(value_of(value_of(two.items()[0], "env"), "B").scalar(), "y");
  EXPECT_EQ(value_of(two.items()[2], "A").scalar(), "x");
}

TEST(YamlDocumentTest, AliasCountIsLimited) {
  std::string text = "a: &a x\nb: [";
  for (size_t i = 0; i < YamlLimits::kMaxAliases; ++i) text += "*a, ";
  EXPECT_TRUE(parse_yaml(text + "]\n").ok());
  YamlParseResult result = parse_yaml(text + "*a]\n");
  EXPECT_TRUE(result.limit_exceeded);
  EXPECT_EQ(result.error, "alias '*a' is one too many: at most 10000 aliases per file");
  EXPECT_EQ(result.error_mark.line, 2);
  EXPECT_EQ(result.error_mark.column, static_cast<int>(5 + 4 * YamlLimits::kMaxAliases));
}

TEST(YamlDocumentTest, TextThatAliasesRepeatIsLimited) {
  const std::string mib(1024 * 1024, 'x');
  std::string text = "a: &a " + mib + "\nb: [";
  for (int i = 0; i < 16; ++i) text += "*a, ";
  EXPECT_TRUE(parse_yaml(text + "]\n").ok());  // exactly 16 MiB more
  YamlParseResult result = parse_yaml(text + "*a]\n");
  EXPECT_TRUE(result.limit_exceeded);
  EXPECT_EQ(result.error,
            "alias '*a' brings the text that aliases expand to past 16 MiB (write the values out "
            "instead)");
  EXPECT_EQ(result.error_mark.line, 2);
}

TEST(YamlDocumentTest, NestingThroughAnAliasIsLimited) {
  // 600 levels, then that node again under 400 more: 1000 levels.
  const std::string deep = "&a " + std::string(600, '[') + std::string(600, ']');
  const std::string ok =
      "[" + deep + ", " + std::string(399, '[') + "*a" + std::string(399, ']') + "]";
  EXPECT_TRUE(parse_yaml(ok).ok());
  const std::string too_deep =
      "[" + deep + ", " + std::string(400, '[') + "*a" + std::string(400, ']') + "]";
  YamlParseResult result = parse_yaml(too_deep);
  EXPECT_TRUE(result.limit_exceeded);
  EXPECT_EQ(result.error, "alias '*a' nests its node more than 1000 levels deep");
  EXPECT_EQ(result.error_mark.column, static_cast<int>(1 + deep.size() + 2 + 400 + 1));
}

TEST(YamlDocumentTest, TextSizeIsLimited) {
  std::string text = "a: " + std::string(YamlLimits::kMaxBytes - 4, 'x') + "\n";
  EXPECT_TRUE(parse_yaml(text).ok());
  text += "#";
  YamlParseResult result = parse_yaml(text);
  EXPECT_TRUE(result.limit_exceeded);
  EXPECT_EQ(result.error, "the text is 4194305 bytes, more than the 4 MiB allowed");
  EXPECT_EQ(result.error_mark.line, 0);
}

TEST(YamlDocumentTest, NodesStayValidWhenTheDocumentMoves) {
  YamlParseResult result = parse_yaml("k: [a, b]\n");
  YamlDocument moved = std::move(result.document);
  YamlDocument again;
  again = std::move(moved);
  EXPECT_EQ(value_of(again.root(), "k").items()[1].scalar(), "b");
}

TEST(YamlDocumentTest, ManyEntriesKeepTheirOrder) {
  std::string text;
  for (int i = 0; i < 5000; ++i)
    text += "k" + std::to_string(i) + ": [" + std::to_string(i) + "]\n";
  YamlDocument document = parse_valid(text);
  auto entries = document.root().entries();
  ASSERT_EQ(entries.size(), 5000u);
  EXPECT_EQ(entries[4321].key.scalar(), "k4321");
  EXPECT_EQ(entries[4321].value.items()[0].scalar(), "4321");
  EXPECT_EQ(at(entries[4321].value), "4322:8");
}

}  // namespace
}  // namespace twinflow
