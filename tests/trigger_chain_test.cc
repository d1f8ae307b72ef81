// One crawl, one run of each: the shipped DAGs (dags/*.yaml, as shipped but
// for the sample's address) under a real `twinflow scheduler` process. Its
// first pass fires digital_data_etl's weekly schedule, which crawls the bundled
// sample from a real HTTP server on 127.0.0.1 and a real git repository,
// committing the documents one by one; the triggers then start exactly one
// feature_engineering run (consuming every document), one generate_datasets
// run and one training run. Before trigger batches the same crawl started 18,
// 5 and 2 of them.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "http/http_server.h"
#include "http/static_files.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "store/run_ledger.h"
#include "store/run_queue.h"
#include "tests/support/twinflow_fixture.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

const fs::path kSource = TWINFLOW_SOURCE_DIR;

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("test bug: '" + from + "' not found");
  return text.replace(at, from.size(), to);
}

class TriggerChainTest : public TwinflowTest {
 protected:
  void SetUp() override {
    TwinflowTest::SetUp();
    server_ = std::make_unique<HttpServer>(static_files_handler(kSource / "sample" / "site"));
    server_->start();
    repo_ = home / "sample-repo";
    const std::string cmd = "bash '" + (kSource / "sample" / "make_repo.sh").string() + "' '" +
                            repo_.string() + "' >/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    // The shipped DAGs, the crawl pointed at this test's server and repository.
    dags_ = home / "shipped-dags";
    fs::create_directories(dags_);
    for (const auto& entry : fs::directory_iterator(kSource / "dags")) {
      if (entry.path().extension() != ".yaml") continue;
      std::string text = read_file(entry.path());
      if (entry.path().filename() == "digital_data_etl.yaml") {
        text = replaced(text, "site: http://127.0.0.1:8765", "site: " + server_->base_url());
        text = replaced(text, "repo: file:///tmp/twinflow-sample-repo",
                        "repo: file://" + repo_.string());
      }
      std::ofstream(dags_ / entry.path().filename()) << text;
    }
  }

  std::map<std::string, std::vector<RunRecord>> runs_by_pipeline() {
    RunFilter filter;
    filter.limit = 1000;
    std::map<std::string, std::vector<RunRecord>> out;
    for (RunRecord& run : store->runs().list_runs(filter))
      out[run.pipeline].push_back(std::move(run));
    return out;
  }

  // Every run ended and every event the triggers listen to consumed: nothing
  // can start another run.
  bool settled() {
    EventFilter documents;
    documents.documents = true;
    EventFilter cleaned;
    cleaned.artifact = "cleaned_documents";
    EventFilter instruct;
    instruct.artifact = "instruct_dataset";
    if (store->queue().pending_events("feature_engineering", documents).count > 0 ||
        store->queue().pending_events("generate_datasets", cleaned).count > 0 ||
        store->queue().pending_events("training", instruct).count > 0)
      return false;
    for (const auto& [pipeline, runs] : runs_by_pipeline())
      for (const RunRecord& run : runs)
        if (run.status == "queued" || run.status == "running") return false;
    return runs_by_pipeline().count("training") > 0;
  }

  std::unique_ptr<HttpServer> server_;
  fs::path repo_;
  fs::path dags_;
};

TEST_F(TriggerChainTest, OneCrawlOfTheSampleStartsOneRunOfEachDownstreamDag) {
  const std::string log = (home / "scheduler.log").string();
  pid_t daemon = spawn_twinflow(
      {"scheduler", "--dags-dir", dags_.string(), "--poll-ms", "500", "--grace", "5"}, log);
  bool done = false;
  for (int i = 0; i < 2400 && !done; ++i) {  // at most 8 minutes
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    done = settled();
  }
  ASSERT_EQ(::kill(daemon, SIGTERM), 0);
  int wait_status = 0;
  ASSERT_EQ(::waitpid(daemon, &wait_status, 0), daemon);
  ASSERT_TRUE(done) << read_file(log);

  auto runs = runs_by_pipeline();
  for (const std::string dag :
       {"digital_data_etl", "feature_engineering", "generate_datasets", "training"}) {
    ASSERT_EQ(runs[dag].size(), 1u) << dag << "\n" << read_file(log);
    EXPECT_EQ(runs[dag][0].status, "succeeded") << dag << "\n" << read_file(log);
  }
  EXPECT_EQ(runs.count("llm_twin"), 0u);
  EXPECT_EQ(runs["digital_data_etl"][0].trigger, "schedule");

  // The feature run consumed every document the crawl committed, each
  // recorded with the crawl that wrote it; the others one version each.
  pqxx::connection c(conninfo);
  pqxx::nontransaction tx(c);
  const int documents = tx.exec1("SELECT count(*) FROM documents")[0].as<int>();
  EXPECT_GE(documents, 31);  // the sample's pages, and the repository's files
  const auto feature_events = store->queue().run_events(runs["feature_engineering"][0].id);
  EXPECT_EQ(static_cast<int>(feature_events.size()), documents);
  for (const ConsumedEvent& e : feature_events)
    EXPECT_EQ(e.producer_run_id, runs["digital_data_etl"][0].id) << e.url;
  const auto dataset_events = store->queue().run_events(runs["generate_datasets"][0].id);
  ASSERT_EQ(dataset_events.size(), 1u);
  EXPECT_EQ(dataset_events[0].artifact, "cleaned_documents");
  EXPECT_EQ(dataset_events[0].producer_run_id, runs["feature_engineering"][0].id);
  const auto training_events = store->queue().run_events(runs["training"][0].id);
  ASSERT_EQ(training_events.size(), 1u);
  EXPECT_EQ(training_events[0].artifact, "instruct_dataset");
  std::printf(
      "one crawl (%d documents): runs digital_data_etl %zu, feature_engineering %zu, "
      "generate_datasets %zu, training %zu\n",
      documents, runs["digital_data_etl"].size(), runs["feature_engineering"].size(),
      runs["generate_datasets"].size(), runs["training"].size());
}

}  // namespace
}  // namespace twinflow
