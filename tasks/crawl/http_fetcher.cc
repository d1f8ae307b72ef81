// HttpFetcher on libcurl's multi interface. One fetch_all() is one FetchRun.
//
// A run keeps a Job per URL (and one per robots.txt it needs) and moves each
// through: ready queue -> admission -> transfer -> done, or -> deferred.
// Admission is where the manners live: a job waits (parked, not queued) until
// its host's robots.txt is known, is refused if robots.txt disallows it, and
// otherwise reserves a start slot from the HostRateLimiter; a slot in the
// future defers the job to a time-ordered queue. A failed attempt that may be
// retried is deferred the same way. So a job that waits, for whatever reason,
// holds no curl transfer and blocks no other host: the transfer slots
// (`concurrency`) are only ever held by requests on the wire.
//
// The loop itself: release due deferred jobs, start transfers while slots
// are free, let curl work, harvest finished transfers, then curl_multi_poll
// until a socket is ready or the next deferred job is due.
#include "tasks/crawl/http_fetcher.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <deque>
#include <optional>
#include <queue>
#include <unordered_map>

#include "tasks/crawl/host_rate_limiter.h"
#include "tasks/crawl/robots.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/retry_after.h"
#include "util/strings.h"

namespace twinflow {

namespace {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;
using OnDone = std::function<void(size_t, const FetchResult&)>;

// Upper bound of one curl_multi_poll, so deferred jobs are looked at often.
constexpr Millis kMaxFetchPollWait{1000};
// A Crawl-delay beyond this is taken as this: a site asking for a day between
// requests would otherwise stall a whole crawl.
constexpr std::chrono::seconds kMaxCrawlDelay{60};

// "20 MB", "512 KB", "1000 bytes": a limit as the user would have written it.
std::string describe_bytes(size_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MB";
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KB";
  return std::to_string(bytes) + " bytes";
}

// The parts of a URL that robots.txt and the rate limit depend on.
struct UrlParts {
  bool is_file = false;
  std::string host;            // lower case
  std::string origin;          // "https://host:443": one robots.txt each
  std::string path_and_query;  // "/a/b?x=1"
};

// Empty string on failure: a URL without a query or port is not an error.
std::string url_part(CURLU* url, CURLUPart which, unsigned flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, which, &value, flags) != CURLUE_OK || !value) return {};
  std::string out(value);
  curl_free(value);
  return out;
}

// The URL's parts, or an error message.
std::optional<UrlParts> split_url(const std::string& text, std::string& error) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url(curl_url(), &curl_url_cleanup);
  if (!url || curl_url_set(url.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    error = "malformed URL";
    return std::nullopt;
  }
  const std::string scheme = to_lower(url_part(url.get(), CURLUPART_SCHEME));
  if (scheme != "http" && scheme != "https" && scheme != "file") {
    error = "unsupported URL scheme '" + scheme + "' (http, https and file only)";
    return std::nullopt;
  }
  UrlParts parts;
  parts.is_file = scheme == "file";
  parts.host = to_lower(url_part(url.get(), CURLUPART_HOST));
  parts.origin =
      scheme + "://" + parts.host + ":" + url_part(url.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  parts.path_and_query = url_part(url.get(), CURLUPART_PATH);
  const std::string query = url_part(url.get(), CURLUPART_QUERY);
  if (!query.empty()) parts.path_and_query += "?" + query;
  return parts;
}

// Response headers of the last response of a redirect chain.
struct ResponseHeaders {
  std::string etag, last_modified, retry_after;
};

// One attempt at one URL: a curl easy handle and what it received.
class Transfer {
 public:
  Transfer(size_t job, const FetchRequest& request, const FetchOptions& options,
           bool send_request_headers)
      : easy_(curl_easy_init()), job_(job), body_cap_(options.max_body_bytes) {
    if (!easy_) throw Error("HttpFetcher: curl_easy_init failed");
    set_options(request, options);
    set_request_headers(request, send_request_headers);
  }
  ~Transfer() {
    curl_easy_cleanup(easy_);
    curl_slist_free_all(header_list_);
  }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  CURL* easy() const { return easy_; }
  size_t job() const { return job_; }
  size_t body_cap() const { return body_cap_; }
  bool body_too_large() const { return body_too_large_; }
  const ResponseHeaders& headers() const { return headers_; }
  std::string take_body() { return std::move(body_); }

 private:
  void set_options(const FetchRequest& request, const FetchOptions& options) {
    curl_easy_setopt(easy_, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https,file");
    // A web page must not be able to redirect us into the local file system.
    curl_easy_setopt(easy_, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(easy_, CURLOPT_MAXREDIRS, static_cast<long>(options.max_redirects));
    curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options.connect_timeout.count()));
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(options.total_timeout.count()));
    // Fails at once when Content-Length announces too much; on_body catches the rest.
    curl_easy_setopt(easy_, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(body_cap_));
    curl_easy_setopt(easy_, CURLOPT_ACCEPT_ENCODING, "");  // whatever this curl can decode
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
  }

  void set_request_headers(const FetchRequest& request, bool send_request_headers) {
    if (send_request_headers) {
      for (const std::string& header : request.headers) append_header(header);
    }
    if (!request.etag.empty()) append_header("If-None-Match: " + request.etag);
    if (!request.last_modified.empty()) {
      append_header("If-Modified-Since: " + request.last_modified);
    }
    if (header_list_) curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, header_list_);
  }

  void append_header(const std::string& header) {
    curl_slist* appended = curl_slist_append(header_list_, header.c_str());
    if (!appended) throw Error("HttpFetcher: out of memory for request headers");
    header_list_ = appended;
  }

  // Stops the download (curl then reports a write error) as soon as the body
  // would pass the cap, so a huge body is never buffered.
  static size_t on_body(char* data, size_t, size_t size, void* user) {
    auto* self = static_cast<Transfer*>(user);
    if (self->body_.size() + size > self->body_cap_) {
      self->body_too_large_ = true;
      return 0;
    }
    self->body_.append(data, size);
    return size;
  }

  static size_t on_header(char* data, size_t, size_t size, void* user) {
    auto* self = static_cast<Transfer*>(user);
    const std::string_view line(data, size);
    if (line.rfind("HTTP/", 0) == 0) self->headers_ = {};  // next response of a redirect chain
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return size;
    const std::string name = to_lower(std::string(line.substr(0, colon)));
    std::string_view value = line.substr(colon + 1);
    const size_t begin = value.find_first_not_of(" \t");
    const size_t end = value.find_last_not_of(" \t\r\n");
    value =
        begin == std::string_view::npos ? std::string_view() : value.substr(begin, end + 1 - begin);
    if (name == "etag") self->headers_.etag = value;
    if (name == "last-modified") self->headers_.last_modified = value;
    if (name == "retry-after") self->headers_.retry_after = value;
    return size;
  }

  CURL* easy_;
  curl_slist* header_list_ = nullptr;
  size_t job_;
  size_t body_cap_;
  std::string body_;
  bool body_too_large_ = false;
  ResponseHeaders headers_;
};

// What one attempt came to.
struct Verdict {
  std::string error;  // empty: success
  bool retryable = false;
  std::optional<Millis> retry_after;

  static Verdict success() { return {}; }
  static Verdict failure(std::string error) { return {std::move(error), false, std::nullopt}; }
  static Verdict transient(std::string error, std::optional<Millis> retry_after = std::nullopt) {
    return {std::move(error), true, retry_after};
  }
};

Verdict judge_transport(CURLcode code, const Transfer& transfer, const FetchOptions& options,
                        const UrlParts& url) {
  switch (code) {
    case CURLE_TOO_MANY_REDIRECTS:
      return Verdict::failure("too many redirects (max " + std::to_string(options.max_redirects) +
                              ")");
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connected_after = 0;
      curl_easy_getinfo(transfer.easy(), CURLINFO_CONNECT_TIME_T, &connected_after);
      if (connected_after == 0) {
        return Verdict::transient("could not connect within " +
                                  describe_seconds(options.connect_timeout));
      }
      return Verdict::transient("timed out after " + describe_seconds(options.total_timeout));
    }
    case CURLE_COULDNT_RESOLVE_HOST:
      return Verdict::failure("could not resolve host " + url.host);
    case CURLE_COULDNT_CONNECT:
      return Verdict::transient("could not connect to " + url.host + " (refused or unreachable)");
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return Verdict::transient(std::string("connection failed: ") + curl_easy_strerror(code));
    case CURLE_FILE_COULDNT_READ_FILE:
      return Verdict::failure("cannot read file");
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Verdict::failure("redirected to an unsupported URL scheme");
    default:
      return Verdict::failure(curl_easy_strerror(code));
  }
}

Verdict judge(CURLcode code, long status, const Transfer& transfer, const FetchOptions& options,
              const UrlParts& url) {
  if (transfer.body_too_large() || code == CURLE_FILESIZE_EXCEEDED) {
    return Verdict::failure("body larger than " + describe_bytes(transfer.body_cap()));
  }
  if (code != CURLE_OK) return judge_transport(code, transfer, options, url);
  if (status == 0 || (status >= 200 && status < 300) || status == 304) return Verdict::success();
  const std::string error = "HTTP " + std::to_string(status);
  if (status == 429 || status >= 500) {
    return Verdict::transient(error, parse_retry_after(transfer.headers().retry_after));
  }
  return Verdict::failure(error);
}

Millis backoff_before_retry(int retry_number, const FetchOptions& options) {
  const double millis = options.retry_backoff.count() * std::pow(2.0, retry_number - 1);
  return Millis(static_cast<long long>(std::min<double>(millis, options.max_backoff.count())));
}

std::string info_string(CURL* easy, CURLINFO what) {
  char* value = nullptr;
  curl_easy_getinfo(easy, what, &value);
  return value ? value : "";
}

// What outlives one fetch_all(): the options, the rate limiter's memory, the
// robots.txt rules, and the multi handle with its connection and DNS caches.
struct FetcherState {
  explicit FetcherState(FetchOptions opts)
      : options(std::move(opts)), limiter(options.max_requests_per_second_per_host) {
    if (options.concurrency < 1) throw Error("HttpFetcher: concurrency must be at least 1");
    if (options.max_retries < 0 || options.max_redirects < 0) {
      throw Error("HttpFetcher: max_retries and max_redirects must not be negative");
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw Error("HttpFetcher: curl_global_init failed");
    }
    multi = curl_multi_init();
    if (!multi) throw Error("HttpFetcher: curl_multi_init failed");
  }
  ~FetcherState() { curl_multi_cleanup(multi); }
  FetcherState(const FetcherState&) = delete;
  FetcherState& operator=(const FetcherState&) = delete;

  FetchOptions options;
  HostRateLimiter limiter;
  std::unordered_map<std::string, RobotsRules> robots;  // by origin
  CURLM* multi = nullptr;
};

class FetchRun {
 public:
  FetchRun(FetcherState& fetcher, const std::vector<FetchRequest>& requests, const OnDone& on_done)
      : fetcher_(fetcher),
        options_(fetcher.options),
        on_done_(on_done),
        request_count_(requests.size()),
        remaining_(requests.size()) {
    for (const FetchRequest& request : requests) add_job(request, false);
  }

  ~FetchRun() {
    for (auto& [easy, transfer] : transfers_) curl_multi_remove_handle(fetcher_.multi, easy);
  }

  std::vector<FetchResult> run() {
    for (size_t id = 0; id < request_count_; ++id) {
      if (jobs_[id].url) {
        ready_.push_back(id);
      } else {
        finish(id, Clock::now());
      }
    }
    while (remaining_ > 0) {
      release_due(Clock::now());
      start_transfers(Clock::now());
      int running = 0;
      curl_multi_perform(fetcher_.multi, &running);
      harvest(Clock::now());
      if (remaining_ == 0) break;
      wait_for_work(Clock::now());
    }
    std::vector<FetchResult> results;
    results.reserve(request_count_);
    for (size_t id = 0; id < request_count_; ++id) results.push_back(std::move(jobs_[id].result));
    return results;
  }

 private:
  struct Job {
    FetchRequest request;
    std::optional<UrlParts> url;
    bool is_robots = false;
    bool slot_reserved = false;  // a rate-limit slot is waiting to be used
    std::optional<Clock::time_point> first_start;
    FetchResult result;
  };

  size_t add_job(FetchRequest request, bool is_robots) {
    Job& job = jobs_.emplace_back();
    job.url = split_url(request.url, job.result.error);
    job.result.url = request.url;
    job.request = std::move(request);
    job.is_robots = is_robots;
    return jobs_.size() - 1;
  }

  void release_due(Clock::time_point now) {
    while (!deferred_.empty() && deferred_.top().first <= now) {
      ready_.push_back(deferred_.top().second);
      deferred_.pop();
    }
  }

  void start_transfers(Clock::time_point now) {
    while (transfers_.size() < static_cast<size_t>(options_.concurrency) && !ready_.empty()) {
      const size_t id = ready_.front();
      ready_.pop_front();
      if (admit(id, now)) start_transfer(id, now);
    }
  }

  // Whether the job may go on the wire now. If not, it has been parked
  // (robots.txt pending), deferred (rate limit) or finished (disallowed).
  bool admit(size_t id, Clock::time_point now) {
    Job& job = jobs_[id];
    if (job.url->is_file) return true;  // local files: no robots.txt, no host to spare
    if (!job.is_robots && options_.respect_robots && !robots_admit(id, now)) return false;
    if (!job.slot_reserved) {
      const Clock::time_point slot = fetcher_.limiter.reserve(job.url->host, now);
      if (slot > now) {
        job.slot_reserved = true;
        deferred_.emplace(slot, id);
        return false;
      }
    }
    job.slot_reserved = false;
    return true;
  }

  bool robots_admit(size_t id, Clock::time_point now) {
    Job& job = jobs_[id];
    const std::string& origin = job.url->origin;
    const auto known = fetcher_.robots.find(origin);
    if (known == fetcher_.robots.end()) {
      auto [waiting, first] = waiting_for_robots_.try_emplace(origin);
      waiting->second.push_back(id);
      if (first) ready_.push_front(add_job({origin + "/robots.txt", {}, {}, {}}, true));
      return false;
    }
    if (known->second.allowed(job.url->path_and_query)) return true;
    job.result.error = "disallowed by robots.txt";
    finish(id, now);
    return false;
  }

  void start_transfer(size_t id, Clock::time_point now) {
    Job& job = jobs_[id];
    // robots.txt is fetched without the caller's headers: they may hold credentials.
    auto transfer = std::make_unique<Transfer>(id, job.request, options_, !job.is_robots);
    if (curl_multi_add_handle(fetcher_.multi, transfer->easy()) != CURLM_OK) {
      throw Error("HttpFetcher: curl_multi_add_handle failed");
    }
    ++job.result.attempts;
    if (!job.first_start) job.first_start = now;
    transfers_.emplace(transfer->easy(), std::move(transfer));
  }

  void harvest(Clock::time_point now) {
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(fetcher_.multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      auto node = transfers_.extract(message->easy_handle);
      const CURLcode code = message->data.result;
      curl_multi_remove_handle(fetcher_.multi, node.key());
      on_transfer_done(*node.mapped(), code, now);
    }
  }

  void on_transfer_done(Transfer& transfer, CURLcode code, Clock::time_point now) {
    const size_t id = transfer.job();
    Job& job = jobs_[id];
    FetchResult& result = job.result;
    long status = 0;
    curl_easy_getinfo(transfer.easy(), CURLINFO_RESPONSE_CODE, &status);
    result.http_status = static_cast<int>(status);
    result.final_url = info_string(transfer.easy(), CURLINFO_EFFECTIVE_URL);
    result.content_type = info_string(transfer.easy(), CURLINFO_CONTENT_TYPE);
    const Verdict verdict = judge(code, status, transfer, options_, *job.url);
    if (!verdict.error.empty()) return retry_or_finish(id, verdict, now);
    result.error.clear();
    result.not_modified = status == 304;
    result.body = transfer.take_body();
    // A 304 need not repeat the validators; the ones we sent still stand.
    result.etag = transfer.headers().etag.empty() && result.not_modified ? job.request.etag
                                                                         : transfer.headers().etag;
    result.last_modified = transfer.headers().last_modified.empty() && result.not_modified
                               ? job.request.last_modified
                               : transfer.headers().last_modified;
    finish(id, now);
  }

  void retry_or_finish(size_t id, const Verdict& verdict, Clock::time_point now) {
    Job& job = jobs_[id];
    const int retries_done = job.result.attempts - 1;
    const int max_retries = job.is_robots ? 0 : options_.max_retries;
    job.result.error = verdict.error;
    if (verdict.retryable && retries_done < max_retries) {
      const Millis wait = verdict.retry_after ? std::min(*verdict.retry_after, options_.max_backoff)
                                              : backoff_before_retry(retries_done + 1, options_);
      deferred_.emplace(now + wait, id);
      return;
    }
    if (job.result.attempts > 1) {
      job.result.error += " (after " + std::to_string(job.result.attempts) + " attempts)";
    }
    finish(id, now);
  }

  void finish(size_t id, Clock::time_point now) {
    Job& job = jobs_[id];
    if (job.first_start) {
      job.result.seconds = std::chrono::duration<double>(now - *job.first_start).count();
    }
    if (job.is_robots) return learn_robots(job);
    --remaining_;
    if (on_done_) on_done_(id, job.result);
  }

  // robots.txt came back (or did not): remember the rules, release the jobs
  // that waited for them. Only a 2xx body is read. A 4xx means "no rules"
  // (RFC 9309 2.3.1.3). For a 5xx or an unreachable host RFC 9309 says to
  // assume "disallow everything"; we allow instead: a personal crawler asking
  // for a handful of pages is better served by trying each page (which then
  // fails or succeeds on its own) than by losing a whole site to one flaky
  // robots.txt response.
  void learn_robots(Job& job) {
    RobotsRules rules;
    if (job.result.ok() && job.result.http_status >= 200 && job.result.http_status < 300) {
      rules = RobotsRules::parse(job.result.body, options_.user_agent);
    }
    if (const auto delay = rules.crawl_delay_seconds()) {
      const auto seconds = std::min(std::chrono::duration<double>(*delay),
                                    std::chrono::duration<double>(kMaxCrawlDelay));
      fetcher_.limiter.require_interval(job.url->host,
                                        std::chrono::duration_cast<Clock::duration>(seconds));
    }
    const std::string origin = job.url->origin;
    fetcher_.robots.insert_or_assign(origin, std::move(rules));
    job.result.body.clear();
    for (size_t waiting : waiting_for_robots_[origin]) ready_.push_back(waiting);
    waiting_for_robots_.erase(origin);
  }

  void wait_for_work(Clock::time_point now) {
    Millis wait = kMaxFetchPollWait;
    if (!ready_.empty() && transfers_.size() < static_cast<size_t>(options_.concurrency)) {
      wait = Millis(0);
    } else if (!deferred_.empty()) {
      wait = std::min(wait, std::chrono::ceil<Millis>(deferred_.top().first - now));
    }
    if (transfers_.empty() && ready_.empty() && deferred_.empty()) {
      throw Error("HttpFetcher: " + std::to_string(remaining_) +
                  " requests left with nothing to wait for (a bug)");
    }
    const CURLMcode code =
        curl_multi_poll(fetcher_.multi, nullptr, 0,
                        static_cast<int>(std::max<Millis::rep>(0, wait.count())), nullptr);
    if (code != CURLM_OK) {
      throw Error(std::string("HttpFetcher: curl_multi_poll failed: ") + curl_multi_strerror(code));
    }
  }

  using Deferred = std::pair<Clock::time_point, size_t>;

  FetcherState& fetcher_;
  const FetchOptions& options_;
  const OnDone& on_done_;
  const size_t request_count_;
  size_t remaining_;  // requests (not robots.txt fetches) not finished yet

  std::deque<Job> jobs_;  // the requests, in order, then robots.txt fetches
  std::deque<size_t> ready_;
  std::priority_queue<Deferred, std::vector<Deferred>, std::greater<>> deferred_;
  std::unordered_map<std::string, std::vector<size_t>> waiting_for_robots_;  // by origin
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
};

}  // namespace

struct HttpFetcher::Impl {
  explicit Impl(FetchOptions options) : state(std::move(options)) {}
  FetcherState state;
};

HttpFetcher::HttpFetcher(FetchOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpFetcher::~HttpFetcher() = default;

std::vector<FetchResult> HttpFetcher::fetch_all(const std::vector<FetchRequest>& requests,
                                                const OnDone& on_done) {
  return FetchRun(impl_->state, requests, on_done).run();
}

FetchResult HttpFetcher::fetch(const FetchRequest& request) {
  return std::move(fetch_all({request}).front());
}

}  // namespace twinflow
