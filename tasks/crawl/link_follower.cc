// Bounded link following. See link_follower.h.
#include "tasks/crawl/link_follower.h"

#include <algorithm>
#include <cctype>

#include "tasks/crawl/feed_parser.h"
#include "tasks/crawl/link_router.h"
#include "tasks/extract/charset.h"
#include "tasks/extract/html_bounds.h"
#include "tasks/extract/html_tree.h"
#include "tasks/extract/metadata.h"

namespace twinflow {
namespace {

std::string origin_of(const std::string& url) {
  const std::string hp = url_host_and_path(url);
  return hp.substr(0, hp.find('/'));
}

std::string path_of(const std::string& url) {
  const std::string hp = url_host_and_path(url);
  const size_t slash = hp.find('/');
  return slash == std::string::npos ? "/" : hp.substr(slash);
}

bool is_asset(const std::string& url) {
  static const char* kAssets[] = {".css", ".js",  ".png", ".jpg", ".jpeg", ".gif",  ".svg",
                                  ".ico", ".pdf", ".zip", ".mp3", ".mp4",  ".webp", ".woff2"};
  std::string path = path_of(url);
  std::transform(path.begin(), path.end(), path.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* ext : kAssets) {
    const std::string e = ext;
    if (path.size() > e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0)
      return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> extract_links(std::string_view html, const std::string& page_url) {
  HtmlTree tree(bound_html(decode_html_bytes(html)));
  std::string base = page_url;
  for (int i = 0; i < tree.size(); ++i)
    if (tree.is_element(i) && tree.tag(i) == GUMBO_TAG_BASE)
      if (const char* href = tree.attr(i, "href")) {
        base = resolve_url(href, page_url);
        break;
      }
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (int i = 0; i < tree.size(); ++i) {
    if (!tree.is_element(i) || tree.tag(i) != GUMBO_TAG_A) continue;
    const char* href = tree.attr(i, "href");
    if (!href || !*href || *href == '#') continue;
    std::string url = resolve_url(href, base);
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) continue;
    url = strip_tracking(url);
    if (seen.insert(url).second) out.push_back(std::move(url));
  }
  return out;
}

bool follow_pattern_matches(const std::string& pattern, const std::string& url) {
  if (!pattern.empty() && pattern[0] == '/') return glob_match(pattern, path_of(url));
  return glob_match(pattern, url_host_and_path(url));
}

LinkFollower::LinkFollower(FollowSpec spec) : spec_(std::move(spec)) {
  for (const std::string& start : spec_.start)
    if (queued_.insert(start).second) {
      queue_.push_back({start, 0});
      origin_of_[start] = origin_of(start);
    }
}

void LinkFollower::note(std::string& where, const std::string& what) {
  if (where.find(what) != std::string::npos) return;
  where += (where.empty() ? "" : "; ") + what;
}

bool LinkFollower::is_entry(const std::string& url) const {
  for (const std::string& pattern : spec_.match)
    if (follow_pattern_matches(pattern, url)) return true;
  return false;
}

std::vector<std::string> LinkFollower::next_pages() {
  std::vector<std::string> out;
  depth_batch_.clear();
  for (const auto& [page, depth] : queue_) {
    if (handed_out_ >= spec_.max_pages) {
      note(truncation_, "stopped after max_pages " + std::to_string(spec_.max_pages) + " pages; " +
                            std::to_string(queue_.size() - out.size()) +
                            " listing pages left unread");
      break;
    }
    out.push_back(page);
    depth_batch_[page] = depth;
    ++handed_out_;
  }
  queue_.clear();
  return out;
}

void LinkFollower::add_page(const std::string& url, std::string_view html) {
  ++pages_read_;
  const int depth = depth_batch_.count(url) ? depth_batch_[url] : 0;
  const std::string origin = origin_of_.count(url) ? origin_of_[url] : origin_of(url);
  for (const std::string& link : extract_links(html, url)) {
    if (origin_of(link) != origin) continue;
    if (is_entry(link)) {
      if (entries_.size() >= spec_.max_entries) {
        note(truncation_, "more than " + std::to_string(spec_.max_entries) +
                              " entries; the first ones were kept (max_entries)");
        continue;
      }
      if (entry_set_.insert(link).second) entries_.push_back(link);
      continue;
    }
    if (is_asset(link) || queued_.count(link)) continue;
    if (depth + 1 > spec_.max_depth) {
      ++beyond_depth_;
      note(truncation_,
           "links deeper than max_depth " + std::to_string(spec_.max_depth) + " were not followed");
      continue;
    }
    queued_.insert(link);
    origin_of_[link] = origin;
    queue_.push_back({link, depth + 1});
  }
}

void LinkFollower::fail(const std::string& url, const std::string& reason) {
  ++pages_read_;
  note(errors_, url + ": " + reason);
}

}  // namespace twinflow
