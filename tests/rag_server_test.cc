// The RAG server (serve/rag_service.h) over real HTTP on 127.0.0.1, in front
// of a real PostgreSQL: after dags/llm_twin.yaml has run on the bundled
// sample, POST /rag retrieves from the feature store, answers with the
// production model and logs the prompt; bad queries get 400 and are logged
// too; a model promoted while the server runs answers the next request.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "http/static_files.h"
#include "serve/rag_service.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "store/model_registry.h"
#include "tests/support/http_client.h"
#include "tests/support/twinflow_fixture.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

using Json = nlohmann::json;
const fs::path kSource = TWINFLOW_SOURCE_DIR;

class RagServerTest : public TwinflowTest {
 protected:
  // Runs the whole pipeline on the sample, with `epochs` of training.
  void run_pipeline(int epochs) {
    HttpServer site(static_files_handler(kSource / "sample" / "site"));
    site.start();
    const fs::path repo = home / "sample-repo";
    const std::string cmd = "bash '" + (kSource / "sample" / "make_repo.sh").string() + "' '" +
                            repo.string() + "' >/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    auto run = execute(prepare_fresh_run(
        load((kSource / "dags" / "llm_twin.yaml").string(), {{"site", site.base_url()},
                                                             {"repo", "file://" + repo.string()},
                                                             {"epochs", std::to_string(epochs)}})));
    ASSERT_EQ(run.status, "succeeded");
  }

  static RagOptions builtin() {
    RagOptions options;
    options.generator = RagGenerator::kBuiltin;
    return options;
  }

  void start_server(RagOptions options = builtin()) {
    options.model_check_interval = std::chrono::milliseconds(50);
    service_ = std::make_unique<RagService>(conninfo, home / "artifacts", options);
    server_ =
        std::make_unique<HttpServer>([this](const HttpRequest& r) { return service_->handle(r); });
    server_->start();
  }

  HttpReply ask(const Json& body) { return client_.post_json(url("/rag"), body.dump()); }
  std::string url(const std::string& path) const { return server_->base_url() + path; }

  TestHttpClient client_;
  std::unique_ptr<RagService> service_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(RagServerTest, AnswersWithRetrievedSourcesAndTheProductionModelAndLogsIt) {
  run_pipeline(2);
  start_server();
  const Json queries = Json::parse(read_file(kSource / "sample" / "queries.json"))["queries"];
  const std::string query = queries[0]["query"];
  HttpReply reply = ask({{"query", query}, {"k", 3}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  Json answer = Json::parse(reply.body);
  EXPECT_FALSE(answer["answer"].get<std::string>().empty());
  EXPECT_EQ(answer["model"]["name"], "llm_twin");
  EXPECT_EQ(answer["model"]["version"], 1);
  ASSERT_EQ(answer["sources"].size(), 3u);
  bool expected_found = false;
  for (const auto& source : answer["sources"])
    expected_found |=
        source["url"].get<std::string>().ends_with(queries[0]["expect"].get<std::string>());
  EXPECT_TRUE(expected_found) << answer["sources"].dump(2);

  auto prompts = store->models().list_prompts(10);
  ASSERT_EQ(prompts.size(), 1u);
  EXPECT_EQ(prompts[0].id, answer["prompt_id"].get<int64_t>());
  EXPECT_EQ(prompts[0].query, query);
  EXPECT_EQ(prompts[0].status, 200);
  EXPECT_EQ(prompts[0].answer, answer["answer"]);
  EXPECT_EQ(prompts[0].model_version, 1);
  ASSERT_EQ(prompts[0].chunk_ids.size(), 3u);
  EXPECT_EQ(prompts[0].chunk_ids[0], answer["sources"][0]["chunk_id"].get<int64_t>());
  EXPECT_NE(prompts[0].prompt.find(query), std::string::npos);
  EXPECT_NE(prompts[0].prompt.find(answer["sources"][0]["text"].get<std::string>().substr(0, 40)),
            std::string::npos);
  EXPECT_GT(prompts[0].latency_ms, 0);

  HttpReply health = client_.get(url("/health"));
  ASSERT_EQ(health.status, 200);
  EXPECT_EQ(Json::parse(health.body)["model"]["version"], 1);

  auto listed = twinflow({"prompts", "--json", "--limit", "5"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(Json::parse(listed.out)[0]["query"], query);
}

TEST_F(RagServerTest, BadQueriesGet400AndAreLogged) {
  start_server();
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "the body must be a JSON object"},
      {"[1, 2]", "the body must be a JSON object"},
      {R"({"k": 3})", "'query' must be a string"},
      {R"({"query": "   "})", "'query' is empty"},
      {Json{{"query", std::string(5000, 'a')}}.dump(), "longer than"},
      {"{\"query\": \"caf\xff\xfe\"}", ""},  // not even JSON to nlohmann: still 400
      {R"({"query": "ok", "k": 0})", "'k' must be"},
      {R"({"query": "ok", "k": "3"})", "'k' must be"},
      {R"({"query": "ok", "author": 5})", "'author' must be"},
  };
  for (const auto& [body, reason] : bad) {
    HttpReply reply = client_.post_json(url("/rag"), body);
    EXPECT_EQ(reply.status, 400) << body << " -> " << reply.body;
    EXPECT_NE(reply.body.find(reason), std::string::npos) << reply.body;
  }
  // A JSON-escaped lone surrogate decodes to bytes that are not UTF-8.
  HttpReply escaped = client_.post_json(url("/rag"), R"({"query": "bad \udc80 text"})");
  EXPECT_EQ(escaped.status, 400) << escaped.body;
  EXPECT_EQ(client_.get(url("/rag")).status, 405);
  EXPECT_EQ(client_.get(url("/nowhere")).status, 404);
  auto logged = store->models().list_prompts(100);
  EXPECT_EQ(logged.size(), bad.size() + 1);
  for (const auto& p : logged) EXPECT_EQ(p.status, 400);
}

TEST_F(RagServerTest, WithoutAProductionModelItSays503) {
  start_server();
  HttpReply reply = ask({{"query", "how do I chunk documents?"}});
  EXPECT_EQ(reply.status, 503) << reply.body;
  EXPECT_NE(reply.body.find("no version of model 'llm_twin' is in production"), std::string::npos);
  EXPECT_EQ(Json::parse(client_.get(url("/health")).body)["model"], nullptr);
}

// `twinflow serve` loads the vectors before it listens: no request loads them.
TEST_F(RagServerTest, AWarmedUpServerAnswersWithoutLoadingTheVectorsAgain) {
  start_server(RagOptions{});
  EXPECT_EQ(service_->warm_up(), "");  // no embedding model yet: nothing to load
  EXPECT_EQ(service_->vector_loads(), 0u);

  run_pipeline(1);
  start_server(RagOptions{});
  EXPECT_EQ(service_->warm_up(), "tfidf-svd-256 v1");
  EXPECT_EQ(service_->vector_loads(), 1u);
  for (const char* query : {"how should I chunk documents for retrieval", "model registry"}) {
    HttpReply reply = ask({{"query", query}, {"k", 3}});
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_FALSE(Json::parse(reply.body)["sources"].empty());
  }
  EXPECT_EQ(service_->vector_loads(), 1u);
}

TEST_F(RagServerTest, AModelPromotedWhileServingAnswersTheNextRequest) {
  run_pipeline(1);
  start_server();
  const Json question = {{"query", "what is a model registry rollback"}, {"k", 2}};
  HttpReply first = ask(question);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Json::parse(first.body)["model"]["version"], 1);
  // Continuous training while the server runs: two more epochs beat v1,
  // and the deploy step promotes v2.
  auto training = execute(
      prepare_fresh_run(load((kSource / "dags" / "training.yaml").string(), {{"epochs", "3"}})));
  ASSERT_EQ(training.status, "succeeded");
  ASSERT_EQ(store->models().production_model("llm_twin")->version, 2);
  HttpReply second = ask(question);
  for (int i = 0;
       i < 100 && second.status == 200 && Json::parse(second.body)["model"]["version"] != 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    second = ask(question);
  }
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(Json::parse(second.body)["model"]["version"], 2);
  // Rolled back, the server follows again.
  store->models().rollback_model("llm_twin", {"test", "test", std::nullopt, {}});
  HttpReply third = ask(question);
  for (int i = 0; i < 100 && Json::parse(third.body)["model"]["version"] != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    third = ask(question);
  }
  EXPECT_EQ(Json::parse(third.body)["model"]["version"], 1);
}

TEST_F(RagServerTest, AnOpenAiCompatibleServerCanGenerateInstead) {
  run_pipeline(1);
  std::mutex mutex;
  std::string seen_prompt;
  HttpServer llm([&](const HttpRequest& request) {
    if (request.path != "/v1/chat/completions") return HttpResponse::text(404, "no");
    {
      std::lock_guard lock(mutex);
      seen_prompt = Json::parse(request.body)["messages"][0]["content"];
    }
    Json body = {
        {"choices",
         {{{"index", 0},
           {"finish_reason", "stop"},
           {"message", {{"role", "assistant"}, {"content", "Chunk by structure first."}}}}}}};
    return HttpResponse::text(200, body.dump()).header("Content-Type", "application/json");
  });
  llm.start();
  RagOptions options;
  OpenAiChatOptions remote;
  remote.base_url = llm.base_url() + "/v1";
  remote.model = "stub-chat";
  remote.api_key_env = "";
  options.remote = remote;
  start_server(options);
  HttpReply reply = ask({{"query", "how should I chunk documents for retrieval"}, {"k", 2}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  Json answer = Json::parse(reply.body);
  EXPECT_EQ(answer["answer"], "Chunk by structure first.");
  EXPECT_EQ(answer["model"]["generator"], "openai");
  EXPECT_EQ(answer["model"]["name"], "stub-chat");
  {
    std::lock_guard lock(mutex);
    EXPECT_NE(seen_prompt.find("how should I chunk documents for retrieval"), std::string::npos);
    EXPECT_NE(seen_prompt.find(answer["sources"][0]["text"].get<std::string>().substr(0, 40)),
              std::string::npos);
  }
  EXPECT_EQ(store->models().list_prompts(1)[0].generator, "openai");
}

// The default generator quotes the author: every sentence of the answer stands
// verbatim in the source it cites, and it needs no model in production.
TEST_F(RagServerTest, TheExtractiveGeneratorQuotesRetrievedSentencesAndCitesThem) {
  run_pipeline(1);
  start_server(RagOptions{});
  HttpReply reply = ask({{"query", "how should I chunk documents for retrieval"}, {"k", 3}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  Json answer = Json::parse(reply.body);
  EXPECT_EQ(answer["model"]["generator"], "extractive");
  const std::string text = answer["answer"];
  const auto& sources = answer["sources"];
  // "Sentence. [n] Sentence. [m]": split at the citations.
  size_t at = 0, quoted = 0;
  while (at < text.size()) {
    const size_t open = text.find(" [", at);
    ASSERT_NE(open, std::string::npos) << "no citation after: " << text.substr(at);
    const size_t close = text.find(']', open);
    ASSERT_NE(close, std::string::npos) << text;
    const std::string sentence = text.substr(at, open - at);
    const int source = std::stoi(text.substr(open + 2, close - open - 2));
    ASSERT_GE(source, 1);
    ASSERT_LE(source, static_cast<int>(sources.size()));
    EXPECT_NE(sources[source - 1]["text"].get<std::string>().find(sentence), std::string::npos)
        << "[" << source << "] does not contain: " << sentence;
    ++quoted;
    at = close + 1;
    while (at < text.size() && text[at] == ' ') ++at;
  }
  EXPECT_GE(quoted, 1u);
  EXPECT_EQ(store->models().list_prompts(1)[0].generator, "extractive");
  EXPECT_EQ(Json::parse(client_.get(url("/health")).body)["model"]["generator"], "extractive");
}

}  // namespace
}  // namespace twinflow
