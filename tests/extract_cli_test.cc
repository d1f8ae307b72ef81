// `twinflow extract` end to end: the real binary on the bundled sample's pages,
// from a file and over HTTP from a server on 127.0.0.1, as a person debugging
// a crawler would run it; and its errors for sources that cannot be read.
#include <gtest/gtest.h>

#include <fstream>

#include "http/http_server.h"
#include "http/static_files.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "tests/support/twinflow_fixture.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

const fs::path kSite = fs::path(TWINFLOW_SOURCE_DIR) / "sample" / "site";

class ExtractCliTest : public TwinflowTest {
 protected:
  void SetUp() override {
    TwinflowTest::SetUp();
    expected_ = nlohmann::json::parse(
        read_file(fs::path(TWINFLOW_SOURCE_DIR) / "sample" / "expected.json"))["pages"];
  }

  // The first expected page of a platform.
  const nlohmann::json& page_of(const std::string& platform) {
    for (const auto& page : expected_)
      if (page["platform"] == platform) return page;
    throw Error("the sample has no " + platform + " page");
  }

  void expect_page(const CommandResult& result, const nlohmann::json& page) {
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const auto doc = nlohmann::json::parse(result.out);
    EXPECT_EQ(doc["title"], page["title"]);
    EXPECT_EQ(doc["author"], page["author"]);
    EXPECT_EQ(doc["published"].get<std::string>().substr(0, 10), page["published"]);
    const std::string text = doc["text"];
    const std::string first = page["first_paragraph"], last = page["last_paragraph"];
    ASSERT_NE(text.find(first), std::string::npos) << text;
    ASSERT_NE(text.find(last), std::string::npos) << text;
    // Paragraphs stay paragraphs: a break separates the first from what follows.
    EXPECT_EQ(text.substr(text.find(first) + first.size(), 2), "\n\n");
    EXPECT_GT(doc["blocks"].size(), 3u);
  }

  nlohmann::json expected_;
};

TEST_F(ExtractCliTest, FindsTitleAuthorDateAndParagraphsOfEveryPlatformsSamplePage) {
  for (const std::string platform : {"medium", "substack", "linkedin"}) {
    SCOPED_TRACE(platform);
    const nlohmann::json& page = page_of(platform);
    expect_page(twinflow({"extract", (kSite / page["path"].get<std::string>()).string(),
                          "--platform", platform, "--json"}),
                page);
  }
}

TEST_F(ExtractCliTest, FetchesAUrlOverHttpAndDetectsThePlatformItself) {
  HttpServer server(static_files_handler(kSite));
  server.start();
  const nlohmann::json& page = page_of("substack");
  expect_page(
      twinflow({"extract", server.base_url() + "/" + page["path"].get<std::string>(), "--json"}),
      page);
}

TEST_F(ExtractCliTest, SourcesThatCannotBeReadFailWithTheirReason) {
  auto missing = twinflow({"extract", (home / "no-such-page.html").string()});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("no-such-page.html"), std::string::npos) << missing.err;

  HttpServer server([](const HttpRequest&) { return HttpResponse::text(404, "gone"); });
  server.start();
  auto not_found = twinflow({"extract", server.base_url() + "/post.html"});
  EXPECT_NE(not_found.exit_code, 0);
  EXPECT_NE(not_found.err.find("404"), std::string::npos) << not_found.err;
}

TEST_F(ExtractCliTest, APageWithNoArticleTextExitsNonZero) {
  const fs::path file = home / "menu-only.html";
  std::ofstream(file) << "<html><body><nav><a href='/'>Home</a></nav></body></html>";
  auto result = twinflow({"extract", file.string()});
  EXPECT_EQ(result.exit_code, 1) << result.out;
}

}  // namespace
}  // namespace twinflow
