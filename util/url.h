// Small URL predicates shared by the crawler, the extractor and the CLI.
// Parsing proper (robots, rate limits, link resolution) lives with its user.
#pragma once

#include <string_view>

namespace twinflow {

// Whether `url` starts with "http://" or "https://" (lower case, as written
// by feeds, sitemaps and DAG files).
constexpr bool is_http_url(std::string_view url) {
  return url.starts_with("http://") || url.starts_with("https://");
}

// Whether `host` is `domain` or one of its subdomains: "blog.medium.com" is
// medium.com, "notmedium.com" is not. Both lower case.
constexpr bool host_is(std::string_view host, std::string_view domain) {
  return host == domain || (host.size() > domain.size() && host.ends_with(domain) &&
                            host[host.size() - domain.size() - 1] == '.');
}

}  // namespace twinflow
