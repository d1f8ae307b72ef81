// The LLM-twin data pipeline end to end, as the main job runs it: the shipped
// DAGs (dags/digital_data_etl.yaml, dags/feature_engineering.yaml) crawl the
// bundled sample from a real HTTP server on 127.0.0.1 and a real git
// repository, through real `twinflow step` subprocesses, into a real
// PostgreSQL; then retrieval answers the sample's known queries.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <sstream>

#include "http/http_server.h"
#include "http/static_files.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "store/feature_store.h"
#include "store/run_ledger.h"
#include "tasks/embed/text_embedder.h"
#include "tasks/search/retriever.h"
#include "tests/support/twinflow_fixture.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

const fs::path kSource = TWINFLOW_SOURCE_DIR;

nlohmann::json read_json(const fs::path& path) {
  return nlohmann::json::parse(read_file(path));
}

class DataPipelineTest : public TwinflowTest {
 protected:
  void SetUp() override {
    TwinflowTest::SetUp();
    server_ = std::make_unique<HttpServer>(static_files_handler(kSource / "sample" / "site"));
    server_->start();
    repo_ = home / "sample-repo";
    const std::string cmd = "bash '" + (kSource / "sample" / "make_repo.sh").string() + "' '" +
                            repo_.string() + "' >/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    expected_ = read_json(kSource / "sample" / "expected.json");
  }

  Outcome crawl() {
    return execute(prepare_fresh_run(
        load((kSource / "dags" / "digital_data_etl.yaml").string(),
             {{"site", server_->base_url()}, {"repo", "file://" + repo_.string()}})));
  }
  Outcome features() {
    return execute(
        prepare_fresh_run(load((kSource / "dags" / "feature_engineering.yaml").string())));
  }

  // The value of a metric a run's steps reported (the last one, when repeated).
  std::string url_of(const std::string& page) { return server_->base_url() + "/" + page; }

  std::unique_ptr<HttpServer> server_;
  fs::path repo_;
  nlohmann::json expected_;
};

TEST_F(DataPipelineTest, CrawlRecordsEveryPageAndKeptRepositoryFile) {
  auto run = crawl();
  ASSERT_EQ(run.status, "succeeded")
      << read_file(home / "logs" / std::to_string(run.run_id) / "crawl.1.log");
  std::map<std::string, DocumentRecord> by_url;
  for (auto& d : store->features().latest_documents(expected_["author"])) by_url[d.url] = d;

  for (const auto& page : expected_["pages"]) {
    const std::string url = url_of(page["path"]);
    ASSERT_TRUE(by_url.count(url)) << url;
    const DocumentRecord& d = by_url[url];
    EXPECT_EQ(d.platform, page["platform"]) << url;
    EXPECT_EQ(d.title, page["title"]) << url;
    EXPECT_EQ(d.byline, page["author"]) << url;
    EXPECT_EQ(d.published_at.substr(0, 10), page["published"]) << url;
    EXPECT_NE(d.content.find(page["first_paragraph"].get<std::string>()), std::string::npos) << url;
    EXPECT_NE(d.content.find(page["last_paragraph"].get<std::string>()), std::string::npos) << url;
    EXPECT_GT(d.step_run_id, 0);  // lineage: the row names the attempt that wrote it
  }
  std::set<std::string> repo_files;
  for (const auto& [url, d] : by_url)
    if (d.platform == "github") repo_files.insert(url.substr(url.find("/blob/HEAD/") + 11));
  std::set<std::string> kept(expected_["repo"]["kept"].begin(), expected_["repo"]["kept"].end());
  EXPECT_EQ(repo_files, kept);
  EXPECT_EQ(by_url.size(), expected_["pages"].size() + kept.size());
}

TEST_F(DataPipelineTest, ASecondCrawlCostsOne304PerPageAndMakesNoNewVersion) {
  auto first = crawl();
  ASSERT_EQ(first.status, "succeeded");
  auto second = crawl();
  ASSERT_EQ(second.status, "succeeded");
  EXPECT_EQ(metric(second.run_id, "pages_not_modified"),
            static_cast<double>(expected_["pages"].size()));
  EXPECT_EQ(metric(second.run_id, "pages_new"), 0);
  auto versions = store->runs().artifact_versions("raw_documents");
  EXPECT_EQ(versions.size(), 1u) << "an unchanged crawl must not make a new manifest version";
  EXPECT_EQ(store->features().feature_counts(expected_["author"], "").document_versions,
            store->features().feature_counts(expected_["author"], "").documents);
}

TEST_F(DataPipelineTest, EveryCharacterOfEveryCleanedDocumentLandsInAChunk) {
  ASSERT_EQ(crawl().status, "succeeded");
  auto run = features();
  ASSERT_EQ(run.status, "succeeded");
  pqxx::connection c(conninfo);
  pqxx::nontransaction tx(c);
  int documents = 0;
  for (const auto& doc : tx.exec("SELECT id, content FROM cleaned_documents")) {
    const std::string content = doc[1].as<std::string>();
    std::vector<bool> covered(content.size(), false);
    for (const auto& chunk :
         tx.exec_params("SELECT start_offset, end_offset, content FROM chunks "
                        "WHERE cleaned_document_id = $1 AND is_current ORDER BY position",
                        doc[0].as<int64_t>())) {
      const auto start = chunk[0].as<size_t>(), end = chunk[1].as<size_t>();
      ASSERT_LE(end, content.size());
      ASSERT_EQ(content.substr(start, end - start), chunk[2].as<std::string>());
      for (size_t i = start; i < end; ++i) covered[i] = true;
    }
    for (size_t i = 0; i < content.size(); ++i)
      ASSERT_TRUE(covered[i]) << "byte " << i << " of cleaned document " << doc[0].as<int64_t>();
    ++documents;
  }
  EXPECT_GT(documents, 30);
  auto counts = store->features().feature_counts(expected_["author"], "tfidf-svd-256");
  EXPECT_EQ(counts.embedded_current_chunks, counts.current_chunks);
  EXPECT_GT(counts.current_chunks, documents);
}

TEST_F(DataPipelineTest, SearchFindsTheExpectedPageForKnownQueriesInEveryMode) {
  ASSERT_EQ(crawl().status, "succeeded");
  ASSERT_EQ(features().status, "succeeded");
  Retriever retriever(store->features(), home / "artifacts");
  auto queries = read_json(kSource / "sample" / "queries.json")["queries"];
  for (SearchMode mode : {SearchMode::kVector, SearchMode::kText, SearchMode::kHybrid}) {
    int found = 0;
    for (const auto& q : queries) {
      SearchQuery query;
      query.text = q["query"];
      query.mode = mode;
      query.k = 3;
      std::vector<std::string> urls;
      for (const auto& hit : retriever.search(query)) urls.push_back(hit.chunk.url);
      const std::string expected = url_of(q["expect"]);
      bool hit = std::find(urls.begin(), urls.end(), expected) != urls.end();
      found += hit;
      EXPECT_TRUE(hit) << search_mode_name(mode) << ": '" << q["query"].get<std::string>()
                       << "' should find " << expected;
    }
    std::cout << search_mode_name(mode) << ": " << found << "/" << queries.size()
              << " known queries answered in the top 3\n";
  }
}

TEST_F(DataPipelineTest, ASecondFeatureRunEmbedsNothingNew) {
  ASSERT_EQ(crawl().status, "succeeded");
  auto first = features();
  ASSERT_EQ(first.status, "succeeded");
  EXPECT_GT(metric(first.run_id, "chunks_embedded"), 0);
  EXPECT_EQ(metric(first.run_id, "refit"), 1);
  auto second = features();
  ASSERT_EQ(second.status, "succeeded");
  EXPECT_EQ(metric(second.run_id, "documents_cleaned"), 0);
  EXPECT_EQ(metric(second.run_id, "documents_chunked"), 0);
  EXPECT_EQ(metric(second.run_id, "chunks_embedded"), 0);
  EXPECT_EQ(metric(second.run_id, "refit"), 0);
  EXPECT_EQ(store->runs().artifact_versions("embeddings").size(), 1u);
  EXPECT_EQ(store->runs().artifact_versions("embedding_model").size(), 1u);
}

// A stand-in for an OpenAI-compatible embeddings server: a text's vector is
// its words hashed into 64 buckets (the client normalises it). Counts the
// requests and texts it was sent and keeps the last Authorization header.
class StubEmbeddingsServer {
 public:
  StubEmbeddingsServer() : server_([this](const HttpRequest& request) { return answer(request); }) {
    server_.start();
  }
  std::string url() const { return server_.base_url() + "/v1"; }
  int requests() const { return requests_; }
  int texts() const { return texts_; }
  std::string authorization() {
    std::lock_guard<std::mutex> lock(mutex_);
    return authorization_;
  }

 private:
  HttpResponse answer(const HttpRequest& request) {
    if (request.method != "POST" || request.path != "/v1/embeddings")
      return HttpResponse::text(404, "no such endpoint");
    {
      std::lock_guard<std::mutex> lock(mutex_);
      authorization_ = request.header("authorization");
    }
    const auto body = nlohmann::json::parse(request.body);
    nlohmann::json data = nlohmann::json::array();
    int index = 0;
    for (const auto& text : body.at("input")) {
      std::vector<double> v(64, 0.0);
      v[63] = 0.01;  // never the zero vector
      std::istringstream words(text.get<std::string>());
      for (std::string w; words >> w;) v[std::hash<std::string>{}(w) % 63] += 1;
      data.push_back({{"object", "embedding"}, {"index", index++}, {"embedding", v}});
    }
    ++requests_;
    texts_ += index;
    return HttpResponse::text(200, nlohmann::json{{"data", data}, {"model", body["model"]}}.dump())
        .header("Content-Type", "application/json");
  }

  std::atomic<int> requests_{0}, texts_{0};
  std::mutex mutex_;
  std::string authorization_;
  HttpServer server_;
};

TEST_F(DataPipelineTest, AnOpenAiCompatibleServerEmbedsTheChunksAndTheQueries) {
  ASSERT_EQ(crawl().status, "succeeded");
  StubEmbeddingsServer embeddings;
  ASSERT_EQ(setenv("TEST_EMBED_API_KEY", "sk-test-123", 1), 0);
  const std::string dag =
      "name: remote_features\nsteps:\n"
      "  - {id: clean, type: clean, outputs: [cleaned]}\n"
      "  - {id: chunk, type: chunk, inputs: {cleaned: clean.cleaned}, "
      "outputs: [chunks]}\n"
      "  - id: embed\n    type: embed\n    inputs: {chunks: chunk.chunks}\n"
      "    params: {provider: openai, url: '" +
      embeddings.url() +
      "', model: stub-embed, "
      "api_key_env: TEST_EMBED_API_KEY, batch_size: 16}\n"
      "    outputs: [embeddings, model]\n";
  const std::string path = write_dag("remote_features", dag);
  auto first = execute(prepare_fresh_run(load(path)));
  ASSERT_EQ(first.status, "succeeded")
      << read_file(home / "logs" / std::to_string(first.run_id) / "embed.1.log");

  auto model = store->features().current_embedding_model("stub-embed");
  ASSERT_TRUE(model.has_value());
  EXPECT_EQ(model->provider, "openai");
  EXPECT_EQ(model->dimension, 64);
  EXPECT_EQ(model->settings.dump().find("sk-test-123"),
            std::string::npos);  // the name, not the key
  auto counts = store->features().feature_counts(expected_["author"], "stub-embed");
  EXPECT_EQ(counts.embedded_current_chunks, counts.current_chunks);
  EXPECT_EQ(embeddings.texts(), counts.current_chunks + 1);  // + the dimension probe
  EXPECT_EQ(embeddings.authorization(), "Bearer sk-test-123");

  // A chunk's own text (its title, a blank line, its content: what the embed
  // step sent) finds that chunk first: query and chunks are embedded by the
  // same server.
  const auto some = store->features().current_chunks({});
  ASSERT_FALSE(some.empty());
  const ChunkText& probe = some[some.size() / 2];
  ASSERT_FALSE(probe.title.empty());
  Retriever retriever(store->features(), home / "artifacts");
  SearchQuery query;
  query.text = embedding_text(probe);
  query.mode = SearchMode::kVector;
  query.model_name = "stub-embed";
  query.k = 3;
  auto hits = retriever.search(query);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].chunk.id, probe.id);
  EXPECT_NEAR(hits[0].score, 1.0, 1e-4);

  // Nothing new: no chunk, and not one request, goes to the server again.
  const int requests = embeddings.requests();
  auto second = execute(prepare_fresh_run(load(path)));
  ASSERT_EQ(second.status, "succeeded");
  EXPECT_EQ(metric(second.run_id, "chunks_embedded"), 0);
  EXPECT_EQ(embeddings.requests(), requests);
  EXPECT_EQ(store->features().current_embedding_model("stub-embed")->version, 1);
  unsetenv("TEST_EMBED_API_KEY");
}

// Every kind of bad link is that link's failure, with a reason, and never the
// others'; the step fails only past max_failure_ratio.
class BadLinksTest : public TwinflowTest {
 protected:
  static HttpResponse route(const HttpRequest& request) {
    const std::string& p = request.path;
    auto html = [](std::string body) {
      return HttpResponse::text(200, std::move(body))
          .header("Content-Type", "text/html; charset=utf-8");
    };
    if (p == "/robots.txt") return HttpResponse::text(200, "User-agent: *\nDisallow: /private/\n");
    if (p == "/good.html")
      return html(
          "<html><head><title>Good page</title></head><body><article><h1>Good page</h1>"
          "<p>A paragraph that is long enough to be the body of this page.</p>"
          "</article></body></html>");
    if (p == "/latin1.html")  // windows-1252 bytes, no charset declared anywhere
      return HttpResponse::text(200,
                                "<html><head><title>Caf\xe9</title></head><body><article>"
                                "<p>Un caf\xe9 cr\xe8me, s'il vous pla\xeet.</p></article>"
                                "</body></html>")
          .header("Content-Type", "text/html");
    if (p == "/missing.html") return HttpResponse::text(404, "not here");
    if (p == "/loop.html") {
      HttpResponse r = HttpResponse::text(302, "");
      return r.header("Location", "/loop.html");
    }
    if (p == "/image.png") {
      HttpResponse r = HttpResponse::text(200, std::string("\x89PNG\r\n\x1a\n\0\0\0", 11));
      return r.header("Content-Type", "image/png");
    }
    if (p == "/huge.html") {
      auto sent = std::make_shared<size_t>(0);
      HttpResponse r;
      r.header("Content-Type", "text/html");
      r.stream = [sent](std::string& chunk) {
        chunk.assign(1 << 20, 'x');
        return (*sent += chunk.size()) < (50u << 20);
      };
      return r;
    }
    if (p == "/slow.html") {
      HttpResponse r = html("<p>late</p>");
      r.delay = std::chrono::seconds(5);
      return r;
    }
    if (p == "/empty.html") return html("<html><body><nav>Home</nav></body></html>");
    if (p == "/private/secret.html") return html("<p>should never be fetched</p>");
    return HttpResponse::text(404, "");
  }

  Outcome crawl(double max_failure_ratio) {
    HttpServer server(route);
    server.start();
    const std::string b = server.base_url();
    std::string dag =
        "name: bad_links\nsteps:\n  - id: crawl\n    type: crawl\n    params:\n"
        "      author: tester\n      timeout: 2s\n      retries: 0\n"
        "      max_page_bytes: 1048576\n      max_failure_ratio: " +
        std::to_string(max_failure_ratio) + "\n      links:\n";
    for (const char* path :
         {"/good.html", "/latin1.html", "/missing.html", "/loop.html", "/image.png", "/huge.html",
          "/slow.html", "/empty.html", "/private/secret.html"})
      dag += "        - " + b + path + "\n";
    dag += "        - {url: 'file://" + (home / "no-such-repo").string() + "', platform: github}\n";
    dag += "    outputs: [{name: documents, artifact: bad_links_documents}]\n";
    auto outcome = execute(prepare_fresh_run(load(write_dag("bad_links", dag))));
    base_ = b;
    return outcome;
  }

  std::map<std::string, std::string> failures(int64_t run_id) {
    std::map<std::string, std::string> out;
    auto versions = store->runs().artifact_versions("bad_links_documents");
    EXPECT_EQ(versions.size(), 1u) << "run " << run_id;
    if (versions.empty()) return out;
    auto manifest = nlohmann::json::parse(read_file(versions.back().uri));
    for (const auto& f : manifest["failures"]) {
      std::string url = f["url"];
      if (url.rfind(base_, 0) == 0) url = url.substr(base_.size());
      out[url] = f["reason"];
    }
    return out;
  }

  std::string base_;
};

TEST_F(BadLinksTest, EachBadLinkIsRecordedWithItsReasonAndTheGoodOnesAreKept) {
  auto run = crawl(0.9);
  ASSERT_EQ(run.status, "succeeded");
  auto reasons = failures(run.run_id);
  EXPECT_NE(reasons["/missing.html"].find("404"), std::string::npos) << reasons["/missing.html"];
  EXPECT_NE(reasons["/loop.html"].find("redirect"), std::string::npos) << reasons["/loop.html"];
  EXPECT_NE(reasons["/image.png"].find("image/png"), std::string::npos) << reasons["/image.png"];
  EXPECT_NE(reasons["/huge.html"].find("larger"), std::string::npos) << reasons["/huge.html"];
  EXPECT_NE(reasons["/slow.html"].find("timed out"), std::string::npos) << reasons["/slow.html"];
  EXPECT_NE(reasons["/empty.html"].find("no article text"), std::string::npos)
      << reasons["/empty.html"];
  EXPECT_NE(reasons["/private/secret.html"].find("robots.txt"), std::string::npos)
      << reasons["/private/secret.html"];
  bool git_failed = false;
  for (const auto& [url, reason] : reasons)
    if (url.find("no-such-repo") != std::string::npos)
      git_failed = reason.find("git clone") != std::string::npos;
  EXPECT_TRUE(git_failed);
  EXPECT_EQ(reasons.size(), 8u);

  std::map<std::string, DocumentRecord> docs;
  std::string urls;
  for (auto& d : store->features().latest_documents("tester")) {
    docs[d.url.substr(base_.size())] = d;
    urls += d.url + " ";
  }
  ASSERT_EQ(docs.size(), 2u) << urls;
  EXPECT_EQ(docs["/good.html"].title, "Good page");
  EXPECT_NE(docs["/latin1.html"].content.find("Un caf\u00e9 cr\u00e8me"), std::string::npos)
      << docs["/latin1.html"].content;
}

TEST_F(BadLinksTest, TooManyFailuresFailTheStepButKeepWhatWasCrawled) {
  auto run = crawl(0.5);
  EXPECT_EQ(run.status, "failed");
  EXPECT_EQ(store->features().latest_documents("tester").size(), 2u);
}

}  // namespace
}  // namespace twinflow
