// See openai_http.h. The pieces are those of OpenAiEmbedder, made to serve
// any client by taking the client's name for messages.
#include "tasks/llm/openai_http.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace twinflow::openai_http {

namespace {

using Json = nlohmann::json;

// Characters of a response body quoted in an error message.
constexpr size_t kExcerptChars = 200;

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
    size_t end = kExcerptChars;
    // Not in the middle of a UTF-8 sequence.
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text.resize(end);
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

std::string describe_seconds(Millis duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", static_cast<double>(duration.count()) / 1000.0);
  return text;
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

}  // namespace twinflow::openai_http
