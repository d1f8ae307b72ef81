// Imports of data exports (tasks/imports): Medium and Substack exports zipped
// and unpacked, LinkedIn's Shares.csv, a folder of Markdown and HTML, JSONL;
// and hostile ones: a truncated zip, a zip bomb, too many entries, a CSV with
// an unterminated quote, Latin-1 text. Then the import step end to end: real
// `twinflow step import` subprocesses into a real PostgreSQL, each archive's
// sha256 recorded with the attempt's output.
#include <gtest/gtest.h>
#include <zip.h>

#include <fstream>

#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "store/feature_store.h"
#include "store/run_ledger.h"
#include "tasks/imports/csv_reader.h"
#include "tasks/imports/importers.h"
#include "tests/support/twinflow_fixture.h"
#include "util/error.h"
#include "util/sha256.h"

namespace twinflow {
namespace {
namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(TWINFLOW_SOURCE_DIR) / "tests" / "fixtures" / "imports";

// Zips `files` (name -> bytes) into `zip_path` with libzip, deflated.
void write_zip(const fs::path& zip_path, const std::map<std::string, std::string>& files) {
  int error = 0;
  zip_t* z = zip_open(zip_path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  ASSERT_NE(z, nullptr);
  std::vector<std::string> keep;  // libzip reads the buffers at zip_close
  keep.reserve(files.size());
  for (const auto& [name, data] : files) {
    keep.push_back(data);
    zip_source_t* source = zip_source_buffer(z, keep.back().data(), keep.back().size(), 0);
    ASSERT_GE(zip_file_add(z, name.c_str(), source, ZIP_FL_ENC_UTF_8), 0);
  }
  ASSERT_EQ(zip_close(z), 0);
}

std::map<std::string, std::string> folder_files(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file())
      out[fs::relative(e.path(), dir).generic_string()] = read_file(e.path());
  return out;
}

class ImportTest : public TwinflowTest {
 protected:
  fs::path zip_of(const std::string& folder) {
    const fs::path path = home / (folder + ".zip");
    write_zip(path, folder_files(kFixtures / folder));
    return path;
  }

  std::map<std::string, ImportedDocument> by_url(const ImportResult& r) {
    std::map<std::string, ImportedDocument> out;
    for (const auto& d : r.documents) out[d.url] = d;
    return out;
  }
};

TEST(CsvReaderTest, QuotedFieldsWithNewlinesCommasAndDoubledQuotes) {
  CsvTable t = read_csv("a,b,c\r\n1,\"x, \"\"y\"\"\r\nz\",3\n\n4,5\n\"\",,\n");
  ASSERT_TRUE(t.ok()) << t.error;
  ASSERT_EQ(t.header, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0][1], "x, \"y\"\r\nz");
  EXPECT_EQ(t.rows[0][2], "3");
  EXPECT_EQ(t.rows[1], (std::vector<std::string>{"4", "5", ""}));  // short rows are padded
  EXPECT_EQ(t.rows[2], (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(t.row_lines, (std::vector<size_t>{2, 5, 6}));
  EXPECT_EQ(t.field(0, " B "), "x, \"y\"\r\nz");
}

TEST(CsvReaderTest, UnterminatedQuoteIsAnErrorNamingItsLine) {
  CsvTable t = read_csv("a,b\n1,2\n3,\"open\n4,5\n");
  EXPECT_EQ(t.error, "line 3: unterminated quoted field");
}

TEST_F(ImportTest, MediumExportZipAndFolderGiveTheSameDocuments) {
  for (const fs::path& path : {zip_of("medium-export"), kFixtures / "medium-export"}) {
    EXPECT_EQ(detect_import_format(path), "medium");
    ImportResult r = import_source(path, {});
    EXPECT_EQ(r.format, "medium");
    EXPECT_TRUE(r.failures.empty());
    EXPECT_EQ(r.skipped, 1u);  // the draft
    auto docs = by_url(r);
    ASSERT_EQ(docs.size(), 2u) << path;
    const auto& d = docs.at(
        "https://medium.com/@inescalloway/"
        "chunk-boundaries-decide-what-your-rag-system-can-answer-1a2b3c4d5e6f");
    EXPECT_EQ(d.platform, "medium");
    EXPECT_EQ(d.kind, "article");
    EXPECT_EQ(d.title, "Chunk Boundaries Decide What Your RAG System Can Answer");
    EXPECT_EQ(d.subtitle, "Most retrieval failures are chunking failures in disguise.");
    EXPECT_EQ(d.published, "2024-03-19T09:00:00.000Z");
    EXPECT_NE(d.content.find("Every retrieval-augmented generation system"), std::string::npos);
    EXPECT_NE(d.content.find("chunks = split(doc"), std::string::npos);
    EXPECT_EQ(d.content.find("Exported from"), std::string::npos) << d.content;
    EXPECT_EQ(d.content.find("Canonical link"), std::string::npos);
  }
}

TEST_F(ImportTest, SubstackExportReadsPostsCsvWithQuotesAndNewlines) {
  ImportOptions options;
  options.base_url = "https://ines.substack.com/";
  ImportResult r = import_source(zip_of("substack-export"), options);
  EXPECT_EQ(r.format, "substack");
  EXPECT_EQ(r.skipped, 1u);  // unpublished
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].first, "posts.csv line 6");
  EXPECT_NE(r.failures[0].second.find("no posts/141000004.missing-body.html"), std::string::npos);
  auto docs = by_url(r);
  ASSERT_EQ(docs.size(), 2u);
  const auto& quoted = docs.at("https://ines.substack.com/p/quotes-and-commas");
  EXPECT_EQ(quoted.title, "Tokenizers, \"surprises\", and you");
  EXPECT_EQ(quoted.subtitle, "A subtitle\r\nover two lines");
  EXPECT_EQ(quoted.published, "2024-07-02T08:00:00.000Z");
  EXPECT_EQ(quoted.platform, "substack");
  const auto& backfills = docs.at("https://ines.substack.com/p/backfills-without-fear");
  EXPECT_NE(backfills.content.find("Backfill one partition at a time"), std::string::npos);

  // Without the publication's address, a stable import: URL.
  r = import_source(kFixtures / "substack-export", {});
  EXPECT_TRUE(by_url(r).count("import:substack/backfills-without-fear"));
}

TEST_F(ImportTest, SubstackCsvWithAnUnterminatedQuoteFailsAsAWhole) {
  try {
    import_source(kFixtures / "substack-broken", {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("posts.csv: line 2: unterminated quoted field"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(ImportTest, LinkedInSharesCsvInZipAndAlone) {
  const fs::path zip = home / "Basic_LinkedInDataExport_01-05-2025.zip";
  write_zip(zip, {{"Shares.csv", read_file(kFixtures / "linkedin-export" / "Shares.csv")},
                  {"Profile.csv", "First Name,Last Name\nInes,Calloway\n"}});
  for (const fs::path& path : {zip, kFixtures / "linkedin-export" / "Shares.csv"}) {
    ImportResult r = import_source(path, {});
    EXPECT_EQ(r.format, "linkedin");
    EXPECT_EQ(r.skipped, 1u);  // the reshare without text
    ASSERT_EQ(r.failures.size(), 1u);
    EXPECT_EQ(r.failures[0].second, "no ShareLink");
    ASSERT_EQ(r.documents.size(), 2u);
    const ImportedDocument& first = r.documents[0];
    EXPECT_EQ(first.url,
              "https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A7262000000000000001");
    EXPECT_EQ(first.platform, "linkedin");
    EXPECT_EQ(first.kind, "post");
    EXPECT_EQ(first.published, "2024-11-12T09:15:02");
    EXPECT_EQ(first.title, "Blameless postmortems are a tool, not a virtue.");
    EXPECT_NE(first.content.find("fix that. \xF0\x9F\x94\xA7"), std::string::npos);
    EXPECT_EQ(r.documents[1].content, "We said \"ship it\" on a Friday once.\nOnce.");
  }
}

TEST_F(ImportTest, Latin1CsvAndMarkdownAreDecoded) {
  ImportResult r = import_source(kFixtures / "linkedin-latin1" / "Shares.csv", {});
  ASSERT_EQ(r.documents.size(), 1u);
  EXPECT_EQ(r.documents[0].content,
            "Caf\u00e9 notes: na\u00efve retrieval is fine \u2013 until it is not. \u00a9 2023");
  r = import_source(kFixtures / "folder", {});
  bool found = false;
  for (const auto& d : r.documents)
    if (d.item == "latin1.md") {
      found = true;
      EXPECT_EQ(d.title, "R\u00e9sum\u00e9 of a na\u00efve pipeline");
    }
  EXPECT_TRUE(found);
}

TEST_F(ImportTest, FolderOfMarkdownHtmlAndText) {
  ImportOptions options;
  options.base_url = "https://ines.example/archive";
  ImportResult r = import_source(kFixtures / "folder", options);
  EXPECT_EQ(r.format, "folder");
  auto docs = by_url(r);
  ASSERT_EQ(docs.size(), 5u);  // drift, no-front-matter, retries, page, latin1
  const auto& drift = docs.at("https://ines.example/notes/drift-monitoring");  // front matter url
  EXPECT_EQ(drift.title, "Drift monitoring that pages nobody");
  EXPECT_EQ(drift.published, "2024-04-02");
  EXPECT_EQ(drift.platform, "web");
  EXPECT_EQ(drift.kind, "article");
  bool has_code = false;
  for (const auto& b : drift.blocks) has_code = has_code || b["kind"] == "code";
  EXPECT_TRUE(has_code);
  EXPECT_EQ(docs.at("https://ines.example/archive/no-front-matter.md").title,
            "Notes on int8 quantization");
  EXPECT_TRUE(docs.count("https://ines.example/archive/notes/retries.txt"));
  const auto& page = docs.at("https://ines.example/archive/page.html");
  EXPECT_EQ(page.title, "Hybrid search");
  EXPECT_EQ(page.published, "2024-06-01T10:00:00Z");
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].first, "empty.md");

  // Without base_url: file:// URLs of the absolute paths.
  r = import_source(kFixtures / "folder", {});
  EXPECT_TRUE(
      by_url(r).count("file://" + (kFixtures / "folder" / "notes" / "retries.txt").string()));
}

TEST_F(ImportTest, JsonlGoodLinesImportedBadLinesNamed) {
  ImportResult r = import_source(kFixtures / "jsonl" / "documents.jsonl", {});
  EXPECT_EQ(r.format, "jsonl");
  auto docs = by_url(r);
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs.at("https://www.linkedin.com/feed/update/urn:li:share:1").kind, "post");
  EXPECT_EQ(docs.at("https://ines.substack.com/p/kv-cache").published, "2024-03-05T08:00:00Z");
  EXPECT_EQ(docs.at("https://ines.example/talks/lineage").blocks.size(), 2u);
  std::map<std::string, std::string> failures(r.failures.begin(), r.failures.end());
  EXPECT_EQ(failures.at("documents.jsonl line 4"), "not a JSON object");
  EXPECT_EQ(failures.at("documents.jsonl line 5"), "no url");
  EXPECT_EQ(failures.at("documents.jsonl line 6"), "unknown platform 'myspace'");
  EXPECT_EQ(failures.at("documents.jsonl line 8"), "not a JSON object");
}

TEST_F(ImportTest, TruncatedZipIsAClearError) {
  const fs::path whole = zip_of("medium-export");
  const std::string bytes = read_file(whole);
  const fs::path cut = home / "truncated.zip";
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  try {
    ImportOptions medium;
    medium.format = "medium";
    import_source(cut, medium);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("truncated.zip: not a readable zip archive"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(detect_import_format(cut), Error);
}

TEST_F(ImportTest, ZipBombsStopAtTheCaps) {
  // One entry of 16 MB of zeros (~16 KB compressed) over a 1 MB per-entry cap:
  // skipped with its reason; over a total cap: the archive fails.
  const fs::path bomb = home / "bomb.zip";
  write_zip(bomb, {{"posts/2024-01-01_Bomb-1.html", std::string(16u << 20, '\0')},
                   {"posts/2024-01-02_Fine-2.html",
                    "<html><body><article><p>A fine post with some text in it.</p></article>"
                    "</body></html>"}});
  ASSERT_LT(fs::file_size(bomb), 1u << 20);
  ImportOptions options;
  options.zip.max_entry_bytes = 1u << 20;
  ZipContents contents = read_zip(bomb, options.zip);
  ASSERT_EQ(contents.skipped.size(), 1u);
  EXPECT_EQ(contents.skipped[0], "posts/2024-01-01_Bomb-1.html: inflates past 1 MB (a zip bomb?)");
  EXPECT_EQ(contents.files.size(), 1u);

  options.zip.max_entry_bytes = 128u << 20;
  options.zip.max_total_bytes = 8u << 20;
  EXPECT_THROW(read_zip(bomb, options.zip), Error);

  std::map<std::string, std::string> many;
  for (int i = 0; i < 50; ++i) many["posts/p" + std::to_string(i) + ".html"] = "x";
  write_zip(home / "many.zip", many);
  ZipLimits few;
  few.max_entries = 10;
  try {
    read_zip(home / "many.zip", few);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("more than 10 entries"), std::string::npos);
  }
}

TEST_F(ImportTest, ImportStepRecordsDocumentsAndEachArchivesSha256) {
  const fs::path medium = zip_of("medium-export");
  const fs::path missing = home / "no-such-export.zip";
  const std::string dag =
      write_dag("imports", R"(name: imports
steps:
  - id: import
    type: import
    params:
      author: Ines Calloway
      max_failure_ratio: 0.9
      sources:
        - )" + medium.string() +
                               R"(
        - {path: )" + (kFixtures / "substack-export").string() +
                               R"(, format: substack, base_url: "https://ines.substack.com"}
        - )" + (kFixtures / "jsonl" / "documents.jsonl").string() +
                               R"(
        - )" + missing.string() +
                               R"(
    outputs:
      - {name: documents, artifact: imported_documents, type: manifest}
)");
  auto run = execute(prepare_fresh_run(load(dag)));
  ASSERT_EQ(run.status, "succeeded")
      << read_file(home / "logs" / std::to_string(run.run_id) / "import.1.log");
  auto docs = store->features().latest_documents("Ines Calloway");
  EXPECT_EQ(docs.size(), 2u + 2u + 3u);
  for (const auto& d : docs) EXPECT_GT(d.step_run_id, 0) << d.url;

  auto versions = store->runs().artifact_versions("imported_documents");
  ASSERT_EQ(versions.size(), 1u);
  const nlohmann::json& metadata = versions[0].metadata;
  ASSERT_EQ(metadata["imports"].size(), 4u);
  EXPECT_EQ(metadata["imports"][0]["sha256"], sha256_file(medium));
  EXPECT_EQ(metadata["imports"][0]["format"], "medium");
  EXPECT_EQ(metadata["imports"][2]["format"], "jsonl");
  EXPECT_EQ(metadata["imports"][3]["sha256"], "");  // missing: recorded as a failure
  const nlohmann::json manifest = nlohmann::json::parse(read_file(versions[0].uri));
  bool missing_named = false;
  for (const auto& f : manifest["failures"])
    missing_named = missing_named || f["reason"].get<std::string>().find(
                                         "no-such-export.zip: no "
                                         "such file") != std::string::npos;
  EXPECT_TRUE(missing_named) << manifest["failures"].dump();

  // Importing the same archives again changes nothing.
  auto again = execute(prepare_fresh_run(load(dag)));
  ASSERT_EQ(again.status, "succeeded");
  EXPECT_EQ(store->features().feature_counts("Ines Calloway", "").document_versions, 7);
}

}  // namespace
}  // namespace twinflow
