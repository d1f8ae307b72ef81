// The crawl step at the sizes of issue 18: one crawl of N links and a feed
// of N entries, every page a real document in PostgreSQL, fetched
// from a real HTTP server on 127.0.0.1 by a real `twinflow step crawl`
// subprocess. The next crawl of the unchanged feed fetches nothing: the
// feed answers 304 and its N entries are known (per-source state).
//
// Both are N = TWINFLOW_CRAWL_SCALE entries: 2,000 by default (CI), 20,000
// from scripts/scale.sh (a few minutes: 60,000 page fetches and 40,000
// documents written).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>

#include "http/http_server.h"
#include "store/feature_store.h"
#include "store/run_ledger.h"
#include "tests/support/twinflow_fixture.h"

namespace twinflow {
namespace {

int scale() {
  const char* n = std::getenv("TWINFLOW_CRAWL_SCALE");
  return n && std::atoi(n) > 0 ? std::atoi(n) : 2000;
}

HttpResponse page(const std::string& name) {
  return HttpResponse::text(200, "<html><head><title>Post " + name +
                                     "</title></head><body><article><p>The text of post " + name +
                                     ", about chunking and retrieval.</p></article></body></html>")
      .header("Content-Type", "text/html");
}

std::string feed_of(int entries) {
  std::string xml =
      "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>Big blog</title>\n";
  for (int i = 0; i < entries; ++i)
    xml += "<item><title>Post f" + std::to_string(i) + "</title><link>/f/" + std::to_string(i) +
           "</link><guid>f" + std::to_string(i) + "</guid></item>\n";
  return xml + "</channel></rss>\n";
}

class CrawlScaleTest : public TwinflowTest {};

TEST_F(CrawlScaleTest, ManyLinksAndAFeedOfManyEntriesAreAllCrawledAndTheFeedRecheckedWith304) {
  const int n = scale();
  const std::string feed = feed_of(n);
  std::atomic<int> page_fetches{0}, feed_not_modified{0};
  HttpServer server([&](const HttpRequest& request) {
    if (request.path == "/feed.xml") {
      if (request.header("if-none-match") == "\"v1\"") {
        ++feed_not_modified;
        return HttpResponse::text(304, "");
      }
      return HttpResponse::text(200, feed)
          .header("Content-Type", "application/rss+xml")
          .header("ETag", "\"v1\"");
    }
    if (request.path.starts_with("/p/") || request.path.starts_with("/f/")) {
      ++page_fetches;
      return page(request.path.substr(1));
    }
    return HttpResponse::text(404, "");
  });
  server.start();
  std::string dag =
      "name: big_crawl\nsteps:\n  - id: crawl\n    type: crawl\n    params:\n"
      "      author: tester\n      retries: 0\n      concurrency: 16\n"
      "      requests_per_second: 0\n      feeds: [\"" +
      server.base_url() + "/feed.xml\"]\n      links:\n";
  for (int i = 0; i < n; ++i)
    dag += "        - " + server.base_url() + "/p/" + std::to_string(i) + "\n";
  dag += "    outputs: [{name: documents, artifact: big_documents}]\n";
  const std::string file = write_dag("big_crawl", dag);

  auto first = execute(prepare_fresh_run(load(file)));
  ASSERT_EQ(first.status, "succeeded")
      << read_file(home / "logs" / std::to_string(first.run_id) / "crawl.1.log");
  EXPECT_EQ(page_fetches.load(), 2 * n);
  EXPECT_EQ(metric(first.run_id, "discovered_new"), n);
  EXPECT_EQ(metric(first.run_id, "pages_new"), 2 * n);
  EXPECT_EQ(store->features().latest_documents("tester").size(), static_cast<size_t>(2 * n));

  // Nothing changed: the feed answers 304, no page of it is fetched again.
  page_fetches = 0;
  auto second = execute(prepare_fresh_run(load(file)));
  ASSERT_EQ(second.status, "succeeded")
      << read_file(home / "logs" / std::to_string(second.run_id) / "crawl.1.log");
  EXPECT_EQ(feed_not_modified.load(), 1);
  EXPECT_EQ(metric(second.run_id, "discovered_new"), 0);
  EXPECT_EQ(page_fetches.load(), n) << "only the links given in the DAG are re-checked";
  EXPECT_EQ(store->features().latest_documents("tester").size(), static_cast<size_t>(2 * n));
}

}  // namespace
}  // namespace twinflow
