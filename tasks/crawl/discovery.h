// Discovery: which pages a crawl should fetch, from an author's feeds,
// sitemaps and archive pages (the crawl step's `feeds`, `sitemaps` and
// `follow` params), remembering per source what it listed before.
//
// For each source it fetches the feed or sitemap files with conditional GET
// (the validators stored for the source), parses them (feed_parser.h,
// sitemap.h) or follows links (link_follower.h), records what they list in
// the crawl_sources tables (store.h) and returns the entries to crawl: new
// ones, ones whose `updated` / `lastmod` changed, and ones whose last crawl
// failed. A source that cannot be read, or was cut at a limit, says so in its
// result; other sources are unaffected. After crawling, the caller reports
// which entries were crawled with mark_crawled().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/feature_store.h"
#include "tasks/crawl/http_fetcher.h"
#include "tasks/crawl/link_follower.h"

namespace twinflow {

struct DiscoverySource {
  std::string kind;  // feed, sitemap, follow
  std::string url;   // the feed, the root sitemap, or the first start page (the source's name)
  FollowSpec follow{};
};

struct DiscoveryOptions {
  FetchOptions fetch;                         // max_body_bytes is replaced by max_file_bytes
  size_t max_file_bytes = 50u * 1024 * 1024;  // per feed or sitemap file, uncompressed
  size_t max_entries = 50000;                 // per source
  int max_sitemap_depth = 2;                  // nested sitemap indexes tolerated
  size_t max_sitemap_files = 1000;            // per source
  int64_t step_run_id = 0;
};

struct SourceResult {
  std::string kind, url;
  int64_t source_id = 0;
  std::string status;                 // ok, not_modified, truncated, failed
  std::string reason;                 // why failed or truncated ("" otherwise)
  int64_t discovered = 0;             // entries listed by what was read now (a 304 lists none)
  int64_t discovered_new = 0;         // never listed before
  int64_t discovered_changed = 0;     // listed before with another updated / lastmod
  std::vector<std::string> to_crawl;  // new, changed, or failed last time
};

class Discovery {
 public:
  Discovery(FeatureStore features, std::string author, DiscoveryOptions options);

  // Never throws for what the source serves; throws Error when the database refuses.
  SourceResult discover(const DiscoverySource& source);
  // Records the source's entries in `crawled` as crawled, and the check.
  void finish(const SourceResult& result, const std::vector<std::string>& crawled);

 private:
  void discover_feed(SourceResult& result);
  void discover_sitemap(SourceResult& result);
  void discover_follow(const DiscoverySource& source, SourceResult& result);
  // Fetches with the stored validators; saves the new ones only via save_validators.
  FetchResult fetch_file(int64_t source_id, const std::string& url);
  void record(SourceResult& result,
              const std::vector<std::pair<std::string, std::string>>& entries);

  FeatureStore features_;
  std::string author_;
  DiscoveryOptions options_;
  HttpFetcher fetcher_;
};

}  // namespace twinflow
