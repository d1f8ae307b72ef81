// OpenAiChat on openai_http's send_posts(). One complete() is one ChatRun: it
// builds the request bodies and reads the answers; sending, retrying and
// quoting errors are openai_http's. A request that fails for good gets its
// reason in its ChatResult and the run goes on with the others.
#include "tasks/llm/openai_chat.h"

#include <utility>

#include <nlohmann/json.hpp>

#include "tasks/llm/openai_http.h"
#include "util/error.h"

namespace twinflow {

namespace {

using namespace openai_http;
using Json = nlohmann::json;

constexpr const char* kClient = "OpenAiChat";
// A chat completion beyond this is a broken server, not an answer.
constexpr size_t kMaxChatResponseBytes = size_t{64} << 20;

void check_options(const OpenAiChatOptions& options) {
  check_base_url(kClient, options.base_url);
  if (options.model.empty()) throw Error(std::string(kClient) + ": model must not be empty");
}

std::string chat_body(const std::string& model, const ChatRequest& request) {
  Json messages = Json::array();
  for (const ChatMessage& message : request.messages) {
    messages.push_back({{"role", message.role}, {"content", message.content}});
  }
  Json body = {
      {"model", model}, {"messages", std::move(messages)}, {"temperature", request.temperature}};
  if (request.max_tokens > 0) body["max_tokens"] = request.max_tokens;
  if (request.json_mode) body["response_format"] = {{"type", "json_object"}};
  // Replace, not throw: one extract with a stray Latin-1 byte must not fail a
  // run.
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The answer in a 2xx body: choices[0].message.content and finish_reason.
// Throws Error saying what is wrong with the body.
void read_answer(const std::string& body, ChatResult& result) {
  const Json response = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (response.is_discarded()) throw Error("response is not valid JSON");
  if (!response.is_object() || !response.contains("choices") || !response["choices"].is_array() ||
      response["choices"].empty()) {
    throw Error("response has no \"choices\"");
  }
  const Json& choice = response["choices"][0];
  if (!choice.is_object()) throw Error("choices[0] is not an object");
  std::string finish_reason;
  if (const auto it = choice.find("finish_reason"); it != choice.end() && it->is_string()) {
    finish_reason = it->get<std::string>();
  }
  const auto message = choice.find("message");
  if (message == choice.end() || !message->is_object() || !message->contains("content") ||
      !(*message)["content"].is_string()) {
    throw Error("choices[0].message has no text \"content\"" +
                (finish_reason.empty() ? "" : " (finish_reason " + finish_reason + ")"));
  }
  result.content = (*message)["content"].get<std::string>();
  result.finish_reason = std::move(finish_reason);
  result.ok = true;
}

// What outlives one complete(): the options, the policy drawn from them and
// the endpoint (key, headers, connection cache).
struct ChatState {
  explicit ChatState(OpenAiChatOptions opts)
      : options((check_options(opts), std::move(opts))),
        policy(checked_policy(kClient, options, kMaxChatResponseBytes)),
        endpoint(kClient, options.base_url, "/chat/completions", options.api_key_env) {}

  OpenAiChatOptions options;
  PostPolicy policy;
  Endpoint endpoint;
};

// One complete(): a result per request, filled by send_posts().
class ChatRun final : public PostHandler {
 public:
  ChatRun(ChatState& state, const std::vector<ChatRequest>& requests)
      : state_(state), requests_(requests), results_(requests.size()) {}

  std::vector<ChatResult> run() {
    std::vector<size_t> ids;
    for (size_t id = 0; id < requests_.size(); ++id) {
      if (requests_[id].messages.empty()) {
        fail(id, "the request has no messages");
      } else {
        ids.push_back(id);
      }
    }
    send_posts(state_.endpoint, state_.policy, ids, *this);
    return std::move(results_);
  }

 private:
  std::string request_body(size_t id) override {
    return chat_body(state_.options.model, requests_[id]);
  }

  void succeeded(size_t id, const std::string& body, int attempts) override {
    results_[id].attempts = attempts;
    try {
      read_answer(body, results_[id]);
    } catch (const Error& e) {
      fail(id, std::string(e.what()) + "; body: " + excerpt(body, state_.endpoint.api_key) +
                   after_attempts(attempts));
    }
  }

  void failed(size_t id, const std::string& problem, int attempts) override {
    results_[id].attempts = attempts;
    fail(id, problem);
  }

  // "OpenAiChat: request 3 of 10, POST http://host/v1/chat/completions"
  std::string where(size_t id) const {
    return std::string(kClient) + ": request " + std::to_string(id + 1) + " of " +
           std::to_string(requests_.size()) + ", POST " + state_.endpoint.url;
  }

  void fail(size_t id, const std::string& problem) {
    ChatResult& result = results_[id];
    result.ok = false;
    result.content.clear();
    result.finish_reason.clear();
    result.error = where(id) + ": " + problem;
  }

  ChatState& state_;
  const std::vector<ChatRequest>& requests_;
  std::vector<ChatResult> results_;
};

}  // namespace

struct OpenAiChat::Impl {
  explicit Impl(OpenAiChatOptions options) : state(std::move(options)) {}
  ChatState state;
};

OpenAiChat::OpenAiChat(OpenAiChatOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

OpenAiChat::~OpenAiChat() = default;
OpenAiChat::OpenAiChat(OpenAiChat&&) noexcept = default;
OpenAiChat& OpenAiChat::operator=(OpenAiChat&&) noexcept = default;

std::vector<ChatResult> OpenAiChat::complete(const std::vector<ChatRequest>& requests) {
  if (requests.empty()) return {};
  return ChatRun(impl_->state, requests).run();
}

}  // namespace twinflow
