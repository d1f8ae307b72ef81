// Tests for the offline parts of the dataset step: the built-in generator
// (tasks/dataset/builtin_generator.h) on the sample corpus, both as the
// pipeline sees it (pages extracted and cleaned, with their blocks) and as
// Markdown source files (no blocks), and on small hand-made sources; the
// length and near-duplicate filters (sample_filters.h); the grouped, seeded
// train/test split (dataset_split.h); and the JSONL files (jsonl.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "tasks/dataset/builtin_generator.h"
#include "tasks/dataset/dataset_split.h"
#include "tasks/dataset/jsonl.h"
#include "tasks/dataset/sample_filters.h"
#include "tasks/extract/html_extractor.h"
#include "tasks/text/clean.h"
#include "tests/support/scratch_dir.h"
#include "util/error.h"

namespace twinflow {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const fs::path kSample = fs::path(TWINFLOW_SOURCE_DIR) / "sample";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Json blocks_json(const std::vector<Block>& blocks) {
  static const char* kNames[] = {"paragraph", "heading", "list_item", "code", "quote"};
  Json out = Json::array();
  for (const Block& b : blocks)
    out.push_back(
        {{"kind", kNames[static_cast<int>(b.kind)]}, {"level", b.level}, {"text", b.text}});
  return out;
}

// A sample page as the crawl and clean steps leave it: extracted, blocks
// kept, title and subtitle on top of an article, cleaned.
DatasetSource page_source(const Json& expected, int64_t id) {
  const std::string path = expected.at("path");
  const std::string platform = expected.at("platform");
  const std::string url = "http://127.0.0.1:8000/" + path;
  const ExtractedPage page = extract_html(read_text(kSample / "site" / path), url, platform);
  const bool post = platform == "linkedin";
  std::string text = page.body_text();
  if (!post) {
    std::string top = page.title;
    if (!page.subtitle.empty()) top += "\n\n" + page.subtitle;
    text = top + "\n\n" + text;
  }
  CleanOptions clean;
  clean.kind = post ? TextKind::kPost : TextKind::kArticle;
  DatasetSource s;
  s.document_id = id;
  s.platform = platform;
  s.kind = post ? "post" : "article";
  s.url = url;
  s.title = page.title;
  s.content = clean_text(text, clean);
  s.blocks = blocks_json(page.blocks);
  return s;
}

std::vector<DatasetSource> page_sources() {
  std::vector<DatasetSource> out;
  const Json corpus = Json::parse(read_text(kSample / "expected.json"));
  int64_t id = 1;
  for (const Json& e : corpus.at("pages")) out.push_back(page_source(e, id++));
  return out;
}

// A content/ source file as a source without blocks: front matter dropped,
// title from it, the Markdown body as the text.
DatasetSource markdown_source(const fs::path& file, int64_t id) {
  const std::string raw = read_text(file);
  const size_t body = raw.find("\n---\n");
  DatasetSource s;
  s.document_id = id;
  s.platform = file.parent_path().filename().string();
  s.kind = s.platform == "linkedin" ? "post" : "article";
  s.url = file.string();
  const size_t title = raw.find("title: ");
  if (title != std::string::npos && title < body)
    s.title = raw.substr(title + 7, raw.find('\n', title) - title - 7);
  const std::string text = raw.substr(body + 5);
  s.content = clean_text(s.title.empty() ? text : s.title + "\n\n" + text, CleanOptions{});
  return s;
}

std::vector<DatasetSource> markdown_sources() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(kSample / "content"))
    if (entry.path().extension() == ".md") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<DatasetSource> out;
  int64_t id = 100;
  for (const fs::path& f : files) out.push_back(markdown_source(f, id++));
  return out;
}

std::vector<std::string> paragraphs_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find("\n\n", start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return out;
}

BuiltinGenerator ines(uint64_t seed = 42) {
  BuiltinGeneratorOptions options;
  options.author = "Ines Calloway";
  options.seed = seed;
  return BuiltinGenerator(options);
}

// Every paragraph of every answer is a paragraph (or the tail of one) of the
// author's cleaned text.
void expect_author_answers(const DatasetSource& source,
                           const std::vector<InstructSample>& samples) {
  for (const InstructSample& s : samples) {
    EXPECT_FALSE(s.instruction.empty()) << source.url;
    EXPECT_FALSE(s.answer.empty()) << source.url;
    EXPECT_EQ(s.document_id, source.document_id);
    EXPECT_LE(s.answer.size(), 2000u * 4);
    for (const std::string& p : paragraphs_of(s.answer))
      EXPECT_NE(source.content.find(p), std::string::npos)
          << source.url << ": not the author's text: " << p;
  }
}

TEST(BuiltinGenerator, SamplePagesGiveSamplesFromTheAuthorsText) {
  const BuiltinGenerator generator = ines();
  size_t total = 0;
  for (const DatasetSource& source : page_sources()) {
    const std::vector<InstructSample> samples = generator.instruct(source);
    expect_author_answers(source, samples);
    // An article gives its opening and one sample per section; a post one.
    if (source.kind == "article")
      EXPECT_GE(samples.size(), 5u) << source.url;
    else
      EXPECT_EQ(samples.size(), 1u) << source.url;
    total += samples.size();
  }
  EXPECT_GE(total, 70u);  // 75 with these options
}

TEST(BuiltinGenerator, ArticleInstructionsComeFromTitleHeadingsAndLeads) {
  const std::vector<DatasetSource> sources = page_sources();
  const auto it = std::find_if(sources.begin(), sources.end(), [](const DatasetSource& s) {
    return s.url.find("chunking-for-rag") != std::string::npos;
  });
  ASSERT_NE(it, sources.end());
  const std::vector<InstructSample> samples = ines().instruct(*it);
  ASSERT_EQ(samples.size(), 6u);  // the opening and five sections
  EXPECT_NE(samples[0].instruction.find("Chunk Boundaries Decide What Your RAG System"),
            std::string::npos);
  EXPECT_EQ(samples[0].answer.rfind("Fixed-size windows quietly cut answers in half.", 0), 0u);
  const std::vector<std::string> headings = {
      "The problem with fixed windows", "Split on structure first", "Choosing the size",
      "Keep the chunker deterministic", "What changed in the numbers"};
  for (size_t i = 0; i < headings.size(); ++i) {
    const std::string& instruction = samples[i + 1].instruction;
    const bool from_heading = instruction.find(headings[i]) != std::string::npos ||
                              instruction.find(headings[i].substr(1)) != std::string::npos;
    const bool continuation = instruction.rfind("Continue this article: ", 0) == 0;
    EXPECT_TRUE(from_heading || continuation) << instruction;
  }
  // Code blocks never become answers.
  for (const InstructSample& s : samples)
    EXPECT_EQ(s.answer.find("def chunk_section"), std::string::npos);
}

TEST(BuiltinGenerator, MarkdownSourcesWithoutBlocksUseHeadingLines) {
  const BuiltinGenerator generator = ines();
  for (const DatasetSource& source : markdown_sources()) {
    const std::vector<InstructSample> samples = generator.instruct(source);
    expect_author_answers(source, samples);
    if (source.kind == "article") {
      EXPECT_GE(samples.size(), 4u) << source.url;
    }
    for (const InstructSample& s : samples) {
      EXPECT_EQ(s.answer.find("## "), std::string::npos) << source.url;
      EXPECT_EQ(s.answer.find("```"), std::string::npos) << source.url;
      EXPECT_EQ(s.answer.find("!figure"), std::string::npos) << source.url;
    }
  }
}

TEST(BuiltinGenerator, QuestionsAreFormedFromHeadings) {
  DatasetSource s;
  s.kind = "article";
  s.title = "Notes";
  const std::string para =
      "This paragraph is long enough to become an answer "
      "of its own, because it has more "
      "than eighty characters in it.";
  s.content = "Notes\n\n## Why retries need idempotency\n\n" + para;
  // Some seed picks the question template for the one heading.
  std::set<std::string> instructions;
  for (uint64_t seed = 0; seed < 40; ++seed)
    for (const InstructSample& sample : ines(seed).instruct(s))
      instructions.insert(sample.instruction);
  EXPECT_TRUE(instructions.count("Why retries need idempotency?"));
  EXPECT_TRUE(
      instructions.count("Explain \"Why retries need idempotency\" as Ines Calloway would."));
}

TEST(BuiltinGenerator, PostsBecomeLinkedInPrompts) {
  DatasetSource s;
  s.document_id = 7;
  s.kind = "post";
  s.platform = "linkedin";
  s.content =
      "Retries are only safe if the step is idempotent.\n\nWe retried a "
      "payment export three "
      "times last week and sent three files to the bank. Now every step writes "
      "to a "
      "temporary path and renames at the end.\n\n#DataEngineering #MLOps";
  std::set<std::string> instructions;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const std::vector<InstructSample> samples = ines(seed).instruct(s);
    ASSERT_EQ(samples.size(), 1u);
    expect_author_answers(s, samples);
    instructions.insert(samples[0].instruction);
  }
  EXPECT_TRUE(instructions.count("Write a LinkedIn post about data engineering and MLOps."));
  EXPECT_TRUE(
      instructions.count("Continue this LinkedIn post: Retries are "
                         "only safe if the step is idempotent."));
}

TEST(BuiltinGenerator, RepositoryCodeGivesItsDocstringOnly) {
  const BuiltinGenerator generator = ines();
  DatasetSource code;
  code.kind = "repository";
  code.platform = "github";
  code.title = "chunkwise/chunkwise/io.py";
  code.url = "https://github.com/ines/chunkwise/blob/HEAD/chunkwise/io.py";
  code.content = read_text(kSample / "repo" / "chunkwise" / "io.py");
  const std::vector<InstructSample> samples = generator.instruct(code);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].instruction,
            "Explain what chunkwise/io.py in the chunkwise project is for.");
  EXPECT_EQ(samples[0].answer.rfind("Reading and writing chunks as JSON Lines", 0), 0u);
  EXPECT_EQ(samples[0].answer.find("import json"), std::string::npos);

  code.content = "import os\n\n\ndef main():\n    return os.getcwd()\n";
  EXPECT_TRUE(generator.instruct(code).empty());

  DatasetSource readme = code;
  readme.title = "chunkwise/README.md";
  readme.url = "https://github.com/ines/chunkwise/blob/HEAD/README.md";
  readme.content = clean_text(read_text(kSample / "repo" / "README.md"), CleanOptions{});
  const std::vector<InstructSample> prose = generator.instruct(readme);
  ASSERT_FALSE(prose.empty());
  EXPECT_NE(prose[0].instruction.find("README.md of the chunkwise project"), std::string::npos);
  EXPECT_EQ(prose[0].answer.rfind("Small, dependency-free text cleaning", 0), 0u);
  for (const InstructSample& s : prose) EXPECT_EQ(s.answer.find("pip install"), std::string::npos);
}

TEST(BuiltinGenerator, PreferenceRejectsAGenericRewrite) {
  const BuiltinGenerator generator = ines();
  size_t total = 0;
  for (const DatasetSource& source : page_sources()) {
    const std::vector<InstructSample> instruct = generator.instruct(source);
    const std::vector<PreferenceSample> preference = generator.preference(source);
    ASSERT_EQ(preference.size(), instruct.size()) << source.url;
    for (size_t i = 0; i < preference.size(); ++i) {
      const PreferenceSample& p = preference[i];
      EXPECT_EQ(p.prompt, instruct[i].instruction);
      EXPECT_EQ(p.chosen, instruct[i].answer);
      EXPECT_NE(p.chosen, p.rejected);
      EXPECT_EQ(p.document_id, source.document_id);
      // No numbers, no first-person experience, no hashtags in the rejected.
      EXPECT_EQ(p.rejected.find_first_of("0123456789#`"), std::string::npos) << p.rejected;
      EXPECT_EQ(p.rejected.find(" I "), std::string::npos) << p.rejected;
      EXPECT_EQ(p.rejected.find(" we "), std::string::npos) << p.rejected;
    }
    total += preference.size();
  }
  EXPECT_GE(total, 70u);  // 75 with these options
}

TEST(BuiltinGenerator, SameSeedSameSamplesOtherSeedOtherTemplates) {
  const std::vector<DatasetSource> sources = page_sources();
  std::vector<std::string> a, b, c;
  for (const DatasetSource& s : sources) {
    for (const PreferenceSample& p : ines(7).preference(s))
      a.push_back(p.prompt + "|" + p.chosen + "|" + p.rejected);
    for (const PreferenceSample& p : ines(7).preference(s))
      b.push_back(p.prompt + "|" + p.chosen + "|" + p.rejected);
    for (const PreferenceSample& p : ines(8).preference(s))
      c.push_back(p.prompt + "|" + p.chosen + "|" + p.rejected);
  }
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(BuiltinGenerator, RejectsAZeroAnswerBound) {
  BuiltinGeneratorOptions options;
  options.max_answer_chars = 0;
  EXPECT_THROW(BuiltinGenerator{options}, Error);
}

TEST(BuiltinGenerator, LongParagraphsAreCutAtASentence) {
  BuiltinGeneratorOptions options;
  options.max_answer_chars = 120;
  options.min_answer_chars = 10;
  DatasetSource s;
  s.kind = "article";
  s.title = "Title";
  s.content =
      "Title\n\nThe first sentence is here and it is fairly long. The "
      "second sentence is also "
      "here. The third sentence would not fit anymore because the "
      "bound is small.";
  const std::vector<InstructSample> samples = BuiltinGenerator(options).instruct(s);
  ASSERT_FALSE(samples.empty());
  EXPECT_EQ(samples[0].answer,
            "The first sentence is here and it is fairly "
            "long. The second sentence is also here.");
}

// ---------------------------------------------------------------------------
// Filters.

const std::string kParagraph =
    "Every retrieval system I have debugged had the same hidden bug: the "
    "answer was in the "
    "corpus, the retriever was fine, and the chunker had split the answer "
    "across two pieces so "
    "that neither piece was relevant enough to be retrieved. The model then "
    "filled the gap with "
    "something plausible, and nobody noticed for weeks.";

const std::string kOtherParagraph =
    "Backfills scare people because they rewrite history. Make every step a "
    "pure function of "
    "its partition, write outputs to a new location, and swap pointers at the "
    "end, so a failed "
    "backfill leaves the old data untouched and a rerun costs only compute "
    "time.";

// kParagraph with a few words changed and punctuation edited.
const std::string kEditedParagraph =
    "Every retrieval system I have debugged had the same hidden problem: the "
    "answer was in the "
    "corpus, the retriever was fine, and the chunker split the answer across "
    "two pieces so that "
    "neither piece was relevant enough to be retrieved! The model then filled "
    "the gap with "
    "something plausible and nobody noticed for months.";

TEST(SampleFilters, NearDuplicateMeasureSeparatesEditsFromOtherTexts) {
  EXPECT_GE(shingle_jaccard(kParagraph, kEditedParagraph, 3), 0.7);
  EXPECT_LT(shingle_jaccard(kParagraph, kOtherParagraph, 3), 0.1);
  EXPECT_DOUBLE_EQ(shingle_jaccard(kParagraph, kParagraph, 3), 1.0);
}

TEST(SampleFilters, DropAndCountShortLongAndDuplicateSamples) {
  std::vector<InstructSample> samples = {
      {"Explain chunking.", kParagraph, 1},
      {"Hi", kParagraph, 1},                               // instruction too short
      {"Explain backfills.", "Too short.", 2},             // answer too short
      {"Explain everything.", std::string(5000, 'a'), 2},  // answer too long
      {"Explain chunking.", kEditedParagraph, 3},          // near-duplicate of the first
      {"Explain backfills.", kOtherParagraph, 4},
      {"Explain chunking.", kParagraph, 5},  // exact duplicate
  };
  DatasetCounts counts;
  const std::vector<InstructSample> kept = filter_samples(samples, SampleFilterOptions{}, counts);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].document_id, 1);  // the first occurrence wins
  EXPECT_EQ(kept[1].document_id, 4);
  EXPECT_EQ(counts.too_short, 2);
  EXPECT_EQ(counts.too_long, 1);
  EXPECT_EQ(counts.duplicates, 2);
  EXPECT_EQ(counts.kept, 2);

  // Counts add up across calls; deduplication can be turned off.
  SampleFilterOptions no_dedup;
  no_dedup.deduplicate = false;
  EXPECT_EQ(filter_samples(samples, no_dedup, counts).size(), 4u);
  EXPECT_EQ(counts.kept, 6);
  EXPECT_EQ(counts.duplicates, 2);
}

TEST(SampleFilters, WorkOnPreferenceSamples) {
  std::vector<PreferenceSample> samples = {
      {"Explain chunking.", kParagraph, "It depends on many factors, honestly.", 1},
      {"Explain chunking.", kEditedParagraph, "It depends.", 2},
      {"Explain backfills.", kOtherParagraph, std::string(5000, 'x'), 3},  // rejected too long
      {"Explain backfills.", kOtherParagraph, "Backfills can be hard.", 4},
  };
  DatasetCounts counts;
  const std::vector<PreferenceSample> kept = filter_samples(samples, SampleFilterOptions{}, counts);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].document_id, 1);
  EXPECT_EQ(kept[1].document_id, 4);
  EXPECT_EQ(counts.duplicates, 1);
  EXPECT_EQ(counts.too_long, 1);
  EXPECT_EQ(counts.kept, 2);
}

TEST(SampleFilters, KeepDistinctSamplesOfTheCorpus) {
  // The generator gives no two samples of a document the same paragraph, so
  // on the sample corpus nothing is a near-duplicate.
  std::vector<InstructSample> all;
  for (const DatasetSource& s : page_sources())
    for (InstructSample& sample : ines().instruct(s)) all.push_back(std::move(sample));
  DatasetCounts counts;
  const size_t generated = all.size();
  const std::vector<InstructSample> kept = filter_samples(all, SampleFilterOptions{}, counts);
  EXPECT_EQ(counts.duplicates, 0);
  EXPECT_EQ(counts.kept + counts.too_short + counts.too_long, static_cast<int64_t>(generated));
  EXPECT_GE(kept.size(), generated * 9 / 10);
}

TEST(SampleFilters, RejectBadOptions) {
  SampleFilterOptions o;
  o.min_answer_chars = 10;
  o.max_answer_chars = 5;
  EXPECT_THROW(validate_filter_options(o), Error);
  o = SampleFilterOptions{};
  o.shingle_words = 0;
  EXPECT_THROW(validate_filter_options(o), Error);
  o = SampleFilterOptions{};
  o.duplicate_threshold = 0;
  EXPECT_THROW(validate_filter_options(o), Error);
}

// ---------------------------------------------------------------------------
// Split.

// `per_document` samples for each of `documents` documents, interleaved.
std::vector<InstructSample> samples_of(int documents, int per_document) {
  std::vector<InstructSample> out;
  for (int i = 0; i < per_document; ++i)
    for (int d = 1; d <= documents; ++d)
      out.push_back({"instruction " + std::to_string(i), "answer", d});
  return out;
}

std::set<int64_t> documents_of(const std::vector<InstructSample>& samples) {
  std::set<int64_t> out;
  for (const InstructSample& s : samples) out.insert(s.document_id);
  return out;
}

TEST(DatasetSplit, KeepsEachDocumentOnOneSide) {
  const std::vector<InstructSample> samples = samples_of(30, 4);
  SplitOptions options;
  options.test_fraction = 0.2;
  const DatasetSplit<InstructSample> split = split_dataset(samples, options);
  EXPECT_EQ(split.train.size() + split.test.size(), samples.size());
  const std::set<int64_t> train = documents_of(split.train), test = documents_of(split.test);
  for (int64_t id : test) EXPECT_FALSE(train.count(id)) << id;
  EXPECT_EQ(test.size(), 6u);  // 20% of 120 samples in documents of 4
  EXPECT_EQ(split.test.size(), 24u);
}

TEST(DatasetSplit, IsSeeded) {
  const std::vector<InstructSample> samples = samples_of(30, 3);
  SplitOptions options;
  const auto first = documents_of(split_dataset(samples, options).test);
  EXPECT_EQ(first, documents_of(split_dataset(samples, options).test));
  // The order samples arrive in does not matter.
  std::vector<InstructSample> reversed(samples.rbegin(), samples.rend());
  EXPECT_EQ(first, documents_of(split_dataset(reversed, options).test));
  bool differs = false;
  for (uint64_t seed = 1; seed < 10 && !differs; ++seed) {
    options.seed = seed;
    differs = documents_of(split_dataset(samples, options).test) != first;
  }
  EXPECT_TRUE(differs);
}

TEST(DatasetSplit, TwoDocumentsGiveATestSample) {
  SplitOptions options;
  options.test_fraction = 0.01;
  const DatasetSplit<InstructSample> split = split_dataset(samples_of(2, 5), options);
  EXPECT_EQ(documents_of(split.test).size(), 1u);
  EXPECT_EQ(documents_of(split.train).size(), 1u);

  const DatasetSplit<InstructSample> one = split_dataset(samples_of(1, 5), options);
  EXPECT_TRUE(one.test.empty());
  EXPECT_EQ(one.train.size(), 5u);

  options.test_fraction = 0;
  EXPECT_TRUE(split_dataset(samples_of(10, 2), options).test.empty());
}

TEST(DatasetSplit, WorksOnPreferenceSamplesAndRejectsBadFractions) {
  std::vector<PreferenceSample> samples;
  for (int d = 1; d <= 10; ++d) samples.push_back({"p", "c", "r", d});
  SplitOptions options;
  options.test_fraction = 0.3;
  const DatasetSplit<PreferenceSample> split = split_dataset(samples, options);
  EXPECT_EQ(split.test.size(), 3u);
  EXPECT_EQ(split.train.size(), 7u);
  options.test_fraction = 1.0;
  EXPECT_THROW(split_dataset(samples, options), Error);
  options.test_fraction = -0.1;
  EXPECT_THROW(split_dataset(samples, options), Error);
}

// ---------------------------------------------------------------------------
// JSONL.

TEST(DatasetJsonl, InstructRoundTrip) {
  ScratchDir dir;
  const std::vector<InstructSample> samples = {
      {"Explain \"chunking\".", "Line one.\n\nLine two, with ünïcödé and a tab\t.", 3},
      {"Write a post.", "#MLOps \\ backslash", 0},
  };
  const fs::path path = dir.path() / "train.jsonl";
  write_instruct_jsonl(path, samples);
  EXPECT_FALSE(fs::exists(dir.path() / "train.jsonl.tmp"));
  const std::string text = read_text(path);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_EQ(Json::parse(text.substr(0, text.find('\n'))).at("document_id"), 3);
  const std::vector<InstructSample> back = read_instruct_jsonl(path);
  ASSERT_EQ(back.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back[i].instruction, samples[i].instruction);
    EXPECT_EQ(back[i].answer, samples[i].answer);
    EXPECT_EQ(back[i].document_id, samples[i].document_id);
  }
}

TEST(DatasetJsonl, PreferenceRoundTrip) {
  ScratchDir dir;
  const std::vector<PreferenceSample> samples = {{"Prompt?", "Chosen.", "Rejected.", 12}};
  const fs::path path = dir.path() / "preference.jsonl";
  write_preference_jsonl(path, samples);
  const std::vector<PreferenceSample> back = read_preference_jsonl(path);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].prompt, "Prompt?");
  EXPECT_EQ(back[0].chosen, "Chosen.");
  EXPECT_EQ(back[0].rejected, "Rejected.");
  EXPECT_EQ(back[0].document_id, 12);
}

// The message read_instruct_jsonl throws for `content`, or "" when none.
std::string read_error(const ScratchDir& dir, const std::string& content) {
  dir.write("bad.jsonl", content);
  try {
    read_instruct_jsonl(dir.path() / "bad.jsonl");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(DatasetJsonl, BadLinesNameFileAndLine) {
  ScratchDir dir;
  const std::string good = R"({"instruction": "i", "answer": "a", "document_id": 1})";
  const std::string where = (dir.path() / "bad.jsonl").string();
  EXPECT_EQ(read_error(dir, good + "\n\n" + "{not json\n").rfind(where + ":3: not valid JSON", 0),
            0u);
  EXPECT_EQ(read_error(dir, good + "\n" + R"({"instruction": "i"})" + "\n"),
            where + ":2: missing \"answer\"");
  EXPECT_EQ(read_error(dir, R"({"instruction": 5, "answer": "a"})"),
            where + ":1: \"instruction\" must be a string");
  EXPECT_EQ(read_error(dir, R"({"instruction": "i", "answer": "a", "document_id": "x"})"),
            where + ":1: \"document_id\" must be an integer");
  EXPECT_EQ(read_error(dir, "[1, 2]\n"), where + ":1: expected a JSON object");
  // Blank lines, a missing document_id and unknown keys are fine.
  EXPECT_EQ(read_error(dir, "\n" + std::string(R"({"instruction": "i", "answer": "a", "x": 1})")),
            "");
  EXPECT_THROW(read_instruct_jsonl(dir.path() / "missing.jsonl"), Error);
}

}  // namespace
}  // namespace twinflow
