// parse_feed: the entries of an RSS 2.0, RSS 1.0 (RDF) or Atom feed.
//
// Pure: bytes in, entries out; the crawl step does the fetching (discovery.h).
// Medium (`/feed/@user`), Substack (`/feed`) and most blogs publish RSS 2.0;
// others Atom. Each entry gives the URL of the post (Atom's alternate link,
// RSS's <link> or a permalink <guid>, resolved against xml:base and the feed's
// URL, tracking parameters such as utm_* and Medium's `source=rss...`
// dropped), its title, and its dates as ISO-8601 (tasks/extract/date.h).
// `stamp` is what tells a changed entry: the updated date when the feed gives
// one, else the published date.
//
// Hostile input is a result, never a crash: malformed XML, an HTML page
// served as the feed, entity declarations (refused), a gzip body past the cap
// and a feed with more than `max_entries` entries (truncated, with the reason)
// are all reported in `error` / `truncation`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace twinflow {

struct FeedEntry {
  std::string url;  // absolute
  std::string id;   // <guid> / <id>, or the URL when absent
  std::string title;
  std::string published;  // ISO-8601, "" when absent or unreadable
  std::string updated;    // ISO-8601, "" when absent or unreadable
  std::string stamp() const { return updated.empty() ? published : updated; }
};

struct FeedLimits {
  size_t max_entries = 50000;            // more: the first ones are kept, `truncation` says so
  size_t max_bytes = 50u * 1024 * 1024;  // decoded (after gunzip) size of the document
};

struct ParsedFeed {
  std::string format;  // "rss", "rdf" or "atom"
  std::string title;
  std::vector<FeedEntry> entries;  // in feed order, one per URL
  size_t entries_total = 0;        // entries in the document
  size_t entries_without_link = 0;
  std::string error;       // the feed is unusable: why (nothing in `entries`)
  std::string truncation;  // some entries were dropped: why
  bool ok() const { return error.empty(); }
};

ParsedFeed parse_feed(std::string_view bytes, const std::string& feed_url,
                      const FeedLimits& limits = {});

// The URL without its fragment and without tracking query parameters
// (utm_*, and `source` when it starts with "rss", as Medium's feeds add).
std::string strip_tracking(const std::string& url);

}  // namespace twinflow
