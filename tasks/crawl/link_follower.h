// LinkFollower: discovery by following links from archive and profile pages
// (`follow: {start, match, max_depth, max_pages}` of the crawl step), bounded.
//
// Pure: the caller fetches the pages it asks for and hands their HTML back.
// From the `start` pages it reads every <a href>; a link on the same host
// (and port) as its start page whose "host[:port]/path" (or, for a pattern
// starting with '/', whose path) matches one of the `match` globs is an entry
// (a post to crawl, not fetched here); any other same-host link is a listing
// page to read in turn, one level deeper. Reading stops at `max_depth` levels
// below the start pages and after `max_pages` pages, so a calendar-style trap
// (each month's archive linking to the next, forever) ends at the caps, named
// in `truncation()`.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace twinflow {

struct FollowSpec {
  std::vector<std::string> start;
  std::vector<std::string> match;  // `*` globs; see the header comment
  int max_depth = 2;               // levels of links followed below the start pages
  size_t max_pages = 100;          // listing pages read at most
  size_t max_entries = 50000;
};

// Absolute http(s) links of <a href> in a page, fragments dropped, in page
// order, each once. `html` is raw bytes (any charset the extractor reads).
std::vector<std::string> extract_links(std::string_view html, const std::string& page_url);

// Whether `url` matches a follow glob (see the header comment).
bool follow_pattern_matches(const std::string& pattern, const std::string& url);

class LinkFollower {
 public:
  explicit LinkFollower(FollowSpec spec);

  // The listing pages to read now; empty when following is over.
  std::vector<std::string> next_pages();
  // The HTML of a page handed out by next_pages().
  void add_page(const std::string& url, std::string_view html);
  // A page that could not be fetched.
  void fail(const std::string& url, const std::string& reason);

  const std::vector<std::string>& entries() const { return entries_; }
  const std::string& truncation() const { return truncation_; }
  const std::string& errors() const { return errors_; }
  size_t pages_read() const { return pages_read_; }

 private:
  static void note(std::string& where, const std::string& what);
  bool is_entry(const std::string& url) const;

  FollowSpec spec_;
  std::vector<std::pair<std::string, int>> queue_;  // page, depth
  std::map<std::string, std::string> origin_of_;    // page -> host[:port] of its start page
  std::set<std::string> queued_, entry_set_;
  std::vector<std::string> entries_;
  std::string truncation_, errors_;
  size_t pages_read_ = 0, handed_out_ = 0;
  size_t beyond_depth_ = 0;
  std::map<std::string, int> depth_batch_;  // depth of the pages handed out last
};

}  // namespace twinflow
