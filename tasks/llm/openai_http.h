// The HTTP side shared by twinflow's clients of OpenAI-compatible APIs: reading
// the API key, one POST attempt on a curl easy handle (body, status,
// Retry-After), which failures are worth a retry and how long to wait, and
// quoting a server's error without the key.
//
// OpenAiChat uses it; OpenAiEmbedder (tasks/embed/) still has its own copy of
// the same pieces and can switch over without changing behaviour.
#pragma once

#include <curl/curl.h>
#include "util/duration.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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

// "10 s", "0.5 s".
std::string describe_seconds(Millis duration);

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

}  // namespace twinflow::openai_http
