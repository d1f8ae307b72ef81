// OpenAiEmbedder on libcurl's multi interface. One embed() is one EmbedRun.
//
// A run splits the texts into batches and moves each through: ready queue ->
// transfer -> stored, or -> deferred (waiting to be retried) -> ready again.
// A waiting batch holds no transfer, so the `concurrency` slots are only ever
// held by requests on the wire. The first batch that fails for good throws;
// the run's destructor then abandons the transfers still in flight.
//
// The loop itself: release due deferred batches, start transfers while slots
// are free, let curl work, harvest finished transfers, then curl_multi_poll
// until a socket is ready or the next deferred batch is due.
#include "tasks/embed/openai_embedder.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <optional>
#include <queue>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/retry_after.h"

namespace twinflow {

namespace {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;
using Json = nlohmann::json;

// Upper bound of one curl_multi_poll, so deferred batches are looked at often.
constexpr Millis kMaxPollWait{1000};
// A response beyond this is a broken server, not embeddings: 2048 texts of
// 3072 floats written out as JSON come to about 130 MB.
constexpr size_t kMaxResponseBytes = size_t{512} << 20;
// Characters of a response body quoted in an error message.
constexpr size_t kExcerptChars = 200;

// "10 s", "0.5 s".
std::string describe_seconds(Millis duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", static_cast<double>(duration.count()) / 1000.0);
  return text;
}

// The human part of an error body: OpenAI's {"error": {"message": ...}}, the
// {"error": "..."} or {"detail": "..."} of other servers, else the body.
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

// A body quoted in an error: one line, at most kExcerptChars, and without the
// API key, which a careless server may echo back (say, in a 401).
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

// Whether retrying a failed transfer could help: not for a URL or a
// certificate that is wrong, nor for a response we refused to buffer.
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

// The request body of texts [first, first + count).
std::string request_body(const OpenAiEmbedderOptions& options,
                         const std::vector<std::string_view>& texts, size_t first, size_t count) {
  Json input = Json::array();
  for (size_t i = first; i < first + count; ++i) input.emplace_back(std::string(texts[i]));
  Json body = {{"model", options.model}, {"input", std::move(input)}};
  if (options.dimensions > 0) body["dimensions"] = options.dimensions;
  // Replace, not throw: one chunk with a stray Latin-1 byte must not fail a
  // run.
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The API key from the environment; empty when `variable` is empty.
std::string read_api_key(const std::string& variable) {
  if (variable.empty()) return {};
  const char* value = std::getenv(variable.c_str());
  if (!value || !*value) {
    throw Error("OpenAiEmbedder: environment variable " + variable +
                " is not set or empty; it must hold the API key (set "
                "api_key_env to \"\" for a "
                "server that needs none)");
  }
  const std::string key(value);
  // A line break would let the key end its header and start another.
  if (std::any_of(key.begin(), key.end(), [](unsigned char c) { return c < 0x20 || c == 0x7F; })) {
    throw Error("OpenAiEmbedder: environment variable " + variable +
                " holds control characters, which cannot go into an HTTP header");
  }
  return key;
}

void check_options(const OpenAiEmbedderOptions& options) {
  const auto fail = [](const std::string& what) { throw Error("OpenAiEmbedder: " + what); };
  if (options.base_url.rfind("http://", 0) != 0 && options.base_url.rfind("https://", 0) != 0) {
    fail("base_url must start with http:// or https:// (got '" + options.base_url + "')");
  }
  if (options.model.empty()) fail("model must not be empty");
  if (options.dimensions < 0) fail("dimensions must not be negative");
  if (options.batch_size < 1) fail("batch_size must be at least 1");
  if (options.concurrency < 1) fail("concurrency must be at least 1");
  if (options.max_retries < 0) fail("max_retries must not be negative");
  if (options.retry_backoff < Millis(0) || options.max_backoff < Millis(0)) {
    fail("retry_backoff and max_backoff must not be negative");
  }
  if (options.timeout <= Millis(0)) fail("timeout must be positive");
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};

// What outlives one embed(): the options, the key, the request headers, the
// dimension seen so far, and the multi handle with its connection cache (so
// the next call reuses the connections, TLS included).
struct EmbedderState {
  explicit EmbedderState(OpenAiEmbedderOptions opts) : options(std::move(opts)) {
    check_options(options);
    api_key = read_api_key(options.api_key_env);
    url = options.base_url;
    while (url.back() == '/') url.pop_back();
    url += "/embeddings";
    dimension = options.dimensions;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw Error("OpenAiEmbedder: curl_global_init failed");
    }
    multi.reset(curl_multi_init());
    if (!multi) throw Error("OpenAiEmbedder: curl_multi_init failed");
    append_header("Content-Type: application/json");
    append_header("Accept: application/json");
    // No "Expect: 100-continue" round trip before large bodies.
    append_header("Expect:");
    if (!api_key.empty()) append_header("Authorization: Bearer " + api_key);
  }

  void append_header(const std::string& header) {
    curl_slist* appended = curl_slist_append(headers.get(), header.c_str());
    if (!appended) throw Error("OpenAiEmbedder: out of memory for request headers");
    headers.release();
    headers.reset(appended);
  }

  OpenAiEmbedderOptions options;
  std::string api_key;  // never logged nor put into errors
  std::string url;      // base_url + "/embeddings"
  int dimension = 0;
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  std::unique_ptr<CURLM, MultiDeleter> multi;
};

// One attempt at one batch: a curl easy handle and what it received.
class Transfer {
 public:
  Transfer(size_t batch, const EmbedderState& state, const std::string& body)
      : easy_(curl_easy_init()), batch_(batch) {
    if (!easy_) throw Error("OpenAiEmbedder: curl_easy_init failed");
    curl_easy_setopt(easy_, CURLOPT_URL, state.url.c_str());
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy_, CURLOPT_USERAGENT, "twinflow");
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, state.headers.get());
    // Not copied: `body` lives in the run's Batch until the batch is done.
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(state.options.timeout.count()));
    curl_easy_setopt(easy_, CURLOPT_ACCEPT_ENCODING,
                     "");  // JSON floats compress well
    curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_);
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
  }
  ~Transfer() { curl_easy_cleanup(easy_); }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  CURL* easy() const { return easy_; }
  size_t batch() const { return batch_; }
  bool body_too_large() const { return body_too_large_; }
  const std::string& body() const { return body_; }
  const std::string& retry_after() const { return retry_after_; }

  // What went wrong on the wire, e.g. "timed out after 60 s".
  std::string transport_error(CURLcode code, Millis timeout) const {
    if (code == CURLE_OPERATION_TIMEDOUT) return "timed out after " + describe_seconds(timeout);
    return error_[0] ? std::string(error_) : std::string(curl_easy_strerror(code));
  }

  long status() const {
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    return status;
  }

 private:
  static size_t on_body(char* data, size_t, size_t size, void* user) {
    auto* self = static_cast<Transfer*>(user);
    if (self->body_.size() + size > kMaxResponseBytes) {
      self->body_too_large_ = true;
      return 0;  // curl then fails the transfer with a write error
    }
    self->body_.append(data, size);
    return size;
  }

  static size_t on_header(char* data, size_t, size_t size, void* user) {
    auto* self = static_cast<Transfer*>(user);
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

  CURL* easy_;
  size_t batch_;
  std::string body_;
  std::string retry_after_;
  bool body_too_large_ = false;
  char error_[CURL_ERROR_SIZE] = {};
};

// `embedding`, checked and scaled to unit length, into `row` (one float per
// number). `text` is the text's index, for messages.
void normalise_into(const Json& embedding, size_t text, float* row) {
  double sum = 0;
  for (const Json& number : embedding) {
    if (!number.is_number()) {
      throw Error("embedding of text " + std::to_string(text) + " holds a non-number (" +
                  std::string(number.type_name()) + ")");
    }
    const double value = number.get<double>();
    sum += value * value;
  }
  const double norm = std::sqrt(sum);
  if (!std::isfinite(norm)) {
    throw Error("embedding of text " + std::to_string(text) + " has a non-finite norm");
  }
  if (norm == 0) throw Error("embedding of text " + std::to_string(text) + " is all zeros");
  for (const Json& number : embedding) *row++ = static_cast<float>(number.get<double>() / norm);
}

// The "data" entry's "index", checked to be in [0, count) and not seen before.
size_t entry_index(const Json& entry, size_t position, std::vector<bool>& seen) {
  const std::string where = "data[" + std::to_string(position) + "]";
  if (!entry.is_object()) throw Error(where + " is not an object");
  const auto index = entry.find("index");
  if (index == entry.end() || !index->is_number_integer()) {
    throw Error(where + " has no integer \"index\"");
  }
  const long long value = index->get<long long>();
  if (value < 0 || static_cast<size_t>(value) >= seen.size()) {
    throw Error(where + " has index " + std::to_string(value) + ", outside 0.." +
                std::to_string(seen.size() - 1));
  }
  if (seen[value]) throw Error(where + " repeats index " + std::to_string(value));
  seen[value] = true;
  return static_cast<size_t>(value);
}

// The batch's vectors from a 2xx response: count * dimension floats, unit
// length, in text order. `dimension` is what they must have (0: not known
// yet, then it is set from this response); `first` is the batch's first text.
std::vector<float> read_embeddings(const std::string& body, size_t first, size_t count,
                                   int& dimension, bool dimension_from_option) {
  const Json response = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (response.is_discarded()) throw Error("response is not valid JSON");
  if (!response.is_object() || !response.contains("data") || !response["data"].is_array()) {
    throw Error("response has no \"data\" array");
  }
  const Json& data = response["data"];
  if (data.size() != count) {
    throw Error("\"data\" has " + std::to_string(data.size()) + " entries for " +
                std::to_string(count) + " texts");
  }
  std::vector<bool> seen(count);
  std::vector<float> rows;
  for (size_t position = 0; position < count; ++position) {
    const size_t index = entry_index(data[position], position, seen);
    const size_t text = first + index;
    const auto embedding = data[position].find("embedding");
    if (embedding == data[position].end() || !embedding->is_array() || embedding->empty()) {
      // A string here is base64 (encoding_format), which we never ask for.
      throw Error("embedding of text " + std::to_string(text) + " is not an array of numbers");
    }
    if (dimension == 0) dimension = static_cast<int>(embedding->size());
    if (embedding->size() != static_cast<size_t>(dimension)) {
      throw Error("embedding of text " + std::to_string(text) + " has " +
                  std::to_string(embedding->size()) + " numbers, expected " +
                  std::to_string(dimension) +
                  (dimension_from_option ? " (the dimensions option)" : " like the others"));
    }
    rows.resize(count * dimension);
    normalise_into(*embedding, text, rows.data() + index * dimension);
  }
  return rows;
}

class EmbedRun {
 public:
  EmbedRun(EmbedderState& state, const std::vector<std::string_view>& texts)
      : state_(state), options_(state.options), texts_(texts) {
    for (size_t first = 0; first < texts.size(); first += options_.batch_size) {
      batches_.push_back({first, std::min(options_.batch_size, texts.size() - first)});
      ready_.push_back(batches_.size() - 1);
    }
    remaining_ = batches_.size();
  }

  ~EmbedRun() {
    for (auto& [easy, transfer] : transfers_) curl_multi_remove_handle(state_.multi.get(), easy);
  }
  EmbedRun(const EmbedRun&) = delete;
  EmbedRun& operator=(const EmbedRun&) = delete;

  std::vector<float> run() {
    while (remaining_ > 0) {
      release_due(Clock::now());
      start_transfers();
      int running = 0;
      const CURLMcode code = curl_multi_perform(state_.multi.get(), &running);
      if (code != CURLM_OK) {
        throw Error(std::string("OpenAiEmbedder: curl_multi_perform failed: ") +
                    curl_multi_strerror(code));
      }
      harvest(Clock::now());
      if (remaining_ == 0) break;
      wait_for_work(Clock::now());
    }
    return std::move(out_);
  }

 private:
  struct Batch {
    size_t first;  // index of the batch's first text
    size_t count;
    std::string body{};  // built when first sent, freed when done
    int attempts = 0;
  };

  // "OpenAiEmbedder: texts 3..5 (batch 2 of 4), POST http://host/v1/embeddings"
  std::string where(const Batch& batch) const {
    return "OpenAiEmbedder: texts " + std::to_string(batch.first) + ".." +
           std::to_string(batch.first + batch.count - 1) + " (batch " +
           std::to_string(batch.first / options_.batch_size + 1) + " of " +
           std::to_string(batches_.size()) + "), POST " + state_.url;
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
      Batch& batch = batches_[id];
      if (batch.body.empty()) batch.body = request_body(options_, texts_, batch.first, batch.count);
      auto transfer = std::make_unique<Transfer>(id, state_, batch.body);
      if (curl_multi_add_handle(state_.multi.get(), transfer->easy()) != CURLM_OK) {
        throw Error("OpenAiEmbedder: curl_multi_add_handle failed");
      }
      ++batch.attempts;
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

  void on_transfer_done(const Transfer& transfer, CURLcode code, Clock::time_point now) {
    Batch& batch = batches_[transfer.batch()];
    if (transfer.body_too_large()) {
      throw Error(where(batch) + ": response larger than " +
                  std::to_string(kMaxResponseBytes >> 20) + " MB");
    }
    if (code != CURLE_OK) {
      return retry_or_fail(transfer.batch(), transfer.transport_error(code, options_.timeout),
                           transport_error_is_transient(code), std::nullopt, now);
    }
    const long status = transfer.status();
    if (status < 200 || status >= 300) {
      const bool transient = status == 429 || status >= 500;
      const std::string problem = "HTTP " + std::to_string(status) + ": " +
                                  excerpt(server_message(transfer.body()), state_.api_key);
      return retry_or_fail(transfer.batch(), problem, transient,
                           transient ? parse_retry_after(transfer.retry_after()) : std::nullopt,
                           now);
    }
    store(batch, transfer.body());
  }

  // Defers the batch for another attempt, or throws when that cannot help.
  void retry_or_fail(size_t id, const std::string& problem, bool transient,
                     std::optional<Millis> retry_after, Clock::time_point now) {
    const Batch& batch = batches_[id];
    const int retries_done = batch.attempts - 1;
    if (transient && retries_done < options_.max_retries) {
      deferred_.emplace(now + wait_before_retry(retries_done + 1, retry_after), id);
      return;
    }
    std::string message = where(batch) + ": " + problem;
    if (batch.attempts > 1) message += " (after " + std::to_string(batch.attempts) + " attempts)";
    throw Error(message);
  }

  // Retry n (1-based) waits retry_backoff * 2^(n-1), or what the server asked;
  // capped.
  Millis wait_before_retry(int retry, std::optional<Millis> retry_after) const {
    if (retry_after) return std::min(*retry_after, options_.max_backoff);
    const double millis =
        static_cast<double>(options_.retry_backoff.count()) * std::pow(2.0, retry - 1);
    return Millis(static_cast<long long>(
        std::min(millis, static_cast<double>(options_.max_backoff.count()))));
  }

  // Checks a 2xx response and copies its vectors into place. The dimension
  // is only learned from a response that passed every check.
  void store(Batch& batch, const std::string& body) {
    int dimension = state_.dimension;
    std::vector<float> rows;
    try {
      rows = read_embeddings(body, batch.first, batch.count, dimension, options_.dimensions > 0);
    } catch (const Error& e) {
      throw Error(where(batch) + ": " + e.what() + "; body: " + excerpt(body, state_.api_key));
    }
    state_.dimension = dimension;
    out_.resize(texts_.size() * dimension);  // a no-op after the first batch
    std::copy(rows.begin(), rows.end(), out_.begin() + batch.first * dimension);
    std::string().swap(batch.body);
    --remaining_;
  }

  void wait_for_work(Clock::time_point now) {
    Millis wait = kMaxPollWait;
    if (!ready_.empty() && transfers_.size() < static_cast<size_t>(options_.concurrency)) {
      wait = Millis(0);
    } else if (!deferred_.empty()) {
      wait = std::min(wait, std::chrono::ceil<Millis>(deferred_.top().first - now));
    }
    if (transfers_.empty() && ready_.empty() && deferred_.empty()) {
      throw Error("OpenAiEmbedder: " + std::to_string(remaining_) +
                  " batches left with nothing to wait for (a bug)");
    }
    const CURLMcode code =
        curl_multi_poll(state_.multi.get(), nullptr, 0,
                        static_cast<int>(std::max<Millis::rep>(0, wait.count())), nullptr);
    if (code != CURLM_OK) {
      throw Error(std::string("OpenAiEmbedder: curl_multi_poll failed: ") +
                  curl_multi_strerror(code));
    }
  }

  using Deferred = std::pair<Clock::time_point, size_t>;

  EmbedderState& state_;
  const OpenAiEmbedderOptions& options_;
  const std::vector<std::string_view>& texts_;
  std::vector<Batch> batches_;
  size_t remaining_ = 0;  // batches not stored yet
  std::deque<size_t> ready_;
  std::priority_queue<Deferred, std::vector<Deferred>, std::greater<>> deferred_;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
  std::vector<float> out_;
};

}  // namespace

struct OpenAiEmbedder::Impl {
  explicit Impl(OpenAiEmbedderOptions options) : state(std::move(options)) {}
  EmbedderState state;
};

OpenAiEmbedder::OpenAiEmbedder(OpenAiEmbedderOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

OpenAiEmbedder::~OpenAiEmbedder() = default;
OpenAiEmbedder::OpenAiEmbedder(OpenAiEmbedder&&) noexcept = default;
OpenAiEmbedder& OpenAiEmbedder::operator=(OpenAiEmbedder&&) noexcept = default;

std::vector<float> OpenAiEmbedder::embed(const std::vector<std::string_view>& texts) {
  if (texts.empty()) return {};
  return EmbedRun(impl_->state, texts).run();
}

int OpenAiEmbedder::dimension() const {
  return impl_->state.dimension;
}

}  // namespace twinflow
