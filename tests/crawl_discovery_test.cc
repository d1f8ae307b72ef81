// The crawl step's discovery (feeds, sitemaps, followed links) end to end:
// real `twinflow step crawl` subprocesses against a real HTTP server on
// 127.0.0.1 and a real PostgreSQL. A second crawl of the sample's feeds after
// one post was added fetches only that post (the unchanged feeds and sitemaps
// answer 304); hostile sources each fail or are truncated with their reason
// while the others are crawled.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <pqxx/pqxx>
#include <utility>

#include "http/http_server.h"
#include "http/static_files.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "store/feature_store.h"
#include "store/run_ledger.h"
#include "tests/support/twinflow_fixture.h"

namespace twinflow {
namespace {
namespace fs = std::filesystem;

const fs::path kSource = TWINFLOW_SOURCE_DIR;

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// A server over a handler that records (path, status) of every response.
class RecordingServer {
 public:
  explicit RecordingServer(HttpHandler handler)
      : handler_(std::move(handler)), server_([this](const HttpRequest& request) {
          HttpResponse response = handler_(request);
          std::lock_guard lock(mutex_);
          seen_.push_back({request.path, response.status});
          return response;
        }) {
    server_.start();
  }
  std::string url(const std::string& path) const { return server_.base_url() + path; }
  std::vector<std::pair<std::string, int>> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(seen_, {});
  }

 private:
  HttpHandler handler_;
  std::mutex mutex_;
  std::vector<std::pair<std::string, int>> seen_;
  HttpServer server_;
};

class CrawlDiscoveryTest : public TwinflowTest {
 protected:
  std::string log_of(int64_t run_id) {
    return read_file(home / "logs" / std::to_string(run_id) / "crawl.1.log");
  }
  Outcome crawl(const std::string& dag) { return execute(prepare_fresh_run(load(dag))); }
};

TEST_F(CrawlDiscoveryTest, SecondCrawlFetchesOnlyTheNewPostAndGets304sForTheRest) {
  // A copy of the sample site, so that a post can be added.
  const fs::path site = home / "site";
  fs::copy(kSource / "sample" / "site", site, fs::copy_options::recursive);
  RecordingServer server(static_files_handler(site));
  const std::string dag =
      write_dag("feeds", R"(name: feeds
steps:
  - id: crawl
    type: crawl
    params:
      author: Ines Calloway
      requests_per_second: 0
      feeds: [")" + server.url("/medium/feed.xml") +
                             R"(", ")" + server.url("/substack/feed.xml") + R"(", ")" +
                             server.url("/linkedin/atom.xml") + R"("]
      sitemaps: [")" + server.url("/sitemap.xml") +
                             R"("]
      rules:
        - {match: "127.0.0.1:*/medium/*", platform: medium}
        - {match: "127.0.0.1:*/substack/*", platform: substack}
        - {match: "127.0.0.1:*/linkedin/*", platform: linkedin}
    outputs:
      - {name: documents, artifact: raw_documents, type: manifest}
)");

  auto first = crawl(dag);
  ASSERT_EQ(first.status, "succeeded") << log_of(first.run_id);
  EXPECT_EQ(metric(first.run_id, "links"), 30);
  EXPECT_EQ(metric(first.run_id, "pages_new"), 30);
  EXPECT_EQ(metric(first.run_id, "discovered_new"), 60);  // the feeds' 30 and the sitemap's 30
  EXPECT_EQ(metric(first.run_id, "discovered_new:feed:" + server.url("/medium/feed.xml")), 5);
  EXPECT_EQ(metric(first.run_id, "discovered:sitemap:" + server.url("/sitemap.xml")), 30);
  EXPECT_EQ(store->features().latest_documents("Ines Calloway").size(), 30u);
  for (const auto& d : store->features().latest_documents("Ines Calloway"))
    EXPECT_EQ(d.url.find('?'), std::string::npos) << "tracking parameters kept: " << d.url;
  server.take();

  // A new post: its page and an entry at the top of the Medium feed.
  std::string page = read_file(site / "medium" / "chunking-for-rag.html");
  page = replace_once(
      page, "Every retrieval-augmented generation system",
      "A brand new post about weekly crawls. Every retrieval-augmented generation system");
  std::ofstream(site / "medium" / "weekly-crawls.html") << page;
  const std::string feed = read_file(site / "medium" / "feed.xml");
  std::ofstream(site / "medium" / "feed.xml")
      << replace_once(feed, "  <item>",
                      "  <item>\n    <title>Weekly crawls</title>\n"
                      "    <link>/medium/weekly-crawls.html?source=rss-5f3a9c1e2b7d------2</link>\n"
                      "    <pubDate>Mon, 06 Jan 2025 09:00:00 GMT</pubDate>\n  </item>\n  <item>");

  auto second = crawl(dag);
  ASSERT_EQ(second.status, "succeeded") << log_of(second.run_id);
  EXPECT_EQ(metric(second.run_id, "discovered_new"), 1);
  EXPECT_EQ(metric(second.run_id, "discovered_new:feed:" + server.url("/medium/feed.xml")), 1);
  EXPECT_EQ(metric(second.run_id, "discovered:feed:" + server.url("/medium/feed.xml")), 6);
  EXPECT_EQ(metric(second.run_id, "discovered:feed:" + server.url("/substack/feed.xml")), 0);
  EXPECT_EQ(metric(second.run_id, "links"), 1);
  EXPECT_EQ(metric(second.run_id, "pages_new"), 1);
  std::map<std::string, int> status_of;
  int page_fetches = 0;
  for (const auto& [path, status] : server.take()) {
    status_of[path] = status;
    if (path.size() > 5 && path.compare(path.size() - 5, 5, ".html") == 0) ++page_fetches;
  }
  EXPECT_EQ(page_fetches, 1) << "only the new post is fetched";
  EXPECT_EQ(status_of["/medium/weekly-crawls.html"], 200);
  EXPECT_EQ(status_of["/medium/feed.xml"], 200);
  for (const char* unchanged :
       {"/substack/feed.xml", "/linkedin/atom.xml", "/sitemap-articles.xml", "/sitemap-posts.xml"})
    EXPECT_EQ(status_of[unchanged], 304) << unchanged;
  EXPECT_EQ(status_of["/sitemap.xml"], 200);  // an index is always read, its sitemaps are not
  EXPECT_EQ(store->features().latest_documents("Ines Calloway").size(), 31u);

  // The manifest lists every document of the sources, not only this run's.
  auto versions = store->runs().artifact_versions("raw_documents");
  ASSERT_EQ(versions.size(), 2u);
  const auto newest =
      std::max_element(versions.begin(), versions.end(),
                       [](const auto& a, const auto& b) { return a.version < b.version; });
  const auto manifest = nlohmann::json::parse(read_file(newest->uri));
  EXPECT_EQ(manifest["documents"].size(), 31u);

  // Nothing changed: every source answers 304, nothing is fetched, same manifest.
  auto third = crawl(dag);
  ASSERT_EQ(third.status, "succeeded") << log_of(third.run_id);
  EXPECT_EQ(metric(third.run_id, "discovered_new"), 0);
  EXPECT_EQ(metric(third.run_id, "links"), 0);
  for (const auto& [path, status] : server.take())
    if (path != "/robots.txt" && path != "/sitemap.xml") {
      EXPECT_EQ(status, 304) << path;
    }
  EXPECT_EQ(store->runs().artifact_versions("raw_documents").size(), 2u);
}

TEST_F(CrawlDiscoveryTest, AnEntryWhoseUpdatedDateChangedIsCrawledAgain) {
  const fs::path site = home / "site";
  fs::copy(kSource / "sample" / "site", site, fs::copy_options::recursive);
  RecordingServer server(static_files_handler(site));
  const std::string dag = write_dag("atom", R"(name: atom
steps:
  - id: crawl
    type: crawl
    params:
      author: Ines Calloway
      requests_per_second: 0
      feeds: [")" + server.url("/linkedin/atom.xml") +
                                                R"("]
      rules: [{match: "127.0.0.1:*/linkedin/*", platform: linkedin}]
)");
  ASSERT_EQ(crawl(dag).status, "succeeded");
  server.take();
  // data-contracts.html is edited and its entry's <updated> moves on.
  const std::string atom = read_file(site / "linkedin" / "atom.xml");
  const size_t entry = atom.find("href=\"data-contracts.html\"");
  ASSERT_NE(entry, std::string::npos);
  const size_t updated = atom.find("<updated>", entry);
  std::string edited = atom;
  edited.replace(updated, std::string("<updated>2024-01-01T09:00:00Z</updated>").size(),
                 "<updated>2025-06-01T09:00:00Z</updated>");
  std::ofstream(site / "linkedin" / "atom.xml") << edited;
  auto second = crawl(dag);
  ASSERT_EQ(second.status, "succeeded") << log_of(second.run_id);
  EXPECT_EQ(metric(second.run_id, "discovered_new"), 0);
  EXPECT_EQ(metric(second.run_id, "discovered_changed"), 1);
  EXPECT_EQ(metric(second.run_id, "links"), 1);
  int pages = 0;
  for (const auto& [path, status] : server.take())
    if (path.find("/linkedin/") == 0 && path != "/linkedin/atom.xml") {
      ++pages;
      EXPECT_EQ(path, "/linkedin/data-contracts.html");
    }
  EXPECT_EQ(pages, 1);
}

std::string gzip_of(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string article(const std::string& title) {
  return "<!DOCTYPE html><html><head><title>" + title + "</title></head><body><article><h1>" +
         title + "</h1><p>This is the text of " + title +
         ", long enough to be an article paragraph that the extractor keeps.</p></article>"
         "</body></html>";
}

TEST_F(CrawlDiscoveryTest, HostileSourcesFailOrAreTruncatedWithTheirReasonsAndOthersGoOn) {
  std::string big_feed = "<rss version=\"2.0\"><channel><title>Big</title>";
  for (int i = 0; i < 100000; ++i)
    big_feed += "<item><link>/big/" + std::to_string(i) + "</link></item>";
  big_feed += "</channel></rss>";
  const std::string bomb = gzip_of(std::string(32u << 20, ' '));
  auto sitemap_index = [](const std::vector<std::string>& children) {
    std::string xml = "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">";
    for (const auto& c : children) xml += "<sitemap><loc>" + c + "</loc></sitemap>";
    return xml + "</sitemapindex>";
  };
  RecordingServer server([&](const HttpRequest& r) {
    auto xml = [](std::string body) {
      HttpResponse response = HttpResponse::text(200, std::move(body));
      response.header("Content-Type", "application/xml");
      return response;
    };
    if (r.path == "/robots.txt") return HttpResponse::text(404, "");
    if (r.path == "/html-feed") {
      HttpResponse response =
          HttpResponse::text(200, "<!DOCTYPE html><html><body>Blog</body></html>");
      response.header("Content-Type", "text/html");
      return response;
    }
    if (r.path == "/broken.xml") return xml("<rss><channel><item><link>/p/1</link></channel>");
    if (r.path == "/big.xml") return xml(big_feed);
    if (r.path == "/bomb.xml.gz") {
      HttpResponse response = HttpResponse::text(200, bomb);
      response.header("Content-Type", "application/gzip");
      return response;
    }
    if (r.path == "/loop.xml") return xml(sitemap_index({"/loop2.xml"}));
    if (r.path == "/loop2.xml") return xml(sitemap_index({"/loop.xml", "/urls.xml"}));
    if (r.path == "/urls.xml")
      return xml(
          "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
          "<url><loc>/p/1</loc></url><url><loc>/p/2</loc></url></urlset>");
    if (r.path.rfind("/archive/", 0) == 0) {
      const int month = std::stoi(r.path.substr(9));
      return HttpResponse::text(200, "<html><body><a href=\"/archive/" + std::to_string(month + 1) +
                                         "\">next</a><a href=\"/p/m" + std::to_string(month) +
                                         "\">post</a></body></html>")
          .header("Content-Type", "text/html");
    }
    if (r.path.rfind("/p/", 0) == 0 || r.path.rfind("/big/", 0) == 0)
      return HttpResponse::text(200, article("Post " + r.path)).header("Content-Type", "text/html");
    return HttpResponse::text(404, "no\n");
  });
  const std::string dag =
      write_dag("hostile", R"(name: hostile
steps:
  - id: crawl
    type: crawl
    params:
      author: A
      requests_per_second: 0
      max_failure_ratio: 0.9
      max_entries: 20
      max_feed_bytes: 8388608
      feeds: [")" + server.url("/html-feed") +
                               R"(", ")" + server.url("/broken.xml") + R"(", ")" +
                               server.url("/big.xml") + R"(", ")" + server.url("/missing.xml") +
                               R"("]
      sitemaps: [")" + server.url("/bomb.xml.gz") +
                               R"(", ")" + server.url("/loop.xml") + R"("]
      follow: {start: [")" + server.url("/archive/0") +
                               R"("], match: ["/p/*"], max_depth: 3, max_pages: 100}
    outputs:
      - {name: documents, artifact: raw, type: manifest}
)");
  auto run = crawl(dag);
  ASSERT_EQ(run.status, "succeeded") << log_of(run.run_id);
  const auto manifest =
      nlohmann::json::parse(read_file(store->runs().artifact_versions("raw").back().uri));
  std::map<std::string, nlohmann::json> sources;
  for (const auto& s : manifest["sources"]) sources[s["url"]] = s;
  ASSERT_EQ(sources.size(), 7u) << manifest["sources"].dump(2);
  EXPECT_EQ(sources[server.url("/html-feed")]["reason"], "an HTML page, not a feed");
  EXPECT_NE(sources[server.url("/broken.xml")]["reason"].get<std::string>().find("malformed XML"),
            std::string::npos);
  EXPECT_EQ(sources[server.url("/big.xml")]["status"], "truncated");
  EXPECT_EQ(sources[server.url("/big.xml")]["reason"],
            "the feed lists 100000 entries; the first 20 were kept (max_entries)");
  EXPECT_EQ(sources[server.url("/missing.xml")]["reason"], "HTTP 404");
  EXPECT_EQ(sources[server.url("/bomb.xml.gz")]["status"], "failed");
  EXPECT_NE(sources[server.url("/bomb.xml.gz")]["reason"].get<std::string>().find("a gzip bomb?"),
            std::string::npos);
  EXPECT_EQ(sources[server.url("/loop.xml")]["status"], "truncated");
  EXPECT_NE(sources[server.url("/loop.xml")]["reason"].get<std::string>().find("loops"),
            std::string::npos);
  EXPECT_EQ(sources[server.url("/archive/0")]["status"], "truncated");
  EXPECT_NE(sources[server.url("/archive/0")]["reason"].get<std::string>().find(
                "deeper than max_depth 3"),
            std::string::npos);
  EXPECT_EQ(metric(run.run_id, "sources_failed"), 4);
  EXPECT_EQ(metric(run.run_id, "sources_truncated"), 3);
  // 20 of the big feed, 2 of the sitemap, 4 months of posts: all crawled.
  EXPECT_EQ(metric(run.run_id, "links"), 26);
  EXPECT_EQ(metric(run.run_id, "pages_new"), 26);
  // The state says the same, for the dashboard and the next run.
  pqxx::connection c(conninfo);
  pqxx::nontransaction tx(c);
  EXPECT_EQ(
      tx.exec1("SELECT count(*) FROM crawl_sources WHERE last_status = 'failed'")[0].as<int>(), 4);
}

TEST_F(CrawlDiscoveryTest, BadDiscoveryParamsAreOneClearError) {
  const std::string dag = write_dag("bad", R"(name: bad
steps:
  - id: crawl
    type: crawl
    params:
      author: A
      feeds: ["ftp://x.example/feed"]
)");
  auto run = crawl(dag);
  EXPECT_EQ(run.status, "failed");
  EXPECT_NE(log_of(run.run_id).find("each of 'feeds' must be an http(s) URL"), std::string::npos)
      << log_of(run.run_id);
}

}  // namespace
}  // namespace twinflow
