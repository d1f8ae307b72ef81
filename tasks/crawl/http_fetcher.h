// HttpFetcher: the crawler's HTTP client, many URLs at once, politely.
//
// The crawl step hands it every URL of a run. It fetches them concurrently on
// libcurl's multi interface from the calling thread (no threads of its own),
// and applies the crawler's manners and safety limits in one place:
//   - robots.txt, fetched once per scheme+host and kept for the fetcher's life;
//   - a per-host rate limit (raised by robots.txt's Crawl-delay);
//   - retries with exponential backoff for 5xx, 429 and transport failures,
//     honouring Retry-After; a waiting retry holds no transfer slot;
//   - conditional GET (If-None-Match / If-Modified-Since) for recrawls;
//   - caps on body size (enforced while downloading), redirects and time.
// Each URL's outcome is its own FetchResult: one bad URL never fails the rest.
// Request headers (cookies, tokens) are never logged nor copied into errors.
//
// Not thread-safe: one thread uses a fetcher at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace twinflow {

struct FetchRequest {
  std::string url;  // http://, https:// or file://
  // Validators from the previous crawl, for a conditional GET; empty: none.
  // (Members after `url` have initializers so that {url} compiles without
  // -Wmissing-field-initializers noise.)
  std::string etag{};
  std::string last_modified{};
  // Extra request headers, "Name: value" (e.g. a session cookie the caller
  // built from the environment). Never logged nor put into errors.
  std::vector<std::string> headers{};
};

struct FetchResult {
  std::string url;            // as requested
  std::string final_url;      // after redirects
  int http_status = 0;        // of the last response; 0 for file:// or when none came
  bool not_modified = false;  // 304 to a conditional GET: `body` is empty, the old copy stands
  std::string body;
  std::string content_type, etag, last_modified;
  // Empty on success, else why, e.g. "HTTP 404", "timed out after 10 s",
  // "body larger than 20 MB", "too many redirects (max 5)", "disallowed by
  // robots.txt", "could not resolve host example.invalid"; " (after N
  // attempts)" is added when retries were spent.
  std::string error;
  int attempts = 0;    // transfers made (0 when robots.txt refused the URL)
  double seconds = 0;  // from the first attempt's start to the end, waits included

  bool ok() const { return error.empty(); }
};

struct FetchOptions {
  // Transfers in flight at once (robots.txt fetches included). At least 1.
  int concurrency = 8;
  // Request starts per second per host; 0: unlimited. robots.txt's
  // Crawl-delay lowers it for its host, never raises it.
  double max_requests_per_second_per_host = 2.0;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds total_timeout{30000};  // per attempt, redirects included
  size_t max_body_bytes = 20 << 20;                // decoded bytes; larger bodies fail
  int max_redirects = 5;
  // Retries after the first attempt, for 5xx, 429 and transport failures.
  int max_retries = 3;
  // Wait before retry n (1-based): retry_backoff * 2^(n-1), at most
  // max_backoff; a Retry-After header replaces it (also capped).
  std::chrono::milliseconds retry_backoff{500};
  std::chrono::milliseconds max_backoff{30000};
  bool respect_robots = true;
  std::string user_agent = "twinflow/0.1 (+https://github.com/twinflow)";
};

class HttpFetcher {
 public:
  // Throws Error for impossible options (concurrency < 1, negative limits).
  explicit HttpFetcher(FetchOptions options = {});
  ~HttpFetcher();
  HttpFetcher(const HttpFetcher&) = delete;
  HttpFetcher& operator=(const HttpFetcher&) = delete;

  // Fetches every request, concurrently, and returns their results in the
  // order of `requests`. `on_done`, if given, is called on this thread as
  // each one finishes (with its index); it may throw, which abandons the
  // remaining transfers and propagates.
  std::vector<FetchResult> fetch_all(
      const std::vector<FetchRequest>& requests,
      const std::function<void(size_t index, const FetchResult&)>& on_done = {});

  // Shorthand for one URL.
  FetchResult fetch(const FetchRequest& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace twinflow
