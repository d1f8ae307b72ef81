// Crawl throughput: HttpFetcher fetching N small HTML pages (~20 KB each)
// from a loopback HttpServer with 16 transfers in flight and no rate limit
// (target: at least 300 pages/s), then the server alone: requests/s for a
// plain keep-alive GET loop on one connection, and for tiny pages fetched 16
// at a time.
//
// N = 2,000 pages; TWINFLOW_BENCH_SMALL=1 (CI) fetches 200.
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "http/http_server.h"
#include "tasks/crawl/http_fetcher.h"
#include "util/duration.h"

using namespace twinflow;
using Clock = std::chrono::steady_clock;

namespace {

// A plausible article page of about `bytes` bytes.
std::string html_page(size_t bytes) {
  std::string page =
      "<!doctype html><html><head><title>Bench article</title></head><body><article>";
  const std::string paragraph =
      "<p>Twinflow crawls posts and articles, cleans them, chunks them and embeds them, so that "
      "the twin can answer in its author's voice. This paragraph stands in for one of them.</p>\n";
  while (page.size() + paragraph.size() < bytes) page += paragraph;
  return page + "</article></body></html>";
}

std::vector<FetchRequest> page_requests(const HttpServer& server, int count) {
  std::vector<FetchRequest> requests;
  requests.reserve(count);
  for (int i = 0; i < count; ++i) {
    requests.push_back({server.base_url() + "/posts/" + std::to_string(i) + ".html"});
  }
  return requests;
}

FetchOptions crawl_options() {
  FetchOptions options;
  options.concurrency = 16;
  options.max_requests_per_second_per_host = 0;
  return options;
}

void bench_crawl(const HttpServer& server, int pages) {
  HttpFetcher fetcher(crawl_options());
  const auto requests = page_requests(server, pages);
  const auto start = Clock::now();
  const auto results = fetcher.fetch_all(requests);
  const double seconds = seconds_since(start);
  size_t bytes = 0, failures = 0;
  for (const FetchResult& result : results) {
    bytes += result.body.size();
    failures += result.ok() ? 0 : 1;
  }
  std::printf(
      "crawl: %d pages of ~20 KB, 16 connections: %.2f s, %.0f pages/s, %.1f MB/s, %zu failed\n",
      pages, seconds, pages / seconds, bytes / seconds / (1 << 20), failures);
}

size_t discard(char*, size_t, size_t size, void*) {
  return size;
}

void bench_server_sequential(const HttpServer& server, int requests) {
  CURL* curl = curl_easy_init();
  const std::string url = server.base_url() + "/tiny";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &discard);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  int failures = 0;
  const auto start = Clock::now();
  for (int i = 0; i < requests; ++i) failures += curl_easy_perform(curl) == CURLE_OK ? 0 : 1;
  const double seconds = seconds_since(start);
  curl_easy_cleanup(curl);
  std::printf("server: %d tiny GETs on one keep-alive connection: %.0f requests/s, %d failed\n",
              requests, requests / seconds, failures);
}

void bench_server_concurrent(const HttpServer& server, int requests) {
  HttpFetcher fetcher(crawl_options());
  std::vector<FetchRequest> tiny(requests, FetchRequest{server.base_url() + "/tiny"});
  const auto start = Clock::now();
  const auto results = fetcher.fetch_all(tiny);
  const double seconds = seconds_since(start);
  size_t failures = 0;
  for (const FetchResult& result : results) failures += result.ok() ? 0 : 1;
  std::printf("server: %d tiny GETs, 16 at a time: %.0f requests/s, %zu failed\n", requests,
              requests / seconds, failures);
}

}  // namespace

int main() {
  const bool small = std::getenv("TWINFLOW_BENCH_SMALL") != nullptr;
  const int pages = small ? 200 : 2000;
  const std::string page = html_page(20 << 10);
  HttpServer server([&page](const HttpRequest& request) {
    if (request.path == "/tiny") return HttpResponse::text(200, "ok");
    if (request.path.rfind("/posts/", 0) != 0) return HttpResponse::text(404, "not found");
    return HttpResponse::text(200, page).header("Content-Type", "text/html; charset=utf-8");
  });
  server.start();
  bench_crawl(server, pages);
  bench_server_sequential(server, small ? 500 : 5000);
  bench_server_concurrent(server, small ? 500 : 5000);
  return 0;
}
