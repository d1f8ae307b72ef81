// LinkRouter: which crawler handles a URL, decided by its host.
//
// medium.com and its subdomains go to the Medium crawler, *.substack.com to
// Substack, linkedin.com to LinkedIn, github.com to the repository crawler, and
// every other URL to the general article extractor ("web"). A DAG can add
// rules that win over these, as patterns over "host[:port]/path" with `*`
// wildcards, e.g. {match: "blog.example.com/*", platform: medium} for a
// custom-domain Medium blog, or {match: "127.0.0.1:*/linkedin/*", platform:
// linkedin} for the bundled sample served on loopback.
#pragma once

#include <string>
#include <vector>

namespace twinflow {

struct RouteRule {
  std::string match;  // glob over "host[:port]/path"; `*` matches any run of characters
  std::string platform;
};

// The platforms twinflow crawls, and the document kind each produces.
bool is_known_platform(const std::string& platform);
std::string document_kind_for(const std::string& platform);  // article, post, repository

class LinkRouter {
 public:
  // Throws Error when a rule names an unknown platform.
  explicit LinkRouter(std::vector<RouteRule> rules = {});

  // The platform for `url`: the first matching rule, else the built-in hosts.
  std::string platform_for(const std::string& url) const;

 private:
  std::vector<RouteRule> rules_;
};

// "host[:port]/path" of a URL (scheme, query and fragment dropped, host lower
// case), or "" when `url` has no host (file:// URLs give "/path").
std::string url_host_and_path(const std::string& url);
// `*`-glob match, case-sensitive.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace twinflow
