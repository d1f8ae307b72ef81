// Tests of OpenAiEmbedder against a real HttpServer on 127.0.0.1 that plays an
// OpenAI-compatible embeddings API, well-behaved or not. The fake model embeds
// a text as a vector derived from its hash, so a test can tell which vector
// belongs to which text. Timed assertions are generous bounds, not stopwatches.
#include "tasks/embed/openai_embedder.h"

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/http_server.h"
#include "tests/support/fake_openai_server.h"
#include "util/error.h"

namespace twinflow {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using test::error_of;
using test::FakeOpenAiServerTest;
using test::json_response;

// Variables of this test's own, so that no real OPENAI_API_KEY is touched.
constexpr const char* kKeyVariable = "TWINFLOW_OPENAI_EMBEDDER_TEST_KEY";
constexpr const char* kUnsetVariable = "TWINFLOW_OPENAI_EMBEDDER_TEST_UNSET";
constexpr const char* kSecret = "sk-test-6f1d0c9a";

// The fake model: no component is zero, and different texts differ.
std::vector<double> fake_embedding(const std::string& text, int dimension) {
  const size_t hash = std::hash<std::string>{}(text);
  std::vector<double> vector(dimension);
  for (int j = 0; j < dimension; ++j) {
    vector[j] = static_cast<double>((hash >> (j * 7 % 59)) % 17) - 8.5;
  }
  return vector;
}

// A well-behaved server's answer, with data[] in reverse order: the API does
// not promise that it follows the input.
HttpResponse embeddings_response(const HttpRequest& request, int dimension = 4) {
  const Json body = Json::parse(request.body);
  const Json& input = body.at("input");
  Json data = Json::array();
  for (size_t i = input.size(); i-- > 0;) {
    data.push_back({{"object", "embedding"},
                    {"index", i},
                    {"embedding", fake_embedding(input[i].get<std::string>(), dimension)}});
  }
  return json_response(200, {{"object", "list"}, {"data", data}, {"model", body.at("model")}});
}

std::vector<std::string> numbered_texts(size_t count) {
  std::vector<std::string> texts;
  for (size_t i = 0; i < count; ++i) texts.push_back("chunk number " + std::to_string(i));
  return texts;
}

std::vector<std::string_view> views(const std::vector<std::string>& texts) {
  return {texts.begin(), texts.end()};
}

// Each row is the unit-length fake embedding of its text.
void expect_embeddings(const std::vector<float>& out, const std::vector<std::string>& texts,
                       int dimension) {
  ASSERT_EQ(out.size(), texts.size() * dimension);
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<double> want = fake_embedding(texts[i], dimension);
    double want_norm = 0, row_norm = 0;
    for (double value : want) want_norm += value * value;
    want_norm = std::sqrt(want_norm);
    for (int j = 0; j < dimension; ++j) {
      const float value = out[i * dimension + j];
      EXPECT_NEAR(value, want[j] / want_norm, 1e-6) << "text " << i << ", component " << j;
      row_norm += static_cast<double>(value) * value;
    }
    EXPECT_NEAR(std::sqrt(row_norm), 1.0, 1e-6) << "text " << i;
  }
}

class OpenAiEmbedderTest : public FakeOpenAiServerTest {
 protected:
  OpenAiEmbedderTest()
      : FakeOpenAiServerTest(
            [](const HttpRequest& request, int) { return embeddings_response(request); },
            kKeyVariable) {}

  OpenAiEmbedderOptions quick_options() const {
    return quick<OpenAiEmbedderOptions>("test-embed-small");
  }

  std::string url() const { return server_->base_url() + "/v1/embeddings"; }
};

TEST_F(OpenAiEmbedderTest, ReturnsUnitVectorsInTextOrder) {
  const std::vector<std::string> texts = numbered_texts(5);
  OpenAiEmbedder embedder(quick_options());
  EXPECT_EQ(embedder.dimension(), 0);
  expect_embeddings(embedder.embed(views(texts)), texts, 4);
  EXPECT_EQ(embedder.dimension(), 4);

  ASSERT_EQ(seen().size(), 1u);
  const HttpRequest request = seen().at(0);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.path, "/v1/embeddings");
  EXPECT_EQ(request.header("content-type"), "application/json");
  EXPECT_EQ(request.header("authorization", "(none)"), "(none)");
  const Json body = Json::parse(request.body);
  EXPECT_EQ(body.at("model"), "test-embed-small");
  EXPECT_EQ(body.at("input").get<std::vector<std::string>>(), texts);
  EXPECT_FALSE(body.contains("dimensions"));
}

TEST_F(OpenAiEmbedderTest, SplitsTextsIntoBatches) {
  OpenAiEmbedderOptions options = quick_options();
  options.batch_size = 3;
  const std::vector<std::string> texts = numbered_texts(10);
  expect_embeddings(OpenAiEmbedder(options).embed(views(texts)), texts, 4);
  EXPECT_EQ(requests_.load(), 4);
  std::vector<size_t> sizes;
  for (const HttpRequest& request : seen())
    sizes.push_back(Json::parse(request.body)["input"].size());
  std::sort(sizes.begin(), sizes.end());
  EXPECT_EQ(sizes, (std::vector<size_t>{1, 3, 3, 3}));
}

TEST_F(OpenAiEmbedderTest, KeepsConcurrencyRequestsInFlight) {
  serve([](const HttpRequest& request, int) {
    HttpResponse response = embeddings_response(request);
    // Long enough that "together" and "after an answer" stay apart on a
    // loaded machine.
    response.delay = 1000ms;
    return response;
  });
  OpenAiEmbedderOptions options = quick_options();
  options.batch_size = 1;
  options.concurrency = 2;
  const std::vector<std::string> texts = numbered_texts(4);
  expect_embeddings(OpenAiEmbedder(options).embed(views(texts)), texts, 4);
  std::vector<Clock::time_point> at = arrivals();
  ASSERT_EQ(at.size(), 4u);
  std::sort(at.begin(), at.end());
  // Two went out together; the third only once an answer had come back.
  EXPECT_LT(at[1] - at[0], 900ms);
  EXPECT_GE(at[2] - at[0], 995ms);
}

TEST_F(OpenAiEmbedderTest, SendsTheBearerKeyFromTheEnvironment) {
  ASSERT_EQ(setenv(kKeyVariable, kSecret, 1), 0);
  OpenAiEmbedderOptions options = quick_options();
  options.api_key_env = kKeyVariable;
  OpenAiEmbedder embedder(options);
  unsetenv(kKeyVariable);  // read at construction, not per request
  embedder.embed({"hello"});
  ASSERT_EQ(seen().size(), 1u);
  EXPECT_EQ(seen().at(0).header("authorization"), std::string("Bearer ") + kSecret);
}

TEST_F(OpenAiEmbedderTest, ThrowsWhenTheKeyVariableIsUnsetOrEmpty) {
  OpenAiEmbedderOptions options = quick_options();
  options.api_key_env = kUnsetVariable;
  unsetenv(kUnsetVariable);
  EXPECT_NE(error_of([&] { OpenAiEmbedder{options}; }).find(kUnsetVariable), std::string::npos);
  ASSERT_EQ(setenv(kKeyVariable, "", 1), 0);
  options.api_key_env = kKeyVariable;
  EXPECT_NE(error_of([&] { OpenAiEmbedder{options}; }).find("not set or empty"), std::string::npos);
}

TEST_F(OpenAiEmbedderTest, NeverPutsTheKeyIntoErrors) {
  ASSERT_EQ(setenv(kKeyVariable, kSecret, 1), 0);
  serve([](const HttpRequest& request, int) {
    const std::string key = request.header("authorization").substr(7);
    return json_response(401, {{"error", {{"message", "Incorrect API key provided: " + key}}}});
  });
  OpenAiEmbedderOptions options = quick_options();
  options.api_key_env = kKeyVariable;
  const std::string error = error_of([&] { OpenAiEmbedder(options).embed({"a"}); });
  EXPECT_NE(error.find("HTTP 401"), std::string::npos) << error;
  EXPECT_NE(error.find("Incorrect API key provided: [api key]"), std::string::npos) << error;
  EXPECT_EQ(error.find(kSecret), std::string::npos) << error;
}

TEST_F(OpenAiEmbedderTest, RetriesA429AfterRetryAfter) {
  serve([](const HttpRequest& request, int number) {
    if (number == 1) return HttpResponse::text(429, "slow down").header("Retry-After", "0");
    return embeddings_response(request);
  });
  const std::vector<std::string> texts = numbered_texts(2);
  expect_embeddings(OpenAiEmbedder(quick_options()).embed(views(texts)), texts, 4);
  EXPECT_EQ(requests_.load(), 2);
}

TEST_F(OpenAiEmbedderTest, CapsRetryAfterAtMaxBackoff) {
  serve([](const HttpRequest& request, int number) {
    if (number == 1)
      return HttpResponse::text(429, "come back tomorrow").header("Retry-After", "86400");
    return embeddings_response(request);
  });
  const Clock::time_point start = Clock::now();
  EXPECT_EQ(OpenAiEmbedder(quick_options()).embed({"a"}).size(), 4u);
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_EQ(requests_.load(), 2);
}

TEST_F(OpenAiEmbedderTest, Retries500sThenSucceeds) {
  serve([](const HttpRequest& request, int number) {
    if (number <= 2) return HttpResponse::text(500, "internal error");
    return embeddings_response(request);
  });
  const std::vector<std::string> texts = numbered_texts(3);
  expect_embeddings(OpenAiEmbedder(quick_options()).embed(views(texts)), texts, 4);
  EXPECT_EQ(requests_.load(), 3);
}

TEST_F(OpenAiEmbedderTest, GivesUpAfterMaxRetries) {
  serve([](const HttpRequest&, int) { return HttpResponse::text(503, "overloaded"); });
  OpenAiEmbedderOptions options = quick_options();
  options.max_retries = 2;
  const std::string error = error_of([&] { OpenAiEmbedder(options).embed({"a", "b"}); });
  EXPECT_NE(error.find("HTTP 503: overloaded (after 3 attempts)"), std::string::npos) << error;
  EXPECT_EQ(requests_.load(), 3);
}

TEST_F(OpenAiEmbedderTest, DoesNotRetryA400) {
  serve([](const HttpRequest&, int) {
    return json_response(400, {{"error", {{"message", "input is too long"}}}});
  });
  const std::string error = error_of([&] { OpenAiEmbedder(quick_options()).embed({"a", "b"}); });
  EXPECT_EQ(requests_.load(), 1);
  EXPECT_NE(error.find("texts 0..1"), std::string::npos) << error;
  EXPECT_NE(error.find(url()), std::string::npos) << error;
  EXPECT_NE(error.find("HTTP 400: input is too long"), std::string::npos) << error;
}

TEST_F(OpenAiEmbedderTest, TimesOutASilentServer) {
  serve([](const HttpRequest& request, int) {
    HttpResponse response = embeddings_response(request);
    response.delay = 2s;
    return response;
  });
  OpenAiEmbedderOptions options = quick_options();
  options.timeout = 100ms;
  options.max_retries = 0;
  const std::string error = error_of([&] { OpenAiEmbedder(options).embed({"a"}); });
  EXPECT_NE(error.find("timed out after 0.1 s"), std::string::npos) << error;
}

// A response body for the texts "a", "b", and what the error must say about it.
struct BadResponse {
  std::string name;
  std::string body;
  std::string complaint;
};

class BadResponseTest : public OpenAiEmbedderTest,
                        public testing::WithParamInterface<BadResponse> {};

TEST_P(BadResponseTest, ThrowsNamingTheBatchAndTheProblem) {
  const std::string body = GetParam().body;
  serve([body](const HttpRequest&, int) {
    return HttpResponse::text(200, body).header("Content-Type", "application/json");
  });
  OpenAiEmbedderOptions options = quick_options();
  options.batch_size = 2;
  const std::string error = error_of([&] { OpenAiEmbedder(options).embed({"x", "y", "a", "b"}); });
  EXPECT_NE(error.find(GetParam().complaint), std::string::npos) << error;
  EXPECT_NE(error.find(url()), std::string::npos) << error;
  EXPECT_TRUE(error.find("texts 0..1") != std::string::npos ||
              error.find("texts 2..3") != std::string::npos)
      << error;
}

INSTANTIATE_TEST_SUITE_P(
    Responses, BadResponseTest,
    testing::Values(
        BadResponse{"MalformedJson", R"({"data": [)", "response is not valid JSON"},
        BadResponse{"NoData", R"({"error": null})", "no \"data\" array"},
        BadResponse{"WrongDataLength", R"({"data": [{"index": 0, "embedding": [1, 0]}]})",
                    "\"data\" has 1 entries for 2 texts"},
        BadResponse{"InconsistentDimension",
                    R"({"data": [{"index": 0, "embedding": [1, 0]},
                                 {"index": 1, "embedding": [1, 0, 2]}]})",
                    "has 3 numbers, expected 2"},
        BadResponse{"DuplicateIndex",
                    R"({"data": [{"index": 1, "embedding": [1, 0]},
                                 {"index": 1, "embedding": [0, 1]}]})",
                    "data[1] repeats index 1"},
        BadResponse{"IndexOutOfRange",
                    R"({"data": [{"index": 0, "embedding": [1, 0]},
                                 {"index": 2, "embedding": [0, 1]}]})",
                    "index 2, outside 0..1"},
        BadResponse{"MissingIndex",
                    R"({"data": [{"embedding": [1, 0]}, {"index": 1, "embedding": [0, 1]}]})",
                    "data[0] has no integer \"index\""},
        BadResponse{"NotNumbers",
                    R"({"data": [{"index": 0, "embedding": [1, "0.5"]},
                                 {"index": 1, "embedding": [0, 1]}]})",
                    "holds a non-number (string)"},
        BadResponse{"Base64Embedding",
                    R"({"data": [{"index": 0, "embedding": "AACAPw=="},
                                 {"index": 1, "embedding": [0, 1]}]})",
                    "is not an array of numbers"},
        BadResponse{"ZeroVector",
                    R"({"data": [{"index": 0, "embedding": [1, 0]},
                                 {"index": 1, "embedding": [0, 0]}]})",
                    "is all zeros"}),
    [](const testing::TestParamInfo<BadResponse>& info) { return info.param.name; });

TEST_F(OpenAiEmbedderTest, SendsDimensionsAndHoldsTheServerToThem) {
  serve([](const HttpRequest& request, int) {
    return embeddings_response(request, Json::parse(request.body).value("dimensions", 4));
  });
  OpenAiEmbedderOptions options = quick_options();
  options.dimensions = 8;
  OpenAiEmbedder embedder(options);
  EXPECT_EQ(embedder.dimension(), 8);
  const std::vector<std::string> texts = numbered_texts(2);
  expect_embeddings(embedder.embed(views(texts)), texts, 8);
  EXPECT_EQ(Json::parse(seen().at(0).body).at("dimensions"), 8);

  // A server that ignores the option.
  serve([](const HttpRequest& request, int) { return embeddings_response(request, 4); });
  const std::string error = error_of([&] { embedder.embed({"a"}); });
  EXPECT_NE(error.find("has 4 numbers, expected 8 (the dimensions option)"), std::string::npos)
      << error;
}

TEST_F(OpenAiEmbedderTest, HoldsLaterCallsToTheFirstDimension) {
  OpenAiEmbedder embedder(quick_options());
  embedder.embed({"a"});
  ASSERT_EQ(embedder.dimension(), 4);
  serve([](const HttpRequest& request, int) { return embeddings_response(request, 6); });
  const std::string error = error_of([&] { embedder.embed({"b"}); });
  EXPECT_NE(error.find("has 6 numbers, expected 4"), std::string::npos) << error;
  EXPECT_EQ(embedder.dimension(), 4);
}

TEST_F(OpenAiEmbedderTest, EmptyInputMakesNoRequest) {
  OpenAiEmbedder embedder(quick_options());
  EXPECT_TRUE(embedder.embed({}).empty());
  EXPECT_EQ(requests_.load(), 0);
  EXPECT_EQ(embedder.dimension(), 0);
}

TEST_F(OpenAiEmbedderTest, SendsInvalidUtf8AsReplacementCharacters) {
  const std::vector<std::string_view> texts = {"caf\xE9 au lait"};
  EXPECT_EQ(OpenAiEmbedder(quick_options()).embed(texts).size(), 4u);
  ASSERT_EQ(seen().size(), 1u);
  EXPECT_EQ(Json::parse(seen().at(0).body).at("input").at(0), "caf\xEF\xBF\xBD au lait");
}

TEST_F(OpenAiEmbedderTest, RejectsImpossibleOptions) {
  const auto rejected = [](const std::function<void(OpenAiEmbedderOptions&)>& change) {
    OpenAiEmbedderOptions options;
    options.base_url = "http://127.0.0.1:1/v1";
    options.model = "m";
    options.api_key_env = "";
    change(options);
    return error_of([&] { OpenAiEmbedder{options}; });
  };
  EXPECT_NE(rejected([](auto& o) { o.base_url = "ftp://host/v1"; }).find("base_url"),
            std::string::npos);
  EXPECT_NE(rejected([](auto& o) { o.model = ""; }).find("model"), std::string::npos);
  EXPECT_NE(rejected([](auto& o) { o.batch_size = 0; }).find("batch_size"), std::string::npos);
  EXPECT_NE(rejected([](auto& o) { o.concurrency = 0; }).find("concurrency"), std::string::npos);
  EXPECT_NE(rejected([](auto& o) { o.dimensions = -1; }).find("dimensions"), std::string::npos);
  EXPECT_NE(rejected([](auto& o) { o.max_retries = -1; }).find("max_retries"), std::string::npos);
  EXPECT_NE(rejected([](auto& o) { o.timeout = 0ms; }).find("timeout"), std::string::npos);
}

TEST_F(OpenAiEmbedderTest, AcceptsABaseUrlWithATrailingSlash) {
  OpenAiEmbedderOptions options = quick_options();
  options.base_url += "/";
  EXPECT_EQ(OpenAiEmbedder(options).embed({"a"}).size(), 4u);
  EXPECT_EQ(seen().at(0).path, "/v1/embeddings");
}

}  // namespace
}  // namespace twinflow
