// Discovery from feeds, sitemaps and followed links. See discovery.h.
#include "tasks/crawl/discovery.h"

#include <algorithm>

#include "store/feature_store.h"
#include "store/store.h"
#include "tasks/crawl/feed_parser.h"
#include "tasks/crawl/sitemap.h"

namespace twinflow {
namespace {

FetchOptions discovery_fetch_options(DiscoveryOptions options) {
  options.fetch.max_body_bytes = options.max_file_bytes;
  return options.fetch;
}

void add_reason(std::string& where, const std::string& what) {
  if (what.empty()) return;
  where += (where.empty() ? "" : "; ") + what;
}

}  // namespace

Discovery::Discovery(FeatureStore features, std::string author, DiscoveryOptions options)
    : features_(features),
      author_(std::move(author)),
      options_(std::move(options)),
      fetcher_(discovery_fetch_options(options_)) {}

SourceResult Discovery::discover(const DiscoverySource& source) {
  SourceResult result;
  result.kind = source.kind;
  result.url = source.url;
  result.source_id = features_.crawl_source_id(author_, source.kind, source.url);
  result.status = "ok";
  if (source.kind == "feed") {
    discover_feed(result);
  } else if (source.kind == "sitemap") {
    discover_sitemap(result);
  } else {
    discover_follow(source, result);
  }
  if (result.status != "failed")
    result.to_crawl = features_.source_entries_to_crawl(result.source_id,
                                                        static_cast<int64_t>(options_.max_entries));
  return result;
}

void Discovery::finish(const SourceResult& result, const std::vector<std::string>& crawled) {
  features_.mark_source_entries_crawled(result.source_id, crawled);
  features_.record_source_check(
      result.source_id, {result.status, result.reason, result.discovered, result.discovered_new},
      options_.step_run_id);
}

FetchResult Discovery::fetch_file(int64_t source_id, const std::string& url) {
  FetchRequest request{url};
  auto validators = features_.crawl_source_validators(source_id);
  if (auto it = validators.find(url); it != validators.end()) {
    request.etag = it->second.etag;
    request.last_modified = it->second.last_modified;
  }
  return fetcher_.fetch(request);
}

void Discovery::record(SourceResult& result,
                       const std::vector<std::pair<std::string, std::string>>& entries) {
  std::vector<FeatureStore::SourceEntry> listed;
  listed.reserve(entries.size());
  for (const auto& [url, stamp] : entries) listed.push_back({url, stamp});
  FeatureStore::SourceEntryCounts counts =
      features_.record_source_entries(result.source_id, listed);
  result.discovered += static_cast<int64_t>(entries.size());
  result.discovered_new += counts.added;
  result.discovered_changed += counts.changed;
}

void Discovery::discover_feed(SourceResult& result) {
  FetchResult fetched = fetch_file(result.source_id, result.url);
  if (!fetched.ok()) {
    result.status = "failed";
    result.reason = fetched.error;
    return;
  }
  if (fetched.not_modified) {
    result.status = "not_modified";
    return;
  }
  FeedLimits limits;
  limits.max_entries = options_.max_entries;
  limits.max_bytes = options_.max_file_bytes;
  ParsedFeed feed = parse_feed(fetched.body, result.url, limits);
  if (!feed.ok()) {
    result.status = "failed";
    result.reason = feed.error;
    return;
  }
  std::vector<std::pair<std::string, std::string>> entries;
  for (const FeedEntry& e : feed.entries) entries.emplace_back(e.url, e.stamp());
  record(result, entries);
  if (!feed.truncation.empty()) {
    result.status = "truncated";
    result.reason = feed.truncation;
  }
  features_.save_crawl_source_validators(result.source_id, result.url,
                                         {fetched.etag, fetched.last_modified});
}

void Discovery::discover_sitemap(SourceResult& result) {
  SitemapWalk walk(result.url, options_.max_sitemap_depth, options_.max_sitemap_files,
                   options_.max_entries);
  SitemapLimits limits;
  limits.max_bytes_per_file = options_.max_file_bytes;
  limits.max_entries_per_file = std::min<size_t>(50000, options_.max_entries);
  bool any_read = false, all_not_modified = true;
  // Saved once the entries are recorded: a crash in between refetches.
  std::vector<std::pair<std::string, HttpValidators>> validators;
  for (auto files = walk.next_files(); !files.empty(); files = walk.next_files()) {
    auto stored = features_.crawl_source_validators(result.source_id);
    std::vector<FetchRequest> requests;
    for (const std::string& file : files) {
      FetchRequest request{file};
      if (auto it = stored.find(file); it != stored.end()) {
        request.etag = it->second.etag;
        request.last_modified = it->second.last_modified;
      }
      requests.push_back(std::move(request));
    }
    std::vector<FetchResult> fetched = fetcher_.fetch_all(requests);
    for (size_t i = 0; i < files.size(); ++i) {
      const FetchResult& f = fetched[i];
      if (!f.ok()) {
        walk.fail(files[i], f.error);
        continue;
      }
      if (f.not_modified) {
        any_read = true;
        walk.add(files[i], nullptr);
        continue;
      }
      all_not_modified = false;
      ParsedSitemap parsed = parse_sitemap(f.body, files[i], limits);
      if (!parsed.ok()) {
        walk.fail(files[i], parsed.error);
        continue;
      }
      any_read = true;
      walk.add(files[i], &parsed);
      // An index is read in full every time (it is small, and a 304 would hide
      // the sitemaps it lists); the sitemaps themselves are fetched conditionally.
      validators.push_back(
          {files[i], parsed.is_index ? HttpValidators{} : HttpValidators{f.etag, f.last_modified}});
    }
  }
  std::vector<std::pair<std::string, std::string>> entries;
  for (const SitemapEntry& e : walk.urls()) entries.emplace_back(e.loc, e.lastmod);
  record(result, entries);
  for (const auto& [file, v] : validators)
    features_.save_crawl_source_validators(result.source_id, file, v);
  if (!any_read) {
    result.status = "failed";
    result.reason = walk.errors();
    return;
  }
  add_reason(result.reason, walk.truncation());
  add_reason(result.reason, walk.errors());
  if (!result.reason.empty()) {
    result.status = "truncated";
  } else if (all_not_modified) {
    result.status = "not_modified";
  }
}

void Discovery::discover_follow(const DiscoverySource& source, SourceResult& result) {
  FollowSpec spec = source.follow;
  spec.max_entries = std::min(spec.max_entries, options_.max_entries);
  LinkFollower follower(spec);
  for (auto pages = follower.next_pages(); !pages.empty(); pages = follower.next_pages()) {
    std::vector<FetchRequest> requests;
    for (const std::string& page : pages) requests.push_back(FetchRequest{page});
    std::vector<FetchResult> fetched = fetcher_.fetch_all(requests);
    for (size_t i = 0; i < pages.size(); ++i) {
      if (fetched[i].ok()) {
        follower.add_page(pages[i], fetched[i].body);
      } else {
        follower.fail(pages[i], fetched[i].error);
      }
    }
  }
  std::vector<std::pair<std::string, std::string>> entries;
  for (const std::string& url : follower.entries()) entries.emplace_back(url, "");
  record(result, entries);
  add_reason(result.reason, follower.truncation());
  add_reason(result.reason, follower.errors());
  if (follower.entries().empty() && !follower.errors().empty()) {
    result.status = "failed";
  } else if (!result.reason.empty()) {
    result.status = "truncated";
  }
}

}  // namespace twinflow
