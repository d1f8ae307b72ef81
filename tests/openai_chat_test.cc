// Tests of OpenAiChat against a real HttpServer on 127.0.0.1 that plays an
// OpenAI-compatible chat completions API, well-behaved or not. The fake model
// answers "echo: " + the last message, so a test can tell which answer belongs
// to which request. Timed assertions are generous bounds, not stopwatches.
#include "tasks/llm/openai_chat.h"

#include <stdlib.h>

#include <algorithm>
#include <chrono>
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
constexpr const char* kKeyVariable = "OPENAI_CHAT_TEST_KEY";
constexpr const char* kUnsetVariable = "OPENAI_CHAT_TEST_UNSET";
constexpr const char* kSecret = "sk-test-3b7e91c2";

HttpResponse chat_response(const std::string& content, const std::string& finish = "stop") {
  return json_response(200, {{"id", "chatcmpl-1"},
                             {"object", "chat.completion"},
                             {"choices",
                              {{{"index", 0},
                                {"message", {{"role", "assistant"}, {"content", content}}},
                                {"finish_reason", finish}}}}});
}

// The fake model's answer to a request.
HttpResponse echo_response(const HttpRequest& request) {
  const Json body = Json::parse(request.body);
  return chat_response("echo: " + body.at("messages").back().at("content").get<std::string>());
}

ChatRequest user_request(const std::string& text) {
  ChatRequest request;
  request.messages = {{"user", text}};
  return request;
}

std::vector<ChatRequest> numbered_requests(size_t count) {
  std::vector<ChatRequest> requests;
  for (size_t i = 0; i < count; ++i)
    requests.push_back(user_request("question " + std::to_string(i)));
  return requests;
}

class OpenAiChatTest : public FakeOpenAiServerTest {
 protected:
  OpenAiChatTest()
      : FakeOpenAiServerTest([](const HttpRequest& request, int) { return echo_response(request); },
                             kKeyVariable) {}

  OpenAiChatOptions quick_options() const { return quick<OpenAiChatOptions>("test-chat-mini"); }

  std::string url() const { return server_->base_url() + "/v1/chat/completions"; }
};

TEST_F(OpenAiChatTest, ReturnsTheAnswerAndSendsTheRequest) {
  ChatRequest request;
  request.messages = {{"system", "You are terse."}, {"user", "Say hi"}};
  request.temperature = 0.25;
  request.max_tokens = 77;
  request.json_mode = true;
  const std::vector<ChatResult> results = OpenAiChat(quick_options()).complete({request});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].ok) << results[0].error;
  EXPECT_EQ(results[0].content, "echo: Say hi");
  EXPECT_EQ(results[0].finish_reason, "stop");
  EXPECT_EQ(results[0].attempts, 1);
  EXPECT_EQ(results[0].error, "");

  ASSERT_EQ(seen().size(), 1u);
  const HttpRequest sent = seen().at(0);
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.path, "/v1/chat/completions");
  EXPECT_EQ(sent.header("content-type"), "application/json");
  EXPECT_EQ(sent.header("authorization", "(none)"), "(none)");
  const Json body = Json::parse(sent.body);
  EXPECT_EQ(body.at("model"), "test-chat-mini");
  EXPECT_EQ(body.at("messages"), Json::parse(R"([{"role": "system", "content": "You are terse."},
                            {"role": "user", "content": "Say hi"}])"));
  EXPECT_DOUBLE_EQ(body.at("temperature").get<double>(), 0.25);
  EXPECT_EQ(body.at("max_tokens"), 77);
  EXPECT_EQ(body.at("response_format"), Json::parse(R"({"type": "json_object"})"));
}

TEST_F(OpenAiChatTest, LeavesOutMaxTokensAndJsonModeWhenNotAsked) {
  ChatRequest request = user_request("x");
  request.max_tokens = 0;
  EXPECT_TRUE(OpenAiChat(quick_options()).complete({request}).at(0).ok);
  const Json body = Json::parse(seen().at(0).body);
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_FALSE(body.contains("response_format"));
}

TEST_F(OpenAiChatTest, ReportsTheFinishReasonOfATruncatedAnswer) {
  serve([](const HttpRequest&, int) { return chat_response("[{\"a\": 1}, {\"a\"", "length"); });
  const ChatResult result = OpenAiChat(quick_options()).complete({user_request("x")}).at(0);
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(result.finish_reason, "length");
  EXPECT_EQ(result.content, "[{\"a\": 1}, {\"a\"");
}

TEST_F(OpenAiChatTest, RetriesA429AfterRetryAfter) {
  serve([](const HttpRequest& request, int number) {
    if (number == 1) return HttpResponse::text(429, "slow down").header("Retry-After", "1");
    return echo_response(request);
  });
  OpenAiChatOptions options = quick_options();
  options.max_backoff = 5s;  // the server's 1 s is honoured, not the 1 ms backoff
  const Clock::time_point start = Clock::now();
  const ChatResult result = OpenAiChat(options).complete({user_request("q")}).at(0);
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.content, "echo: q");
  EXPECT_EQ(result.attempts, 2);
  EXPECT_EQ(requests_.load(), 2);
  const std::vector<Clock::time_point> at = arrivals();
  ASSERT_EQ(at.size(), 2u);
  EXPECT_GE(at[1] - at[0], 900ms);
  EXPECT_LT(Clock::now() - start, 30s);
}

TEST_F(OpenAiChatTest, CapsRetryAfterAtMaxBackoff) {
  serve([](const HttpRequest& request, int number) {
    if (number == 1) return HttpResponse::text(429, "tomorrow").header("Retry-After", "86400");
    return echo_response(request);
  });
  const Clock::time_point start = Clock::now();
  EXPECT_TRUE(OpenAiChat(quick_options()).complete({user_request("q")}).at(0).ok);
  EXPECT_LT(Clock::now() - start, 5s);
}

TEST_F(OpenAiChatTest, Retries500sThenSucceeds) {
  serve([](const HttpRequest& request, int number) {
    if (number <= 2) return HttpResponse::text(500, "internal error");
    return echo_response(request);
  });
  const ChatResult result = OpenAiChat(quick_options()).complete({user_request("q")}).at(0);
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.attempts, 3);
}

TEST_F(OpenAiChatTest, GivesUpAfterMaxRetriesWithoutFailingTheOthers) {
  // "doomed" always gets a 503; the others are answered.
  serve([](const HttpRequest& request, int) {
    if (request.body.find("doomed") != std::string::npos) {
      return HttpResponse::text(503, "overloaded");
    }
    return echo_response(request);
  });
  OpenAiChatOptions options = quick_options();
  options.max_retries = 2;
  options.concurrency = 2;
  const std::vector<ChatResult> results =
      OpenAiChat(options).complete({user_request("a"), user_request("doomed"), user_request("c")});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].ok);
  EXPECT_EQ(results[0].content, "echo: a");
  EXPECT_TRUE(results[2].ok);
  EXPECT_EQ(results[2].content, "echo: c");
  EXPECT_FALSE(results[1].ok);
  EXPECT_EQ(results[1].content, "");
  EXPECT_EQ(results[1].attempts, 3);
  EXPECT_NE(results[1].error.find("request 2 of 3"), std::string::npos) << results[1].error;
  EXPECT_NE(results[1].error.find(url()), std::string::npos) << results[1].error;
  EXPECT_NE(results[1].error.find("HTTP 503: overloaded (after 3 attempts)"), std::string::npos)
      << results[1].error;
  EXPECT_EQ(requests_.load(), 5);
}

TEST_F(OpenAiChatTest, DoesNotRetryA400) {
  serve([](const HttpRequest&, int) {
    return json_response(400, {{"error", {{"message", "context length exceeded"}}}});
  });
  const ChatResult result = OpenAiChat(quick_options()).complete({user_request("q")}).at(0);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.attempts, 1);
  EXPECT_EQ(requests_.load(), 1);
  EXPECT_NE(result.error.find("HTTP 400: context length exceeded"), std::string::npos)
      << result.error;
}

TEST_F(OpenAiChatTest, FailsARequestWithAMalformedBody) {
  serve([](const HttpRequest& request, int) {
    if (request.body.find("bad") != std::string::npos) {
      return HttpResponse::text(200, R"({"choices": [{"message": )")
          .header("Content-Type", "application/json");
    }
    return echo_response(request);
  });
  const std::vector<ChatResult> results =
      OpenAiChat(quick_options()).complete({user_request("bad"), user_request("good")});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_FALSE(results[0].ok);
  EXPECT_NE(results[0].error.find("response is not valid JSON"), std::string::npos)
      << results[0].error;
  EXPECT_NE(results[0].error.find("body: {\"choices\""), std::string::npos) << results[0].error;
  EXPECT_TRUE(results[1].ok);
  EXPECT_EQ(results[1].content, "echo: good");
}

TEST_F(OpenAiChatTest, FailsAnAnswerWithoutContent) {
  serve([](const HttpRequest& request, int) {
    if (request.body.find("empty") != std::string::npos)
      return json_response(200, {{"choices", Json::array()}});
    return json_response(200, {{"choices",
                                {{{"message", {{"role", "assistant"}, {"content", nullptr}}},
                                  {"finish_reason", "content_filter"}}}}});
  });
  const std::vector<ChatResult> results =
      OpenAiChat(quick_options()).complete({user_request("empty"), user_request("filtered")});
  EXPECT_NE(results.at(0).error.find("no \"choices\""), std::string::npos) << results[0].error;
  EXPECT_NE(results.at(1).error.find("no text \"content\" (finish_reason content_filter)"),
            std::string::npos)
      << results[1].error;
}

TEST_F(OpenAiChatTest, TimesOutASlowServer) {
  serve([](const HttpRequest& request, int) {
    HttpResponse response = echo_response(request);
    response.delay = 3s;
    return response;
  });
  OpenAiChatOptions options = quick_options();
  options.timeout = 200ms;
  options.max_retries = 1;
  const Clock::time_point start = Clock::now();
  const ChatResult result = OpenAiChat(options).complete({user_request("q")}).at(0);
  EXPECT_LT(Clock::now() - start, 2500ms);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.attempts, 2);  // a timeout is worth a retry
  EXPECT_NE(result.error.find("timed out after 0.2 s (after 2 attempts)"), std::string::npos)
      << result.error;
}

TEST_F(OpenAiChatTest, KeepsRequestOrderWithConcurrency) {
  // Earlier requests are answered later, so answers arrive out of order.
  serve([](const HttpRequest& request, int) {
    HttpResponse response = echo_response(request);
    const std::string text = Json::parse(request.body)["messages"][0]["content"];
    const int number = std::stoi(text.substr(text.find(' ') + 1));
    response.delay = std::chrono::milliseconds(40 * (8 - number));
    return response;
  });
  OpenAiChatOptions options = quick_options();
  options.concurrency = 4;
  const std::vector<ChatResult> results = OpenAiChat(options).complete(numbered_requests(8));
  ASSERT_EQ(results.size(), 8u);
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_TRUE(results[i].ok) << results[i].error;
    EXPECT_EQ(results[i].content, "echo: question " + std::to_string(i));
  }
}

TEST_F(OpenAiChatTest, KeepsConcurrencyRequestsInFlight) {
  serve([](const HttpRequest& request, int) {
    HttpResponse response = echo_response(request);
    response.delay = 1000ms;
    return response;
  });
  OpenAiChatOptions options = quick_options();
  options.concurrency = 2;
  const std::vector<ChatResult> results = OpenAiChat(options).complete(numbered_requests(4));
  for (const ChatResult& result : results) EXPECT_TRUE(result.ok) << result.error;
  std::vector<Clock::time_point> at = arrivals();
  ASSERT_EQ(at.size(), 4u);
  std::sort(at.begin(), at.end());
  // Two went out together; the third only once an answer had come back.
  EXPECT_LT(at[1] - at[0], 900ms);
  EXPECT_GE(at[2] - at[0], 995ms);
}

TEST_F(OpenAiChatTest, SendsTheBearerKeyFromTheEnvironment) {
  ASSERT_EQ(setenv(kKeyVariable, kSecret, 1), 0);
  OpenAiChatOptions options = quick_options();
  options.api_key_env = kKeyVariable;
  OpenAiChat chat(options);
  unsetenv(kKeyVariable);  // read at construction, not per request
  EXPECT_TRUE(chat.complete({user_request("hello")}).at(0).ok);
  ASSERT_EQ(seen().size(), 1u);
  EXPECT_EQ(seen().at(0).header("authorization"), std::string("Bearer ") + kSecret);
}

TEST_F(OpenAiChatTest, NeverPutsTheKeyIntoErrors) {
  ASSERT_EQ(setenv(kKeyVariable, kSecret, 1), 0);
  serve([](const HttpRequest& request, int number) {
    const std::string key = request.header("authorization").substr(7);
    if (number == 1) {
      return json_response(401, {{"error", {{"message", "Incorrect API key provided: " + key}}}});
    }
    // A 200 that is not an answer, echoing the key in its body.
    return HttpResponse::text(200, "not json; your key is " + key);
  });
  OpenAiChatOptions options = quick_options();
  options.api_key_env = kKeyVariable;
  OpenAiChat chat(options);
  const ChatResult unauthorised = chat.complete({user_request("a")}).at(0);
  EXPECT_FALSE(unauthorised.ok);
  EXPECT_NE(unauthorised.error.find("HTTP 401: Incorrect API key provided: [api key]"),
            std::string::npos)
      << unauthorised.error;
  EXPECT_EQ(unauthorised.error.find(kSecret), std::string::npos) << unauthorised.error;
  const ChatResult echoed = chat.complete({user_request("b")}).at(0);
  EXPECT_FALSE(echoed.ok);
  EXPECT_NE(echoed.error.find("your key is [api key]"), std::string::npos) << echoed.error;
  EXPECT_EQ(echoed.error.find(kSecret), std::string::npos) << echoed.error;
}

TEST_F(OpenAiChatTest, ThrowsWhenTheKeyVariableIsUnsetOrEmpty) {
  OpenAiChatOptions options = quick_options();
  options.api_key_env = kUnsetVariable;
  unsetenv(kUnsetVariable);
  EXPECT_NE(error_of([&] { OpenAiChat{options}; }).find(kUnsetVariable), std::string::npos);
  ASSERT_EQ(setenv(kKeyVariable, "", 1), 0);
  options.api_key_env = kKeyVariable;
  EXPECT_NE(error_of([&] { OpenAiChat{options}; }).find("not set or empty"), std::string::npos);
}

TEST_F(OpenAiChatTest, FailsARequestWithoutMessagesWithoutSendingIt) {
  const std::vector<ChatResult> results =
      OpenAiChat(quick_options()).complete({ChatRequest{}, user_request("x")});
  EXPECT_FALSE(results.at(0).ok);
  EXPECT_EQ(results.at(0).attempts, 0);
  EXPECT_NE(results.at(0).error.find("no messages"), std::string::npos);
  EXPECT_TRUE(results.at(1).ok);
  EXPECT_EQ(requests_.load(), 1);
}

TEST_F(OpenAiChatTest, ReportsAnUnreachableServer) {
  OpenAiChatOptions options = quick_options();
  const std::string base = server_->base_url();
  server_->stop();
  options.max_retries = 1;
  const ChatResult result = OpenAiChat(options).complete({user_request("x")}).at(0);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.attempts, 2);
  EXPECT_NE(result.error.find(base), std::string::npos) << result.error;
}

TEST_F(OpenAiChatTest, EmptyInputMakesNoRequestAndAClientIsReusable) {
  OpenAiChat chat(quick_options());
  EXPECT_TRUE(chat.complete({}).empty());
  EXPECT_EQ(requests_.load(), 0);
  EXPECT_EQ(chat.complete({user_request("1")}).at(0).content, "echo: 1");
  EXPECT_EQ(chat.complete({user_request("2")}).at(0).content, "echo: 2");
}

TEST_F(OpenAiChatTest, RejectsImpossibleOptions) {
  const auto rejected = [](const std::function<void(OpenAiChatOptions&)>& change) {
    OpenAiChatOptions options;
    options.base_url = "http://127.0.0.1:1/v1";
    options.model = "m";
    options.api_key_env = "";
    change(options);
    return error_of([&] { OpenAiChat{options}; });
  };
  EXPECT_NE(rejected([](auto& o) { o.base_url = "ftp://host/v1"; }).find("base_url"),
            std::string::npos);
  EXPECT_NE(rejected([](auto& o) { o.model = ""; }).find("model"), std::string::npos);
  EXPECT_NE(rejected([](auto& o) { o.concurrency = 0; }).find("concurrency"), std::string::npos);
  EXPECT_NE(rejected([](auto& o) { o.max_retries = -1; }).find("max_retries"), std::string::npos);
  EXPECT_NE(rejected([](auto& o) { o.timeout = 0ms; }).find("timeout"), std::string::npos);
}

}  // namespace
}  // namespace twinflow
