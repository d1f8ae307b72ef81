// Sitemaps (sitemaps.org protocol): parse_sitemap reads one file, a <urlset>
// of pages or a <sitemapindex> of further sitemaps, gzip or plain;
// SitemapWalk decides which files to read next for one source and stops at
// the limits. Both are pure: the crawl step fetches (discovery.h).
//
// The protocol's limits hold per file: at most 50,000 <url> (or <sitemap>)
// entries and 50 MB uncompressed; a larger file is cut at the limit and the
// source is marked truncated. An index may only list sitemaps, not further
// indexes; twinflow tolerates `max_depth` levels of nesting (default 2) and
// refuses deeper ones, and reads no file twice, so an index that lists itself
// or loops through others ends with "loops" in the truncation reason.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace twinflow {

struct SitemapLimits {
  size_t max_entries_per_file = 50000;
  size_t max_bytes_per_file = 50u * 1024 * 1024;  // uncompressed
};

struct SitemapEntry {
  std::string loc;      // absolute URL
  std::string lastmod;  // ISO-8601, "" when absent or unreadable
};

struct ParsedSitemap {
  bool is_index = false;              // <sitemapindex>: `entries` are sitemaps
  std::vector<SitemapEntry> entries;  // in file order, duplicates dropped
  size_t entries_total = 0;
  std::string error;       // the file is unusable: why
  std::string truncation;  // entries past the per-file limit dropped: why
  bool ok() const { return error.empty(); }
};

// `bytes` may be gzip (detected by its magic bytes).
ParsedSitemap parse_sitemap(std::string_view bytes, const std::string& url,
                            const SitemapLimits& limits = {});

// The files of one sitemap source, breadth first from its root.
class SitemapWalk {
 public:
  // `max_files`: files read at most; `max_urls`: page URLs kept at most.
  SitemapWalk(std::string root, int max_depth = 2, size_t max_files = 1000,
              size_t max_urls = 50000);

  // The files to read now (each at most once); empty when the walk is over.
  std::vector<std::string> next_files();
  // Reports a file of the last batch: its parse, or that it was not modified
  // since the last crawl (a 304: nothing to add) when `parsed` is null.
  void add(const std::string& file, const ParsedSitemap* parsed);
  // Reports a file that could not be fetched or parsed.
  void fail(const std::string& file, const std::string& reason);

  const std::vector<SitemapEntry>& urls() const { return urls_; }
  // Why the walk did not see everything ("" when it did); reasons joined by "; ".
  const std::string& truncation() const { return truncation_; }
  // Errors of files that could not be read, "URL: reason" joined by "; ".
  const std::string& errors() const { return errors_; }
  size_t files_read() const { return files_read_; }

 private:
  void note(std::string& where, const std::string& what);

  int max_depth_;
  size_t max_files_, max_urls_;
  std::vector<std::pair<std::string, int>> pending_;  // file, depth
  std::map<std::string, int> depth_of_;               // files handed out
  std::set<std::string> seen_urls_;
  std::vector<SitemapEntry> urls_;
  std::string truncation_, errors_;
  size_t files_read_ = 0;
};

}  // namespace twinflow
