// The fixture of the tests of twinflow's OpenAI-compatible clients
// (openai_chat_test.cc, openai_embedder_test.cc): a real HttpServer on
// 127.0.0.1 that records every request with its arrival time and answers it
// with a handler the test may swap. The API key variable named at construction
// is unset after each test.
#pragma once

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/http_server.h"
#include "util/error.h"

namespace twinflow::test {

inline HttpResponse json_response(int status, const nlohmann::json& body) {
  return HttpResponse::text(status, body.dump()).header("Content-Type", "application/json");
}

// The message of the Error `run` throws; a test failure when it throws none.
inline std::string error_of(const std::function<void()>& run) {
  try {
    run();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no Error thrown";
  return {};
}

class FakeOpenAiServerTest : public testing::Test {
 protected:
  using Clock = std::chrono::steady_clock;
  // Like HttpHandler, plus the 1-based number of the request.
  using Handler = std::function<HttpResponse(const HttpRequest&, int number)>;

  // `handler` answers until a test calls serve().
  FakeOpenAiServerTest(Handler handler, const char* key_variable)
      : key_variable_(key_variable), handler_(std::move(handler)) {}

  void SetUp() override {
    server_ = std::make_unique<HttpServer>([this](const HttpRequest& request) {
      const int number = ++requests_;
      Handler handler;
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(request);
        arrivals_.push_back(Clock::now());
        handler = handler_;
      }
      return handler(request, number);
    });
    server_->start();
  }

  void TearDown() override { unsetenv(key_variable_); }

  // A client's options for this server: quick retries, no key; each test turns
  // on what it checks.
  template <typename Options>
  Options quick(const std::string& model) const {
    using namespace std::chrono_literals;
    Options options;
    options.base_url = server_->base_url() + "/v1";
    options.model = model;
    options.api_key_env = "";
    options.retry_backoff = 1ms;
    options.max_backoff = 10ms;
    options.timeout = 10s;
    return options;
  }

  void serve(Handler handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
  }

  std::vector<HttpRequest> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

  std::vector<Clock::time_point> arrivals() {
    std::lock_guard lock(mutex_);
    return arrivals_;
  }

  const char* key_variable_;
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  Handler handler_;
  std::vector<HttpRequest> seen_;
  std::vector<Clock::time_point> arrivals_;
  // Last, so that it is destroyed (its threads joined) before what its handler
  // uses.
  std::unique_ptr<HttpServer> server_;
};

}  // namespace twinflow::test
