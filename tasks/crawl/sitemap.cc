// Sitemap parsing and walking. See sitemap.h.
#include "tasks/crawl/sitemap.h"

#include <libxml/tree.h>

#include <map>

#include "tasks/crawl/feed_parser.h"
#include "tasks/crawl/gzip.h"
#include "tasks/crawl/xml_safe.h"
#include "tasks/extract/date.h"
#include "tasks/extract/metadata.h"

namespace twinflow {

ParsedSitemap parse_sitemap(std::string_view bytes, const std::string& url,
                            const SitemapLimits& limits) {
  ParsedSitemap out;
  std::string inflated;
  if (is_gzip(bytes)) {
    GunzipResult g = gunzip_capped(bytes, limits.max_bytes_per_file);
    if (!g.ok()) {
      out.error = g.error;
      return out;
    }
    inflated = std::move(g.data);
    bytes = inflated;
  }
  if (bytes.size() > limits.max_bytes_per_file) {
    out.error = "larger than " + std::to_string(limits.max_bytes_per_file >> 20) +
                " MB uncompressed (the protocol's limit)";
    return out;
  }
  XmlParse parsed = parse_untrusted_xml(bytes, url);
  if (!parsed.error.empty()) {
    out.error =
        parsed.error == "an HTML page, not XML" ? "an HTML page, not a sitemap" : parsed.error;
    return out;
  }
  xmlNode* root = xml_root(parsed);
  const std::string name = xml_local_name(root);
  if (name != "urlset" && name != "sitemapindex") {
    out.error = "not a sitemap (root element <" + name + ">)";
    return out;
  }
  out.is_index = name == "sitemapindex";
  const char* item_name = out.is_index ? "sitemap" : "url";
  std::set<std::string> seen;
  for (xmlNode* item = root->children; item; item = item->next) {
    if (xml_local_name(item) != item_name) continue;
    ++out.entries_total;
    SitemapEntry entry;
    for (xmlNode* n = item->children; n; n = n->next) {
      const std::string field = xml_local_name(n);
      if (field == "loc") entry.loc = resolve_url(xml_text(n), url);
      if (field == "lastmod") entry.lastmod = normalize_date(xml_text(n));
    }
    if (entry.loc.rfind("http://", 0) != 0 && entry.loc.rfind("https://", 0) != 0) continue;
    if (out.entries.size() >= limits.max_entries_per_file) continue;
    if (seen.insert(entry.loc).second) out.entries.push_back(std::move(entry));
  }
  if (out.entries_total > limits.max_entries_per_file)
    out.truncation = url + " lists " + std::to_string(out.entries_total) + " entries, past the " +
                     std::to_string(limits.max_entries_per_file) +
                     " a sitemap may hold; the first " +
                     std::to_string(limits.max_entries_per_file) + " were kept";
  return out;
}

SitemapWalk::SitemapWalk(std::string root, int max_depth, size_t max_files, size_t max_urls)
    : max_depth_(max_depth), max_files_(max_files), max_urls_(max_urls) {
  pending_.push_back({root, 0});
  depth_of_[root] = 0;
}

void SitemapWalk::note(std::string& where, const std::string& what) {
  if (where.find(what) != std::string::npos) return;
  where += (where.empty() ? "" : "; ") + what;
}

std::vector<std::string> SitemapWalk::next_files() {
  std::vector<std::string> out;
  for (auto& [file, depth] : pending_) {
    if (files_read_ + out.size() >= max_files_) {
      note(truncation_, "stopped after " + std::to_string(max_files_) + " sitemap files");
      break;
    }
    out.push_back(file);
  }
  pending_.clear();
  return out;
}

void SitemapWalk::add(const std::string& file, const ParsedSitemap* parsed) {
  ++files_read_;
  if (!parsed) return;
  if (!parsed->truncation.empty()) note(truncation_, parsed->truncation);
  const int depth = depth_of_.count(file) ? depth_of_[file] : 0;
  if (parsed->is_index) {
    for (const SitemapEntry& child : parsed->entries) {
      if (depth_of_.count(child.loc)) {
        note(truncation_,
             "the sitemap index loops: " + file + " lists " + child.loc + ", already read");
        continue;
      }
      if (depth + 1 > max_depth_) {
        note(truncation_, file + " nests sitemap indexes deeper than " +
                              std::to_string(max_depth_) + " levels; the rest was not read");
        continue;
      }
      depth_of_[child.loc] = depth + 1;
      pending_.push_back({child.loc, depth + 1});
    }
    return;
  }
  for (const SitemapEntry& entry : parsed->entries) {
    if (urls_.size() >= max_urls_) {
      note(truncation_, "more than " + std::to_string(max_urls_) +
                            " URLs; the first ones were kept (max_entries)");
      break;
    }
    if (seen_urls_.insert(entry.loc).second) urls_.push_back(entry);
  }
}

void SitemapWalk::fail(const std::string& file, const std::string& reason) {
  ++files_read_;
  note(errors_, file + ": " + reason);
}

}  // namespace twinflow
