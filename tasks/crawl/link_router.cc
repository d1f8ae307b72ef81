// LinkRouter: URL -> platform. See link_router.h.
#include "tasks/crawl/link_router.h"

#include <algorithm>
#include <cctype>

#include "util/error.h"
#include "util/url.h"

namespace twinflow {
namespace {

const std::vector<std::string> kPlatforms = {"medium", "substack", "linkedin", "github", "web"};

std::string builtin_platform(const std::string& host) {
  if (host_is(host, "medium.com")) return "medium";
  if (host_is(host, "substack.com")) return "substack";
  if (host_is(host, "linkedin.com")) return "linkedin";
  if (host == "github.com" || host == "www.github.com") return "github";
  return "web";
}

}  // namespace

bool is_known_platform(const std::string& platform) {
  return std::find(kPlatforms.begin(), kPlatforms.end(), platform) != kPlatforms.end();
}

std::string document_kind_for(const std::string& platform) {
  if (platform == "linkedin") return "post";
  if (platform == "github") return "repository";
  return "article";
}

LinkRouter::LinkRouter(std::vector<RouteRule> rules) : rules_(std::move(rules)) {
  for (const RouteRule& rule : rules_)
    if (!is_known_platform(rule.platform))
      throw Error("crawler rule '" + rule.match + "' names unknown platform '" + rule.platform +
                  "' (use medium, substack, linkedin, github or web)");
}

std::string LinkRouter::platform_for(const std::string& url) const {
  const std::string target = url_host_and_path(url);
  for (const RouteRule& rule : rules_)
    if (glob_match(rule.match, target)) return rule.platform;
  std::string host = target.substr(0, target.find('/'));
  host = host.substr(0, host.find(':'));
  return builtin_platform(host);
}

std::string url_host_and_path(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find_first_of("?#", start);
  std::string rest = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  const size_t slash = rest.find('/');
  std::string host = rest.substr(0, slash);
  if (const size_t at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return host + (slash == std::string::npos ? "/" : rest.substr(slash));
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matching with backtracking to the last '*': linear in practice.
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p, ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace twinflow
