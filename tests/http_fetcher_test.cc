// Tests of HttpFetcher (and HostRateLimiter) against a real HttpServer on
// 127.0.0.1 that plays well-behaved and misbehaving sites. Timed assertions
// are lower bounds only ("waited at least the Retry-After"); concurrency is
// checked by counting overlapping requests on the server, not by a stopwatch.
#include "tasks/crawl/http_fetcher.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "http/http_server.h"
#include "tasks/crawl/host_rate_limiter.h"
#include "util/error.h"

namespace twinflow {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// A loopback site: routes by exact path (unknown paths get 404) and records
// every request it saw, with its arrival time.
class FetcherTest : public testing::Test {
 protected:
  struct Seen {
    HttpRequest request;
    Clock::time_point at;
  };

  void SetUp() override {
    server_ = std::make_unique<HttpServer>([this](const HttpRequest& request) {
      HttpHandler handler;
      {
        std::lock_guard lock(mutex_);
        seen_.push_back({request, Clock::now()});
        const auto it = routes_.find(request.path);
        if (it != routes_.end()) handler = it->second;
      }
      return handler ? handler(request) : HttpResponse::text(404, "no such page\n");
    });
    server_->start();
  }

  void route(const std::string& path, HttpHandler handler) {
    std::lock_guard lock(mutex_);
    routes_[path] = std::move(handler);
  }

  void route_text(const std::string& path, const std::string& body) {
    route(path, [body](const HttpRequest&) { return HttpResponse::text(200, body); });
  }

  std::string url(const std::string& path) const { return server_->base_url() + path; }

  std::vector<Seen> seen(const std::string& path) {
    std::lock_guard lock(mutex_);
    std::vector<Seen> out;
    for (const Seen& s : seen_) {
      if (s.request.path == path) out.push_back(s);
    }
    return out;
  }

  // No rate limit, quick retries, no robots.txt: each test turns on what it checks.
  static FetchOptions quick_options() {
    FetchOptions options;
    options.max_requests_per_second_per_host = 0;
    options.retry_backoff = 50ms;
    options.respect_robots = false;
    return options;
  }

  std::mutex mutex_;
  std::map<std::string, HttpHandler> routes_;
  std::vector<Seen> seen_;
  // Last, so that it is destroyed (its threads joined) before what its handler uses.
  std::unique_ptr<HttpServer> server_;
};

TEST_F(FetcherTest, FetchesAPage) {
  route("/page.html", [](const HttpRequest&) {
    return HttpResponse::text(200, "<p>hello</p>")
        .header("Content-Type", "text/html; charset=utf-8")
        .header("ETag", "\"abc\"")
        .header("Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT");
  });
  const FetchResult result = HttpFetcher(quick_options()).fetch({url("/page.html")});
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.http_status, 200);
  EXPECT_EQ(result.body, "<p>hello</p>");
  EXPECT_EQ(result.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(result.etag, "\"abc\"");
  EXPECT_EQ(result.last_modified, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(result.final_url, url("/page.html"));
  EXPECT_EQ(result.attempts, 1);
  EXPECT_FALSE(result.not_modified);
  EXPECT_EQ(seen("/page.html").at(0).request.header("user-agent"), FetchOptions().user_agent);
}

TEST_F(FetcherTest, Reports404WithoutRetrying) {
  const FetchResult result = HttpFetcher(quick_options()).fetch({url("/missing")});
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error, "HTTP 404");
  EXPECT_EQ(result.http_status, 404);
  EXPECT_EQ(result.attempts, 1);
  EXPECT_EQ(seen("/missing").size(), 1u);
}

TEST_F(FetcherTest, ConditionalGetReportsNotModified) {
  route("/article", [](const HttpRequest& request) {
    if (request.header("if-none-match") == "\"v1\"") return HttpResponse::text(304, "");
    return HttpResponse::text(200, "article").header("ETag", "\"v1\"");
  });
  HttpFetcher fetcher(quick_options());
  const FetchResult first = fetcher.fetch({url("/article")});
  ASSERT_TRUE(first.ok()) << first.error;
  const FetchResult again =
      fetcher.fetch({url("/article"), first.etag, "Sun, 06 Nov 1994 08:49:37 GMT", {}});
  EXPECT_TRUE(again.ok()) << again.error;
  EXPECT_TRUE(again.not_modified);
  EXPECT_EQ(again.http_status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.etag, "\"v1\"");
  EXPECT_EQ(seen("/article").at(1).request.header("if-modified-since"),
            "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST_F(FetcherTest, Retries503ThenSucceeds) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  route("/flaky", [calls](const HttpRequest&) {
    return ++*calls == 1 ? HttpResponse::text(503, "busy") : HttpResponse::text(200, "done");
  });
  const FetchResult result = HttpFetcher(quick_options()).fetch({url("/flaky")});
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.body, "done");
  EXPECT_EQ(result.attempts, 2);
}

TEST_F(FetcherTest, GivesUpAfterMaxRetries) {
  route("/broken", [](const HttpRequest&) { return HttpResponse::text(500, "oops"); });
  FetchOptions options = quick_options();
  options.max_retries = 2;
  const FetchResult result = HttpFetcher(options).fetch({url("/broken")});
  EXPECT_EQ(result.error, "HTTP 500 (after 3 attempts)");
  EXPECT_EQ(result.attempts, 3);
  EXPECT_TRUE(result.body.empty());
  EXPECT_EQ(seen("/broken").size(), 3u);
}

TEST_F(FetcherTest, Waits429RetryAfter) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  route("/limited", [calls](const HttpRequest&) {
    if (++*calls == 1) return HttpResponse::text(429, "slow down").header("Retry-After", "1");
    return HttpResponse::text(200, "ok");
  });
  const auto start = Clock::now();
  const FetchResult result = HttpFetcher(quick_options()).fetch({url("/limited")});
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.attempts, 2);
  EXPECT_GE(seconds_between(start, Clock::now()), 1.0);
  const auto requests = seen("/limited");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_GE(seconds_between(requests[0].at, requests[1].at), 1.0);
}

TEST_F(FetcherTest, RedirectLoopFailsWithAClearReason) {
  route("/loop",
        [](const HttpRequest&) { return HttpResponse::text(302, "").header("Location", "/loop"); });
  const FetchResult result = HttpFetcher(quick_options()).fetch({url("/loop")});
  EXPECT_EQ(result.error, "too many redirects (max 5)");
  EXPECT_EQ(result.attempts, 1);
  EXPECT_EQ(seen("/loop").size(), 6u);  // the first request and five redirects
}

TEST_F(FetcherTest, FollowsRedirects) {
  route("/old",
        [](const HttpRequest&) { return HttpResponse::text(301, "").header("Location", "/new"); });
  route_text("/new", "moved here");
  const FetchResult result = HttpFetcher(quick_options()).fetch({url("/old")});
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.body, "moved here");
  EXPECT_EQ(result.final_url, url("/new"));
}

TEST_F(FetcherTest, StreamedBodyOverTheCapIsAbortedWhileDownloading) {
  constexpr size_t kChunk = 64 << 10;
  auto produced = std::make_shared<std::atomic<size_t>>(0);
  route("/huge", [produced](const HttpRequest&) {
    HttpResponse response;
    response.stream = [produced](std::string& chunk) {
      chunk.assign(kChunk, 'x');
      return (*produced += kChunk) < (50u << 20);  // 50 MB, without Content-Length
    };
    return response;
  });
  FetchOptions options = quick_options();
  options.max_body_bytes = 1 << 20;
  const FetchResult result = HttpFetcher(options).fetch({url("/huge")});
  EXPECT_EQ(result.error, "body larger than 1 MB");
  EXPECT_TRUE(result.body.empty());
  EXPECT_EQ(result.attempts, 1);
  server_->stop();  // settles what the server produced
  EXPECT_LT(produced->load(), 25u << 20) << "the whole body was downloaded";
}

TEST_F(FetcherTest, AnnouncedBodyOverTheCapFailsAtOnce) {
  route_text("/sized", std::string(3 << 20, 'y'));
  FetchOptions options = quick_options();
  options.max_body_bytes = 2 << 20;
  EXPECT_EQ(HttpFetcher(options).fetch({url("/sized")}).error, "body larger than 2 MB");
}

TEST_F(FetcherTest, SlowServerHitsTheTotalTimeout) {
  route("/slow", [](const HttpRequest&) {
    HttpResponse response = HttpResponse::text(200, "late");
    response.delay = 5s;
    return response;
  });
  FetchOptions options = quick_options();
  options.total_timeout = 300ms;
  options.max_retries = 0;
  const auto start = Clock::now();
  const FetchResult result = HttpFetcher(options).fetch({url("/slow")});
  EXPECT_EQ(result.error, "timed out after 0.3 s");
  // It waited for the timeout rather than giving up at once. libcurl keeps
  // its own millisecond clock and may fire a fraction of a millisecond early
  // by ours (measured: 0.29992 s), hence the small allowance.
  EXPECT_GE(seconds_between(start, Clock::now()), 0.29);
}

TEST_F(FetcherTest, RobotsDisallowIsRecordedPerUrl) {
  route_text("/robots.txt", "User-agent: *\nDisallow: /private\n");
  route_text("/public/1", "one");
  route_text("/public/2", "two");
  route_text("/private/secret", "secret");
  FetchOptions options = quick_options();
  options.respect_robots = true;
  HttpFetcher fetcher(options);
  const auto results =
      fetcher.fetch_all({{url("/public/1")}, {url("/private/secret")}, {url("/public/2")}});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].body, "one");
  EXPECT_EQ(results[1].error, "disallowed by robots.txt");
  EXPECT_EQ(results[1].attempts, 0);
  EXPECT_EQ(results[2].body, "two");
  EXPECT_TRUE(seen("/private/secret").empty());

  // The rules are kept for the fetcher's life: robots.txt is fetched once.
  EXPECT_FALSE(fetcher.fetch({url("/private/secret")}).ok());
  EXPECT_TRUE(fetcher.fetch({url("/public/1")}).ok());
  EXPECT_EQ(seen("/robots.txt").size(), 1u);
}

TEST_F(FetcherTest, MissingOrFailingRobotsTxtAllowsEverything) {
  route_text("/page", "fine");
  FetchOptions options = quick_options();
  options.respect_robots = true;
  EXPECT_TRUE(HttpFetcher(options).fetch({url("/page")}).ok());  // robots.txt: 404
  route("/robots.txt", [](const HttpRequest&) { return HttpResponse::text(503, "down"); });
  EXPECT_TRUE(HttpFetcher(options).fetch({url("/page")}).ok());  // robots.txt: 503
  EXPECT_EQ(seen("/robots.txt").size(), 2u);                     // not retried
}

TEST_F(FetcherTest, RobotsCrawlDelaySpacesRequests) {
  route_text("/robots.txt", "User-agent: *\nCrawl-delay: 0.5\n");
  route_text("/a", "a");
  route_text("/b", "b");
  route_text("/c", "c");
  FetchOptions options = quick_options();
  options.respect_robots = true;
  const auto start = Clock::now();
  const auto results = HttpFetcher(options).fetch_all({{url("/a")}, {url("/b")}, {url("/c")}});
  for (const FetchResult& result : results) EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_GE(seconds_between(start, Clock::now()), 1.0);  // three starts, 0.5 s apart
}

TEST_F(FetcherTest, RateLimitSpacesRequestsToOneHost) {
  route_text("/p", "page");
  FetchOptions options = quick_options();
  options.max_requests_per_second_per_host = 4;
  std::vector<FetchRequest> requests(5, FetchRequest{url("/p")});
  const auto start = Clock::now();
  const auto results = HttpFetcher(options).fetch_all(requests);
  for (const FetchResult& result : results) EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_GE(seconds_between(start, Clock::now()), 1.0);
  const auto arrivals = seen("/p");
  ASSERT_EQ(arrivals.size(), 5u);
  // Starts are 250 ms apart, 1 s from first to last. Arrivals jitter (the
  // first one also opens the connection), so ask for three intervals: without
  // the limit all five arrive within milliseconds.
  EXPECT_GE(seconds_between(arrivals.front().at, arrivals.back().at), 0.75);
}

TEST_F(FetcherTest, RunsRequestsConcurrentlyAndOneBadUrlHarmsNoOther) {
  std::atomic<int> in_flight{0}, peak{0};
  HttpServerOptions server_options;
  server_options.threads = 16;  // the handler blocks on purpose, to be counted
  HttpServer slow_site(
      [&](const HttpRequest&) {
        const int now = ++in_flight;
        int seen_peak = peak;
        while (now > seen_peak && !peak.compare_exchange_weak(seen_peak, now)) {
        }
        std::this_thread::sleep_for(300ms);
        --in_flight;
        return HttpResponse::text(200, "slow page");
      },
      server_options);
  slow_site.start();

  std::vector<FetchRequest> requests;
  for (int i = 0; i < 16; ++i) requests.push_back({slow_site.base_url() + "/" + std::to_string(i)});
  requests.push_back({url("/missing")});
  requests.push_back({"this is not a url"});
  requests.push_back({"ftp://example.com/file"});
  requests.push_back({"file:///nonexistent/twinflow/file.html"});

  FetchOptions options = quick_options();
  options.concurrency = 16;
  std::vector<size_t> done_order;
  const auto caller = std::this_thread::get_id();
  const auto results =
      HttpFetcher(options).fetch_all(requests, [&](size_t index, const FetchResult&) {
        EXPECT_EQ(std::this_thread::get_id(), caller);
        done_order.push_back(index);
      });

  ASSERT_EQ(results.size(), requests.size());
  for (int i = 0; i < 16; ++i) EXPECT_EQ(results[i].body, "slow page") << results[i].error;
  EXPECT_GE(peak.load(), 8) << "requests did not overlap";
  EXPECT_EQ(results[16].error, "HTTP 404");
  EXPECT_EQ(results[17].error, "malformed URL");
  EXPECT_EQ(results[18].error, "unsupported URL scheme 'ftp' (http, https and file only)");
  EXPECT_EQ(results[19].error, "cannot read file");
  std::sort(done_order.begin(), done_order.end());
  EXPECT_EQ(done_order.size(), requests.size());
  EXPECT_EQ(std::unique(done_order.begin(), done_order.end()), done_order.end());
}

TEST_F(FetcherTest, ConnectionRefusedIsRetriedThenReported) {
  HttpServer closed([](const HttpRequest&) { return HttpResponse::text(200, ""); });
  closed.start();
  const std::string dead_url = closed.base_url() + "/";
  closed.stop();
  FetchOptions options = quick_options();
  options.max_retries = 1;
  const FetchResult result = HttpFetcher(options).fetch({dead_url});
  EXPECT_EQ(result.error,
            "could not connect to 127.0.0.1 (refused or unreachable) (after 2 attempts)");
  EXPECT_EQ(result.attempts, 2);
}

TEST_F(FetcherTest, FetchesFileUrls) {
  const std::string path =
      testing::TempDir() + "twinflow_fetch_" + std::to_string(getpid()) + ".html";
  std::ofstream(path) << "<p>local</p>";
  const FetchResult result = HttpFetcher(FetchOptions{}).fetch({"file://" + path});
  std::filesystem::remove(path);
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.body, "<p>local</p>");
  EXPECT_EQ(result.http_status, 0);
}

TEST_F(FetcherTest, SendsHeadersButNeverLeaksThem) {
  route_text("/robots.txt", "User-agent: *\nAllow: /\n");
  FetchOptions options = quick_options();
  options.respect_robots = true;
  const FetchResult result =
      HttpFetcher(options).fetch({url("/members"), {}, {}, {"Cookie: session=SECRET123"}});
  EXPECT_EQ(result.error, "HTTP 404");
  EXPECT_EQ(result.error.find("SECRET123"), std::string::npos);
  EXPECT_EQ(seen("/members").at(0).request.header("cookie"), "session=SECRET123");
  EXPECT_EQ(seen("/robots.txt").at(0).request.header("cookie"), "");  // robots.txt gets none
}

TEST(HttpFetcherOptions, RejectsImpossibleOptions) {
  FetchOptions options;
  options.concurrency = 0;
  EXPECT_THROW(HttpFetcher{options}, Error);
  options = {};
  options.max_requests_per_second_per_host = -1;
  EXPECT_THROW(HttpFetcher{options}, Error);
}

TEST(HostRateLimiter, SpacesReservationsPerHost) {
  HostRateLimiter limiter(4);
  const Clock::time_point t0{};
  EXPECT_EQ(limiter.reserve("a", t0), t0);
  EXPECT_EQ(limiter.reserve("a", t0), t0 + 250ms);
  EXPECT_EQ(limiter.reserve("a", t0 + 100ms), t0 + 500ms);
  EXPECT_EQ(limiter.reserve("b", t0 + 100ms), t0 + 100ms);  // hosts are independent
  EXPECT_EQ(limiter.reserve("a", t0 + 2s), t0 + 2s);        // a quiet host starts at once
}

TEST(HostRateLimiter, ZeroMeansUnlimited) {
  HostRateLimiter limiter(0);
  const Clock::time_point t0{};
  EXPECT_EQ(limiter.reserve("a", t0), t0);
  EXPECT_EQ(limiter.reserve("a", t0), t0);
}

TEST(HostRateLimiter, RequiredIntervalOnlyLengthens) {
  HostRateLimiter limiter(4);
  limiter.require_interval("a", 2s);
  limiter.require_interval("a", 1s);
  EXPECT_EQ(limiter.interval_for("a"), Clock::duration(2s));
  EXPECT_EQ(limiter.interval_for("b"), Clock::duration(250ms));
  EXPECT_THROW(HostRateLimiter(-1), Error);
}

}  // namespace
}  // namespace twinflow
