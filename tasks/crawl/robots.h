// RobotsRules: what one site's robots.txt allows our crawler to fetch.
//
// The crawler fetches robots.txt once per scheme+host (see http_fetcher.h)
// and asks these rules about every URL on that host. Parsing follows RFC 9309:
// the groups whose user-agent lines name our product token (case-insensitive)
// apply, merged; when none does, the `*` groups apply; when there is none of
// those either, everything is allowed. Among the rules of the chosen groups
// the longest matching pattern wins, and Allow wins a tie. Patterns may use
// `*` (any run of characters) and a trailing `$` (end of the path). The
// non-standard Crawl-delay line is honoured, because polite crawling is the
// point; Sitemap lines are collected for later use.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twinflow {

class RobotsRules {
 public:
  // Rules that allow everything (no robots.txt, or an unreadable one).
  RobotsRules() = default;

  // `user_agent` may be a full User-Agent header ("twinflow/0.1 (+https://...)"):
  // only its product token ("twinflow") is matched against the file's groups.
  // Anything that is not a rule line is ignored, as RFC 9309 asks; only the
  // first 500 KiB are read.
  static RobotsRules parse(std::string_view robots_txt, std::string_view user_agent);

  // `path` is the URL's path and query ("/a/b?x=1"); empty means "/".
  // "/robots.txt" itself is always allowed.
  bool allowed(std::string_view path) const;

  // Seconds between requests the site asked for, if it did.
  std::optional<double> crawl_delay_seconds() const { return crawl_delay_; }
  const std::vector<std::string>& sitemaps() const { return sitemaps_; }

 private:
  struct Rule {
    bool allow = false;
    std::string pattern;  // percent-escapes normalised to upper case
  };

  std::vector<Rule> rules_;
  std::optional<double> crawl_delay_;
  std::vector<std::string> sitemaps_;

  friend class RobotsParser;
};

// The product token of a User-Agent value: "twinflow/0.1 (+x)" -> "twinflow".
std::string robots_product_token(std::string_view user_agent);

// Whether a robots.txt pattern matches the start of `path` (`*` wildcards, `$`
// anchor). Exposed for tests.
bool robots_pattern_matches(std::string_view pattern, std::string_view path);

}  // namespace twinflow
