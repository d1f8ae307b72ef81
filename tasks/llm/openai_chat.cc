// OpenAiChat on libcurl's multi interface. One complete() is one ChatRun.
//
// A run moves each request through: ready queue -> transfer -> done, or ->
// deferred (waiting to be retried) -> ready again. A waiting request holds no
// transfer, so the `concurrency` slots are only ever held by requests on the
// wire. A request that fails for good gets its reason in its ChatResult and the
// run goes on with the others.
//
// The loop: release due deferred requests, start transfers while slots are
// free, let curl work, harvest finished transfers, then curl_multi_poll until
// a socket is ready or the next deferred request is due. The HTTP pieces
// (transfers, headers, backoff, quoting errors) are in openai_http.h.
#include "tasks/llm/openai_chat.h"

#include <curl/curl.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <queue>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "tasks/llm/openai_http.h"
#include "util/error.h"
#include "util/retry_after.h"

namespace twinflow {

namespace {

using namespace openai_http;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr const char* kClient = "OpenAiChat";
// Upper bound of one curl_multi_poll, so deferred requests are looked at often.
constexpr Millis kMaxPollWait{1000};
// A chat completion beyond this is a broken server, not an answer.
constexpr size_t kMaxResponseBytes = size_t{64} << 20;

void check_options(const OpenAiChatOptions& options) {
  const auto fail = [](const std::string& what) {
    throw Error(std::string(kClient) + ": " + what);
  };
  if (options.base_url.rfind("http://", 0) != 0 && options.base_url.rfind("https://", 0) != 0) {
    fail("base_url must start with http:// or https:// (got '" + options.base_url + "')");
  }
  if (options.model.empty()) fail("model must not be empty");
  if (options.concurrency < 1) fail("concurrency must be at least 1");
  if (options.max_retries < 0) fail("max_retries must not be negative");
  if (options.retry_backoff < Millis(0) || options.max_backoff < Millis(0)) {
    fail("retry_backoff and max_backoff must not be negative");
  }
  if (options.timeout <= Millis(0)) fail("timeout must be positive");
}

std::string request_body(const std::string& model, const ChatRequest& request) {
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

// What outlives one complete(): the options, the key, the request headers and
// the multi handle with its connection cache (so the next call reuses the
// connections, TLS included).
struct ChatState {
  explicit ChatState(OpenAiChatOptions opts)
      : options((check_options(opts), std::move(opts))),
        api_key(read_api_key(kClient, options.api_key_env)),
        url(endpoint_url(options.base_url, "/chat/completions")),
        headers(kClient, api_key),
        multi(make_multi(kClient)) {}

  OpenAiChatOptions options;
  std::string api_key;  // never logged nor put into errors
  std::string url;      // base_url + "/chat/completions"
  RequestHeaders headers;
  MultiHandle multi;
};

class ChatRun {
 public:
  ChatRun(ChatState& state, const std::vector<ChatRequest>& requests)
      : state_(state),
        options_(state.options),
        requests_(requests),
        pending_(requests.size()),
        results_(requests.size()) {
    for (size_t id = 0; id < requests.size(); ++id) {
      if (requests[id].messages.empty()) {
        fail(id, "the request has no messages");
      } else {
        ready_.push_back(id);
      }
    }
  }

  ~ChatRun() {
    for (auto& [easy, transfer] : transfers_) curl_multi_remove_handle(state_.multi.get(), easy);
  }
  ChatRun(const ChatRun&) = delete;
  ChatRun& operator=(const ChatRun&) = delete;

  std::vector<ChatResult> run() {
    while (remaining_ > 0) {
      release_due(Clock::now());
      start_transfers();
      int running = 0;
      const CURLMcode code = curl_multi_perform(state_.multi.get(), &running);
      if (code != CURLM_OK) {
        throw Error(std::string(kClient) +
                    ": curl_multi_perform failed: " + curl_multi_strerror(code));
      }
      harvest(Clock::now());
      if (remaining_ == 0) break;
      wait_for_work(Clock::now());
    }
    return std::move(results_);
  }

 private:
  struct Pending {
    std::string body{};  // built when first sent, freed when done
  };

  // "OpenAiChat: request 3 of 10, POST http://host/v1/chat/completions"
  std::string where(size_t id) const {
    return std::string(kClient) + ": request " + std::to_string(id + 1) + " of " +
           std::to_string(requests_.size()) + ", POST " + state_.url;
  }

  void fail(size_t id, const std::string& problem) {
    ChatResult& result = results_[id];
    result.ok = false;
    result.content.clear();
    result.finish_reason.clear();
    result.error = where(id) + ": " + problem;
    if (result.attempts > 1)
      result.error += " (after " + std::to_string(result.attempts) + " attempts)";
    finish(id);
  }

  void finish(size_t id) {
    std::string().swap(pending_[id].body);
    --remaining_;
  }

  void release_due(Clock::time_point now) {
    while (!deferred_.empty() && deferred_.top().first <= now) {
      ready_.push_back(deferred_.top().second);
      deferred_.pop();
    }
  }

  void start_transfers() {
    while (transfers_.size() < static_cast<size_t>(options_.concurrency) && !ready_.empty()) {
      const size_t id = ready_.front();
      ready_.pop_front();
      Pending& pending = pending_[id];
      if (pending.body.empty()) pending.body = request_body(options_.model, requests_[id]);
      auto transfer = std::make_unique<PostTransfer>(
          id, state_.url, state_.headers.get(), pending.body, options_.timeout, kMaxResponseBytes);
      if (curl_multi_add_handle(state_.multi.get(), transfer->easy()) != CURLM_OK) {
        throw Error(std::string(kClient) + ": curl_multi_add_handle failed");
      }
      ++results_[id].attempts;
      transfers_.emplace(transfer->easy(), std::move(transfer));
    }
  }

  void harvest(Clock::time_point now) {
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(state_.multi.get(), &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      auto node = transfers_.extract(message->easy_handle);
      const CURLcode code = message->data.result;
      curl_multi_remove_handle(state_.multi.get(), node.key());
      on_transfer_done(*node.mapped(), code, now);
    }
  }

  void on_transfer_done(const PostTransfer& transfer, CURLcode code, Clock::time_point now) {
    const size_t id = transfer.id();
    if (transfer.body_too_large()) {
      return fail(id, "response larger than " + std::to_string(kMaxResponseBytes >> 20) + " MB");
    }
    if (code != CURLE_OK) {
      return retry_or_fail(id, excerpt(transfer.transport_error(code), state_.api_key),
                           transport_error_is_transient(code), std::nullopt, now);
    }
    const long status = transfer.status();
    if (status < 200 || status >= 300) {
      const bool transient = status == 429 || status >= 500;
      const std::string problem = "HTTP " + std::to_string(status) + ": " +
                                  excerpt(server_message(transfer.body()), state_.api_key);
      return retry_or_fail(id, problem, transient,
                           transient ? parse_retry_after(transfer.retry_after()) : std::nullopt,
                           now);
    }
    try {
      read_answer(transfer.body(), results_[id]);
    } catch (const Error& e) {
      return fail(id,
                  std::string(e.what()) + "; body: " + excerpt(transfer.body(), state_.api_key));
    }
    finish(id);
  }

  // Defers the request for another attempt, or records why it failed.
  void retry_or_fail(size_t id, const std::string& problem, bool transient,
                     std::optional<Millis> retry_after, Clock::time_point now) {
    const int retries_done = results_[id].attempts - 1;
    if (transient && retries_done < options_.max_retries) {
      const Millis wait =
          retry_wait(retries_done + 1, retry_after, options_.retry_backoff, options_.max_backoff);
      deferred_.emplace(now + wait, id);
      return;
    }
    fail(id, problem);
  }

  void wait_for_work(Clock::time_point now) {
    Millis wait = kMaxPollWait;
    if (!ready_.empty() && transfers_.size() < static_cast<size_t>(options_.concurrency)) {
      wait = Millis(0);
    } else if (!deferred_.empty()) {
      wait = std::min(wait, std::chrono::ceil<Millis>(deferred_.top().first - now));
    }
    if (transfers_.empty() && ready_.empty() && deferred_.empty()) {
      throw Error(std::string(kClient) + ": " + std::to_string(remaining_) +
                  " requests left with nothing to wait for (a bug)");
    }
    const CURLMcode code =
        curl_multi_poll(state_.multi.get(), nullptr, 0,
                        static_cast<int>(std::max<Millis::rep>(0, wait.count())), nullptr);
    if (code != CURLM_OK) {
      throw Error(std::string(kClient) + ": curl_multi_poll failed: " + curl_multi_strerror(code));
    }
  }

  using Deferred = std::pair<Clock::time_point, size_t>;

  ChatState& state_;
  const OpenAiChatOptions& options_;
  const std::vector<ChatRequest>& requests_;
  std::vector<Pending> pending_;
  std::vector<ChatResult> results_;
  size_t remaining_ = requests_.size();  // requests without a final result
  std::deque<size_t> ready_;
  std::priority_queue<Deferred, std::vector<Deferred>, std::greater<>> deferred_;
  std::unordered_map<CURL*, std::unique_ptr<PostTransfer>> transfers_;
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
