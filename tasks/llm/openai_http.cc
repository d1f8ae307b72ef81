// See openai_http.h. The pieces take the client's name for messages.
//
// send_posts() is one PostRun. It moves each request through: ready queue ->
// transfer -> done, or -> deferred (waiting to be retried) -> ready again. A
// waiting request holds no transfer, so the `concurrency` slots are only ever
// held by requests on the wire. The loop: release due deferred requests, start
// transfers while slots are free, let curl work, harvest finished transfers,
// then curl_multi_poll until a socket is ready or the next deferred request is
// due.
#include "tasks/llm/openai_http.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <queue>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "tasks/text/utf8.h"
#include "util/error.h"
#include "util/retry_after.h"

namespace twinflow::openai_http {

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

// Characters of a response body quoted in an error message.
constexpr size_t kExcerptChars = 200;
// Upper bound of one curl_multi_poll, so deferred requests are looked at often.
constexpr Millis kMaxApiPollWait{1000};

}  // namespace

std::string read_api_key(const std::string& client, const std::string& variable) {
  if (variable.empty()) return {};
  const char* value = std::getenv(variable.c_str());
  if (!value || !*value) {
    throw Error(client + ": environment variable " + variable +
                " is not set or empty; it must hold the API key (set "
                "api_key_env to \"\" for a "
                "server that needs none)");
  }
  const std::string key(value);
  // A line break would let the key end its header and start another.
  if (std::any_of(key.begin(), key.end(), [](unsigned char c) { return c < 0x20 || c == 0x7F; })) {
    throw Error(client + ": environment variable " + variable +
                " holds control characters, which cannot go into an HTTP header");
  }
  return key;
}

std::string endpoint_url(std::string base_url, std::string_view path) {
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  return base_url.append(path);
}

std::string excerpt(std::string text, const std::string& secret) {
  if (!secret.empty()) {
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "[api key]");
    }
  }
  bool cut = false;
  if (text.size() > kExcerptChars) {
    text.resize(utf8_floor(text, kExcerptChars));
    cut = true;
  }
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (text.empty()) return "(empty body)";
  return cut ? text + "..." : text;
}

std::string server_message(const std::string& body) {
  const Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return body;
  const auto error = json.find("error");
  if (error != json.end()) {
    if (error->is_string()) return error->get<std::string>();
    if (error->is_object() && error->contains("message") && (*error)["message"].is_string()) {
      return (*error)["message"].get<std::string>();
    }
  }
  const auto detail = json.find("detail");
  if (detail != json.end() && detail->is_string()) return detail->get<std::string>();
  return body;
}

bool transport_error_is_transient(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_WRITE_ERROR:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return false;
    default:
      return true;
  }
}

Millis retry_wait(int retry, std::optional<Millis> retry_after, Millis backoff, Millis cap) {
  if (retry_after) return std::min(*retry_after, cap);
  const double millis = static_cast<double>(backoff.count()) * std::pow(2.0, retry - 1);
  return Millis(static_cast<long long>(std::min(millis, static_cast<double>(cap.count()))));
}

RequestHeaders::RequestHeaders(const std::string& client, const std::string& api_key) {
  append(client, "Content-Type: application/json");
  append(client, "Accept: application/json");
  // No "Expect: 100-continue" round trip before large bodies.
  append(client, "Expect:");
  if (!api_key.empty()) append(client, "Authorization: Bearer " + api_key);
}

void RequestHeaders::append(const std::string& client, const std::string& header) {
  curl_slist* appended = curl_slist_append(list_.get(), header.c_str());
  if (!appended) throw Error(client + ": out of memory for request headers");
  list_.release();
  list_.reset(appended);
}

MultiHandle make_multi(const std::string& client) {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    throw Error(client + ": curl_global_init failed");
  }
  MultiHandle multi(curl_multi_init());
  if (!multi) throw Error(client + ": curl_multi_init failed");
  return multi;
}

PostTransfer::PostTransfer(size_t id, const std::string& url, curl_slist* headers,
                           const std::string& body, Millis timeout, size_t max_response_bytes)
    : easy_(curl_easy_init()), id_(id), timeout_(timeout), max_response_bytes_(max_response_bytes) {
  if (!easy_) throw Error("curl_easy_init failed");
  curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy_, CURLOPT_USERAGENT, "twinflow");
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(easy_, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_);
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &PostTransfer::on_body);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &PostTransfer::on_header);
  curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
}

PostTransfer::~PostTransfer() {
  curl_easy_cleanup(easy_);
}

long PostTransfer::status() const {
  long status = 0;
  curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

std::string PostTransfer::transport_error(CURLcode code) const {
  if (code == CURLE_OPERATION_TIMEDOUT) return "timed out after " + describe_seconds(timeout_);
  return error_[0] ? std::string(error_) : std::string(curl_easy_strerror(code));
}

size_t PostTransfer::on_body(char* data, size_t, size_t size, void* user) {
  auto* self = static_cast<PostTransfer*>(user);
  if (self->body_.size() + size > self->max_response_bytes_) {
    self->body_too_large_ = true;
    return 0;  // curl then fails the transfer with a write error
  }
  self->body_.append(data, size);
  return size;
}

size_t PostTransfer::on_header(char* data, size_t, size_t size, void* user) {
  auto* self = static_cast<PostTransfer*>(user);
  std::string_view line(data, size);
  if (line.size() < 12 || line[11] != ':') return size;
  std::string name(line.substr(0, 11));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name != "retry-after") return size;
  line.remove_prefix(12);
  const size_t begin = line.find_first_not_of(" \t");
  const size_t end = line.find_last_not_of(" \t\r\n");
  self->retry_after_ =
      begin == std::string_view::npos ? "" : std::string(line.substr(begin, end + 1 - begin));
  return size;
}

void check_base_url(const std::string& client, const std::string& base_url) {
  if (base_url.rfind("http://", 0) != 0 && base_url.rfind("https://", 0) != 0) {
    throw Error(client + ": base_url must start with http:// or https:// (got '" + base_url + "')");
  }
}

void check_policy(const std::string& client, const PostPolicy& policy) {
  const auto fail = [&](const std::string& what) { throw Error(client + ": " + what); };
  if (policy.concurrency < 1) fail("concurrency must be at least 1");
  if (policy.max_retries < 0) fail("max_retries must not be negative");
  if (policy.retry_backoff < Millis(0) || policy.max_backoff < Millis(0)) {
    fail("retry_backoff and max_backoff must not be negative");
  }
  if (policy.timeout <= Millis(0)) fail("timeout must be positive");
}

std::string after_attempts(int attempts) {
  return attempts > 1 ? " (after " + std::to_string(attempts) + " attempts)" : "";
}

Endpoint::Endpoint(std::string name, const std::string& base_url, std::string_view path,
                   const std::string& api_key_env)
    : client(std::move(name)),
      api_key(read_api_key(client, api_key_env)),
      url(endpoint_url(base_url, path)),
      headers(client, api_key),
      multi(make_multi(client)) {}

namespace {

class PostRun {
 public:
  PostRun(Endpoint& endpoint, const PostPolicy& policy, const std::vector<size_t>& ids,
          PostHandler& handler)
      : endpoint_(endpoint),
        policy_(policy),
        ids_(ids),
        handler_(handler),
        requests_(ids.size()),
        remaining_(ids.size()) {
    for (size_t slot = 0; slot < ids.size(); ++slot) ready_.push_back(slot);
  }

  // Abandons the transfers still in flight (after a callback threw).
  ~PostRun() {
    for (auto& [easy, transfer] : transfers_) curl_multi_remove_handle(endpoint_.multi.get(), easy);
  }
  PostRun(const PostRun&) = delete;
  PostRun& operator=(const PostRun&) = delete;

  void run() {
    while (remaining_ > 0) {
      release_due(Clock::now());
      start_transfers();
      int running = 0;
      const CURLMcode code = curl_multi_perform(endpoint_.multi.get(), &running);
      if (code != CURLM_OK) {
        throw Error(endpoint_.client + ": curl_multi_perform failed: " + curl_multi_strerror(code));
      }
      harvest(Clock::now());
      if (remaining_ == 0) break;
      wait_for_work(Clock::now());
    }
  }

 private:
  // A request by its place in ids_ (its "slot").
  struct Request {
    std::string body{};  // built when first sent, freed when done
    int attempts = 0;
  };

  void finish(size_t slot) {
    std::string().swap(requests_[slot].body);
    --remaining_;
  }

  void fail(size_t slot, const std::string& problem) {
    finish(slot);
    const int attempts = requests_[slot].attempts;
    handler_.failed(ids_[slot], problem + after_attempts(attempts), attempts);
  }

  void release_due(Clock::time_point now) {
    while (!deferred_.empty() && deferred_.top().first <= now) {
      ready_.push_back(deferred_.top().second);
      deferred_.pop();
    }
  }

  void start_transfers() {
    while (transfers_.size() < static_cast<size_t>(policy_.concurrency) && !ready_.empty()) {
      const size_t slot = ready_.front();
      ready_.pop_front();
      Request& request = requests_[slot];
      if (request.attempts == 0) request.body = handler_.request_body(ids_[slot]);
      auto transfer =
          std::make_unique<PostTransfer>(slot, endpoint_.url, endpoint_.headers.get(), request.body,
                                         policy_.timeout, policy_.max_response_bytes);
      if (curl_multi_add_handle(endpoint_.multi.get(), transfer->easy()) != CURLM_OK) {
        throw Error(endpoint_.client + ": curl_multi_add_handle failed");
      }
      ++request.attempts;
      transfers_.emplace(transfer->easy(), std::move(transfer));
    }
  }

  void harvest(Clock::time_point now) {
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(endpoint_.multi.get(), &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      auto node = transfers_.extract(message->easy_handle);
      const CURLcode code = message->data.result;
      curl_multi_remove_handle(endpoint_.multi.get(), node.key());
      on_transfer_done(*node.mapped(), code, now);
    }
  }

  void on_transfer_done(const PostTransfer& transfer, CURLcode code, Clock::time_point now) {
    const size_t slot = transfer.id();
    if (transfer.body_too_large()) {
      return fail(
          slot, "response larger than " + std::to_string(policy_.max_response_bytes >> 20) + " MB");
    }
    if (code != CURLE_OK) {
      return retry_or_fail(slot, excerpt(transfer.transport_error(code), endpoint_.api_key),
                           transport_error_is_transient(code), std::nullopt, now);
    }
    const long status = transfer.status();
    if (status < 200 || status >= 300) {
      const bool transient = status == 429 || status >= 500;
      const std::string problem = "HTTP " + std::to_string(status) + ": " +
                                  excerpt(server_message(transfer.body()), endpoint_.api_key);
      return retry_or_fail(slot, problem, transient,
                           transient ? parse_retry_after(transfer.retry_after()) : std::nullopt,
                           now);
    }
    finish(slot);
    handler_.succeeded(ids_[slot], transfer.body(), requests_[slot].attempts);
  }

  // Defers the request for another attempt, or hands it to failed().
  void retry_or_fail(size_t slot, const std::string& problem, bool transient,
                     std::optional<Millis> retry_after, Clock::time_point now) {
    const int retries_done = requests_[slot].attempts - 1;
    if (transient && retries_done < policy_.max_retries) {
      const Millis wait =
          retry_wait(retries_done + 1, retry_after, policy_.retry_backoff, policy_.max_backoff);
      deferred_.emplace(now + wait, slot);
      return;
    }
    fail(slot, problem);
  }

  void wait_for_work(Clock::time_point now) {
    Millis wait = kMaxApiPollWait;
    if (!ready_.empty() && transfers_.size() < static_cast<size_t>(policy_.concurrency)) {
      wait = Millis(0);
    } else if (!deferred_.empty()) {
      wait = std::min(wait, std::chrono::ceil<Millis>(deferred_.top().first - now));
    }
    if (transfers_.empty() && ready_.empty() && deferred_.empty()) {
      throw Error(endpoint_.client + ": " + std::to_string(remaining_) +
                  " requests left with nothing to wait for (a bug)");
    }
    const CURLMcode code =
        curl_multi_poll(endpoint_.multi.get(), nullptr, 0,
                        static_cast<int>(std::max<Millis::rep>(0, wait.count())), nullptr);
    if (code != CURLM_OK) {
      throw Error(endpoint_.client + ": curl_multi_poll failed: " + curl_multi_strerror(code));
    }
  }

  using Deferred = std::pair<Clock::time_point, size_t>;

  Endpoint& endpoint_;
  const PostPolicy& policy_;
  const std::vector<size_t>& ids_;
  PostHandler& handler_;
  std::vector<Request> requests_;
  size_t remaining_;  // requests not handed to the handler yet
  std::deque<size_t> ready_;
  std::priority_queue<Deferred, std::vector<Deferred>, std::greater<>> deferred_;
  std::unordered_map<CURL*, std::unique_ptr<PostTransfer>> transfers_;
};

}  // namespace

void send_posts(Endpoint& endpoint, const PostPolicy& policy, const std::vector<size_t>& ids,
                PostHandler& handler) {
  if (ids.empty()) return;
  PostRun(endpoint, policy, ids, handler).run();
}

}  // namespace twinflow::openai_http
