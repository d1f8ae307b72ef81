// The HTTP side shared by twinflow's clients of OpenAI-compatible APIs
// (OpenAiChat, tasks/llm/; OpenAiEmbedder, tasks/embed/): reading the API key,
// one POST attempt on a curl easy handle (body, status, Retry-After), which
// failures are worth a retry and how long to wait, quoting a server's error
// without the key, and send_posts(), the loop that sends a client's requests
// concurrently with retries. A client keeps only what is its own: building a
// request body, reading a 2xx response, and what a failure means to it.
#pragma once

#include <curl/curl.h>
#include "util/duration.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twinflow::openai_http {

// The API key from the environment variable `variable`; empty when `variable`
// is empty (servers that need no key). Throws Error, naming `client` and the
// variable (never a value), when it is unset, empty or holds control
// characters.
std::string read_api_key(const std::string& client, const std::string& variable);

// base_url without trailing slashes + path: ("http://h/v1/",
// "/chat/completions").
std::string endpoint_url(std::string base_url, std::string_view path);

// A body quoted in an error: the key replaced by "[api key]" (a careless server
// may echo it, say in a 401), one line, at most 200 characters.
std::string excerpt(std::string text, const std::string& secret);

// The human part of an error body: OpenAI's {"error": {"message": ...}}, the
// {"error": "..."} or {"detail": "..."} of other servers, else the body.
std::string server_message(const std::string& body);

// Whether retrying a failed transfer could help: not for a URL or a
// certificate that is wrong, nor for a response we refused to buffer.
bool transport_error_is_transient(CURLcode code);

// The wait before retry n (1-based): backoff * 2^(n-1), or what the server
// asked for in Retry-After; at most `cap` either way.
Millis retry_wait(int retry, std::optional<Millis> retry_after, Millis backoff, Millis cap);

// The request headers of a JSON POST, with "Authorization: Bearer KEY" when the
// key is not empty. Throws Error naming `client` when out of memory.
class RequestHeaders {
 public:
  RequestHeaders(const std::string& client, const std::string& api_key);
  curl_slist* get() const { return list_.get(); }

 private:
  struct Free {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
  };
  void append(const std::string& client, const std::string& header);
  std::unique_ptr<curl_slist, Free> list_;
};

// A curl multi handle; its connection cache outlives one batch of requests.
struct MultiFree {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
using MultiHandle = std::unique_ptr<CURLM, MultiFree>;
// curl_global_init then curl_multi_init; throws Error naming `client`.
MultiHandle make_multi(const std::string& client);

// One attempt at one POST: a curl easy handle and what it received. `id` is
// the caller's name for the request. Neither `body` nor `headers` is copied:
// both must outlive the transfer.
class PostTransfer {
 public:
  PostTransfer(size_t id, const std::string& url, curl_slist* headers, const std::string& body,
               Millis timeout, size_t max_response_bytes);
  ~PostTransfer();
  PostTransfer(const PostTransfer&) = delete;
  PostTransfer& operator=(const PostTransfer&) = delete;

  CURL* easy() const { return easy_; }
  size_t id() const { return id_; }
  bool body_too_large() const { return body_too_large_; }
  const std::string& body() const { return body_; }
  const std::string& retry_after() const { return retry_after_; }
  long status() const;
  // What went wrong on the wire, e.g. "timed out after 60 s".
  std::string transport_error(CURLcode code) const;

 private:
  static size_t on_body(char* data, size_t, size_t size, void* user);
  static size_t on_header(char* data, size_t, size_t size, void* user);

  CURL* easy_;
  size_t id_;
  Millis timeout_;
  size_t max_response_bytes_;
  std::string body_;
  std::string retry_after_;
  bool body_too_large_ = false;
  char error_[CURL_ERROR_SIZE] = {};
};

// The settings of send_posts() that the clients' options share.
struct PostPolicy {
  int concurrency = 1;  // requests in flight at once, at least 1
  // Retries after a request's first attempt, for 429, 5xx and transient
  // transport errors (a timeout included); waits as retry_wait().
  int max_retries = 0;
  Millis retry_backoff{0};
  Millis max_backoff{0};
  Millis timeout{0};  // per attempt, connecting included
  size_t max_response_bytes = 0;
};

// Throw Error "<client>: <what is wrong>": base_url must start with http:// or
// https://; the policy's numbers must be possible (as in the clients' options).
void check_base_url(const std::string& client, const std::string& base_url);
void check_policy(const std::string& client, const PostPolicy& policy);

// The policy in a client's options (a struct with the fields concurrency,
// max_retries, retry_backoff, max_backoff and timeout), checked by
// check_policy().
template <typename Options>
PostPolicy checked_policy(const std::string& client, const Options& options,
                          size_t max_response_bytes) {
  PostPolicy policy;
  policy.concurrency = options.concurrency;
  policy.max_retries = options.max_retries;
  policy.retry_backoff = options.retry_backoff;
  policy.max_backoff = options.max_backoff;
  policy.timeout = options.timeout;
  policy.max_response_bytes = max_response_bytes;
  check_policy(client, policy);
  return policy;
}

// " (after 3 attempts)" when attempts > 1, else "".
std::string after_attempts(int attempts);

// What outlives one batch of a client's requests: the key (never logged nor put
// into errors), the URL base_url + path, the request headers and the multi
// handle with its connection cache (so the next batch reuses the connections,
// TLS included). Throws Error naming `client` as read_api_key() and
// make_multi() do.
struct Endpoint {
  Endpoint(std::string client, const std::string& base_url, std::string_view path,
           const std::string& api_key_env);

  std::string client;  // "OpenAiChat", for messages
  std::string api_key;
  std::string url;
  RequestHeaders headers;
  MultiHandle multi;
};

// What a client makes of its requests in send_posts(). Each callback may throw
// to end the run (send_posts() then abandons the transfers in flight and lets
// the exception through).
class PostHandler {
 public:
  // The JSON body of request `id`, asked once, before its first attempt; kept
  // until the request is done.
  virtual std::string request_body(size_t id) = 0;
  // A 2xx response to request `id`, after `attempts` attempts.
  virtual void succeeded(size_t id, const std::string& body, int attempts) = 0;
  // Request `id` failed for good: `problem` says why ("HTTP 400: <the
  // server's message>", "timed out after 60 s", ...), without the key, and
  // ends with after_attempts(attempts).
  virtual void failed(size_t id, const std::string& problem, int attempts) = 0;

 protected:
  ~PostHandler() = default;
};

// POSTs the body of each request in `ids` to endpoint.url, policy.concurrency
// at once, from the calling thread, and returns when each one has been handed
// to handler.succeeded() or handler.failed(). Transient failures (429, 5xx,
// transport errors, timeouts) are retried as the policy says, honouring
// Retry-After (util/retry_after.h); a waiting request holds no transfer slot.
// A response over policy.max_response_bytes fails its request. Throws Error
// when curl's multi interface fails, and what a callback throws.
void send_posts(Endpoint& endpoint, const PostPolicy& policy, const std::vector<size_t>& ids,
                PostHandler& handler);

}  // namespace twinflow::openai_http
