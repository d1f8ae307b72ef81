// What the chunk writer builds before the database sees its batch: the
// postings grouped by word (store/bm25_batch.h: group_terms) and rows in
// COPY's text format (store/copy_text.h), streamed through a real COPY into
// PostgreSQL and read back. That the grouped postings give exact BM25
// statistics is tested end to end in bm25_test.cc.
#include <gtest/gtest.h>

#include <map>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "store/bm25_batch.h"
#include "store/bytea_text.h"
#include "store/copy_text.h"
#include "store/english_analyzer.h"
#include "support/twinflow_fixture.h"

namespace twinflow {
namespace {

TEST(GroupTermsTest, EachWordOnceInByteOrderWithItsChunksInOrder) {
  const std::vector<SearchTerms> terms = {
      search_terms("Pipelines flow; the pipeline flows into the lake."),
      search_terms(""),
      search_terms("A lake of data, and zebras."),
      search_terms("Flow, flow, flow: data pipelines."),
  };
  std::vector<const SearchTerms*> analyses;
  for (const SearchTerms& t : terms) analyses.push_back(&t);
  const GroupedTerms grouped = group_terms(analyses);

  EXPECT_EQ(grouped.analyses, 4u);
  ASSERT_EQ(grouped.starts.size(), grouped.lexemes.size() + 1);
  EXPECT_EQ(grouped.starts.front(), 0u);
  EXPECT_EQ(grouped.starts.back(), grouped.chunks.size());
  ASSERT_EQ(grouped.body_tfs.size(), grouped.chunks.size());
  for (size_t i = 1; i < grouped.lexemes.size(); ++i)
    EXPECT_LT(grouped.lexemes[i - 1], grouped.lexemes[i]);

  // The same postings as each analysis lists, word by word.
  std::map<std::string, std::vector<std::pair<uint32_t, int>>> expected;
  for (uint32_t chunk = 0; chunk < analyses.size(); ++chunk)
    analyses[chunk]->each([&](std::string_view lexeme, int tf) {
      expected[std::string(lexeme)].emplace_back(chunk, tf);
    });
  std::map<std::string, std::vector<std::pair<uint32_t, int>>> got;
  for (size_t w = 0; w < grouped.lexemes.size(); ++w)
    for (uint32_t i = grouped.starts[w]; i < grouped.starts[w + 1]; ++i)
      got[std::string(grouped.lexemes[w])].emplace_back(grouped.chunks[i], grouped.body_tfs[i]);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(got.at("flow"), (std::vector<std::pair<uint32_t, int>>{{0, 2}, {3, 3}}));
  EXPECT_EQ(got.at("lake"), (std::vector<std::pair<uint32_t, int>>{{0, 1}, {2, 1}}));
}

TEST(GroupTermsTest, NothingToGroup) {
  const GroupedTerms grouped = group_terms({});
  EXPECT_TRUE(grouped.lexemes.empty());
  EXPECT_EQ(grouped.starts, std::vector<uint32_t>{0});
  EXPECT_EQ(grouped.analyses, 0u);
}

class CopyTextTest : public TwinflowTest {};

TEST_F(CopyTextTest, RowsArriveAsTheyWereGivenWhateverTheirBytes) {
  const std::vector<std::string> texts = {"plain",
                                          "tab\there",
                                          "new\nline",
                                          "carriage\rreturn",
                                          "back\\slash",
                                          "\\N is no null",
                                          "",
                                          "\\.",
                                          "caf\xc3\xa9 \xf0\x9f\x9a\x80",
                                          "end\\",
                                          "\t\n\r\\\\"};
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
  // Enough rows to be sent in many pieces.
  const std::string filler(1000, 'x');
  constexpr int kRows = 3000;

  pqxx::connection connection(conninfo);
  pqxx::work tx(connection);
  tx.exec("CREATE TEMP TABLE copied (n bigint, s text, b bytea, z text)");
  CopyStream copy(tx, "copied", {"n", "s", "b", "z"});
  size_t bytes = 0;
  for (int n = 0; n < kRows; ++n) {
    const std::string& text = texts[static_cast<size_t>(n) % texts.size()];
    const size_t before = copy.row().data().size();
    copy.row().integer(n - 1000).text(text + filler).bytea(n % 2 ? every_byte : std::string());
    if (n % 3 == 0)
      copy.row().null();
    else
      copy.row().text(text);
    bytes += copy.row().data().size() - before;
    copy.end_row();
  }
  copy.complete();
  EXPECT_GT(bytes, size_t{3} << 20);

  const pqxx::result result =
      tx.exec("SELECT n, s, encode(b, 'hex'), z IS NULL, coalesce(z, '') FROM copied ORDER BY n");
  ASSERT_EQ(result.size(), static_cast<size_t>(kRows));
  const std::string every_byte_hex = bytes_to_hex(every_byte);
  for (int n = 0; n < kRows; ++n) {
    const auto& row = result[static_cast<size_t>(n)];
    const std::string& text = texts[static_cast<size_t>(n) % texts.size()];
    ASSERT_EQ(row[0].as<int64_t>(), n - 1000);
    ASSERT_EQ(row[1].as<std::string>(), text + filler) << "row " << n;
    ASSERT_EQ(row[2].as<std::string>(), n % 2 ? every_byte_hex : "") << "row " << n;
    ASSERT_EQ(row[3].as<bool>(), n % 3 == 0) << "row " << n;
    if (n % 3 != 0) {
      ASSERT_EQ(row[4].as<std::string>(), text) << "row " << n;
    }
  }
}

TEST_F(CopyTextTest, ARowTheDatabaseRefusesFailsTheCopy) {
  pqxx::connection connection(conninfo);
  pqxx::work tx(connection);
  tx.exec("CREATE TEMP TABLE copied (n bigint NOT NULL)");
  CopyStream copy(tx, "copied", {"n"});
  copy.row().integer(1);
  copy.end_row();
  copy.row().null();
  copy.end_row();
  EXPECT_THROW(copy.complete(), pqxx::sql_error);
}

}  // namespace
}  // namespace twinflow
