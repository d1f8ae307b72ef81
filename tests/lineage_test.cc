// Lineage from a model to its sources and from a URL to its models
// (store/lineage_queries.h, `twinflow lineage`), on the main job: the shipped
// dags/llm_twin.yaml over the bundled sample, served by a real HTTP server on
// 127.0.0.1, with a real git repository, real step processes and PostgreSQL.
// The production model reaches every one of the sample's 31 sources; a page
// changed and crawled again shows its new version reaching the next model only.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "http/http_server.h"
#include "http/static_files.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "tests/support/twinflow_fixture.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

using Json = nlohmann::json;

const fs::path kSource = TWINFLOW_SOURCE_DIR;
const char* const kChangedPage = "medium/chunking-for-rag.html";

class LineageTest : public TwinflowTest {
 protected:
  void SetUp() override {
    TwinflowTest::SetUp();
    // A copy of the site, so that a page can change.
    site_dir_ = home / "site";
    fs::copy(kSource / "sample" / "site", site_dir_, fs::copy_options::recursive);
    site_ = std::make_unique<HttpServer>(static_files_handler(site_dir_));
    site_->start();
    repo_ = home / "sample-repo";
    const std::string cmd = "bash '" + (kSource / "sample" / "make_repo.sh").string() + "' '" +
                            repo_.string() + "' >/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }

  void run_main_job() {
    auto run = execute(prepare_fresh_run(load(
        (kSource / "dags" / "llm_twin.yaml").string(),
        {{"site", site_->base_url()}, {"repo", "file://" + repo_.string()}, {"epochs", "2"}})));
    ASSERT_EQ(run.status, "succeeded");
  }

  // The 31 sources the main job crawls: its links, with this test's addresses.
  std::vector<std::string> sample_sources() {
    const Dag dag = load((kSource / "dags" / "llm_twin.yaml").string(),
                         {{"site", site_->base_url()}, {"repo", "file://" + repo_.string()}});
    std::vector<std::string> out;
    for (const Json& link : dag.steps[dag.find_step("crawl")].params["links"])
      out.push_back(link.is_string() ? link.get<std::string>() : link["url"].get<std::string>());
    return out;
  }

  Json lineage_cli(const std::vector<std::string>& args) {
    std::vector<std::string> full = {"lineage"};
    full.insert(full.end(), args.begin(), args.end());
    full.push_back("--json");
    auto result = twinflow(full);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.exit_code == 0 ? Json::parse(result.out) : Json();
  }

  // URL -> the versions of it a model's lineage names.
  static std::map<std::string, std::set<int>> versions_by_url(const Json& lineage) {
    std::map<std::string, std::set<int>> out;
    for (const Json& d : lineage["sources"]["documents"])
      out[d["url"].get<std::string>()].insert(d["version"].get<int>());
    return out;
  }

  fs::path site_dir_;
  std::unique_ptr<HttpServer> site_;
  fs::path repo_;
};

TEST_F(LineageTest, TheProductionModelReachesEverySampleSourceAndAChangedPageOnlyTheNextModel) {
  run_main_job();
  const Json first = lineage_cli({"llm_twin"});  // the registry's production version
  ASSERT_TRUE(first.is_object());
  EXPECT_EQ(first["model"]["stage"], "production");
  const auto reached = versions_by_url(first);
  const std::vector<std::string> sources = sample_sources();
  ASSERT_EQ(sources.size(), 31u);
  int found = 0;
  for (const std::string& source : sources) {
    bool hit = reached.count(source) > 0;
    for (const auto& [url, versions] : reached)  // the repository: its files' URLs
      hit = hit || url.rfind(source, 0) == 0;
    EXPECT_TRUE(hit) << source;
    found += hit ? 1 : 0;
  }
  std::printf("the production model reaches %d of the %zu sample sources (%zu URLs)\n", found,
              sources.size(), reached.size());
  // Each with the crawl that fetched it and the datasets that read it.
  for (const Json& d : first["sources"]["documents"]) {
    ASSERT_TRUE(d["crawl"].is_object()) << d.dump();
    EXPECT_EQ(d["crawl"]["pipeline"], "llm_twin");
    EXPECT_EQ(d["crawl"]["step"], "crawl");
    EXPECT_FALSE(d["fetched_at"].is_null());
    EXPECT_TRUE(d["clean"].is_object()) << d.dump();
  }
  for (const Json& ds : first["sources"]["datasets"])
    EXPECT_EQ(ds["sources_found"], ds["sources_recorded"]) << ds.dump();
  const std::string changed = site_->base_url() + "/" + kChangedPage;
  EXPECT_EQ(reached.at(changed), std::set<int>{1});

  // The page changes; the main job runs again.
  const fs::path page = site_dir_ / kChangedPage;
  std::string html = read_file(page);
  const std::string before = "Every retrieval-augmented generation system I have debugged";
  const size_t at = html.find(before);
  ASSERT_NE(at, std::string::npos);
  html.replace(at, before.size(), "Every RAG system I have debugged since last spring");
  std::ofstream(page, std::ios::trunc) << html;
  run_main_job();

  const Json second = lineage_cli({"llm_twin_model@2"});  // the next model, by its artifact
  const auto reached_next = versions_by_url(second);
  EXPECT_EQ(reached_next.at(changed), std::set<int>{2});
  EXPECT_EQ(reached_next.size(), reached.size());
  const Json first_again = lineage_cli({"llm_twin@1"});  // the first, by its registry version
  EXPECT_EQ(versions_by_url(first_again).at(changed), std::set<int>{1});

  // From the URL: version 1 reached model 1 only, version 2 model 2 only.
  const Json by_url = lineage_cli({"--url", changed});
  ASSERT_EQ(by_url["documents"].size(), 2u);
  for (const Json& d : by_url["documents"]) {
    const int version = d["version"];
    ASSERT_EQ(d["models"].size(), 1u) << d.dump();
    EXPECT_EQ(d["models"][0]["model"], "llm_twin");
    EXPECT_EQ(d["models"][0]["version"], version);
    EXPECT_FALSE(d["chunks"].empty());
    EXPECT_FALSE(d["datasets"].empty());
    EXPECT_EQ(d["is_latest"], version == 2);
  }
  EXPECT_FALSE(by_url["documents"][0]["deployments"].empty());  // model 1 went to production
  // The chunks of version 1 are no longer current; version 2's are.
  for (const Json& c : by_url["documents"][0]["chunks"]) EXPECT_FALSE(c["is_current"].get<bool>());
  for (const Json& c : by_url["documents"][1]["chunks"]) EXPECT_TRUE(c["is_current"].get<bool>());

  // Bad input: one clear line, no database error.
  auto unknown = twinflow({"lineage", "--url", "https://nowhere.example/x"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no document has the URL"), std::string::npos) << unknown.err;
  auto both = twinflow({"lineage", "llm_twin", "--url", changed});
  EXPECT_EQ(both.exit_code, 2);
}

}  // namespace
}  // namespace twinflow
