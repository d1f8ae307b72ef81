// OpenAiChat: chat completions through an OpenAI-compatible API
// (POST {base_url}/chat/completions), for the dataset generator, the LLM judge
// of the evaluate step and the RAG server when it generates with a remote model.
//
// Many requests go out at once on libcurl's multi interface from the calling
// thread (no threads of its own), `concurrency` in flight. Transient failures
// (429, 5xx, transport errors, a timeout) are retried with exponential backoff
// honouring Retry-After (util/retry_after.h). Unlike the embedder, one failed
// request never fails the others: complete() returns one ChatResult per
// request, each either the assistant's text or the reason it failed for good.
//
// The API key is read from the environment once, at construction, and is never
// logged nor put into an error message (not even when a server echoes it).
//
// Not thread-safe: one thread uses a client at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace twinflow {

struct OpenAiChatOptions {
  // E.g. "http://127.0.0.1:8000/v1"; requests go to base_url + "/chat/completions".
  std::string base_url;
  std::string model;  // sent as "model"
  // Name of the environment variable holding the API key; empty: send no key.
  std::string api_key_env = "OPENAI_API_KEY";
  int concurrency = 4;  // requests in flight at once, at least 1
  // Retries after the first attempt, for 429, 5xx, transport errors and
  // timeouts. Wait before retry n (1-based): retry_backoff * 2^(n-1), at most
  // max_backoff; a Retry-After header replaces it (also capped).
  int max_retries = 3;
  std::chrono::milliseconds retry_backoff{500};
  std::chrono::milliseconds max_backoff{20000};
  std::chrono::milliseconds timeout{120000};  // per attempt, connecting included
};

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  double temperature = 0.7;
  int max_tokens = 1024;  // <= 0: not sent
  // true: sends "response_format": {"type": "json_object"}.
  bool json_mode = false;
};

struct ChatResult {
  bool ok = false;
  std::string content;        // choices[0].message.content, when ok
  std::string finish_reason;  // choices[0].finish_reason ("stop", "length", ...), when ok
  std::string error;          // why it failed for good, when !ok (never holds the key)
  int attempts = 0;           // 1 + retries used
};

class OpenAiChat {
 public:
  // Throws Error for impossible options, or when api_key_env names a variable
  // that is unset or empty.
  explicit OpenAiChat(OpenAiChatOptions options);
  ~OpenAiChat();
  OpenAiChat(OpenAiChat&&) noexcept;
  OpenAiChat& operator=(OpenAiChat&&) noexcept;
  OpenAiChat(const OpenAiChat&) = delete;
  OpenAiChat& operator=(const OpenAiChat&) = delete;

  // Sends every request (up to `concurrency` at once) and returns one result
  // per request, in the order of `requests`. Never throws for a failed request.
  std::vector<ChatResult> complete(const std::vector<ChatRequest>& requests);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace twinflow
