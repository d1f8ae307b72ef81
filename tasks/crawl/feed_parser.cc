// RSS and Atom parsing. See feed_parser.h.
#include "tasks/crawl/feed_parser.h"

#include <libxml/tree.h>

#include <set>

#include "tasks/crawl/gzip.h"
#include "tasks/crawl/xml_safe.h"
#include "tasks/extract/date.h"
#include "tasks/extract/metadata.h"
#include "util/url.h"

namespace twinflow {
namespace {

std::vector<xmlNode*> children(xmlNode* parent) {
  std::vector<xmlNode*> out;
  for (xmlNode* n = parent ? parent->children : nullptr; n; n = n->next)
    if (n->type == XML_ELEMENT_NODE) out.push_back(n);
  return out;
}

xmlNode* child(xmlNode* parent, const std::string& name) {
  for (xmlNode* n : children(parent))
    if (xml_local_name(n) == name) return n;
  return nullptr;
}

std::string absolute(const std::string& href, xmlNode* context) {
  if (href.empty()) return "";
  std::string url = resolve_url(href, xml_base(context));
  return is_http_url(url) ? strip_tracking(url) : "";
}

// <link href="..." rel="alternate"> (rel absent means alternate).
std::string atom_link(xmlNode* entry) {
  std::string fallback;
  for (xmlNode* n : children(entry)) {
    if (xml_local_name(n) != "link") continue;
    const std::string rel = xml_attr(n, "rel");
    const std::string href = absolute(xml_attr(n, "href"), n);
    if (href.empty()) continue;
    if (rel.empty() || rel == "alternate") return href;
    if (fallback.empty() && rel != "self" && rel != "edit" && rel != "replies") fallback = href;
  }
  return fallback;
}

std::string rss_link(xmlNode* item) {
  for (xmlNode* n : children(item)) {
    const std::string name = xml_local_name(n);
    if (name == "link" && xml_namespace(n).find("Atom") == std::string::npos) {
      if (std::string url = absolute(xml_text(n), n); !url.empty()) return url;
    }
  }
  if (xmlNode* guid = child(item, "guid"); guid && xml_attr(guid, "isPermaLink") != "false")
    if (std::string url = absolute(xml_text(guid), guid); !url.empty()) return url;
  return atom_link(item);  // <atom:link rel="alternate"> inside an RSS item
}

std::string date_of(xmlNode* parent, std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (xmlNode* n = child(parent, name))
      if (std::string date = normalize_date(xml_text(n)); !date.empty()) return date;
  return "";
}

struct Collector {
  const FeedLimits& limits;
  ParsedFeed& feed;
  std::set<std::string> seen;

  void add(FeedEntry entry) {
    ++feed.entries_total;
    if (entry.url.empty()) {
      ++feed.entries_without_link;
      return;
    }
    if (feed.entries.size() >= limits.max_entries || !seen.insert(entry.url).second) return;
    if (entry.id.empty()) entry.id = entry.url;
    feed.entries.push_back(std::move(entry));
  }
};

void read_rss_items(xmlNode* container, Collector& out) {
  for (xmlNode* item : children(container)) {
    if (xml_local_name(item) != "item") continue;
    FeedEntry e;
    e.url = rss_link(item);
    if (xmlNode* guid = child(item, "guid")) e.id = xml_text(guid);
    if (xmlNode* title = child(item, "title")) e.title = xml_text(title);
    e.published = date_of(item, {"pubDate", "date", "published"});
    e.updated = date_of(item, {"updated", "modified"});
    out.add(std::move(e));
  }
}

void read_atom_entries(xmlNode* feed, Collector& out) {
  for (xmlNode* entry : children(feed)) {
    if (xml_local_name(entry) != "entry") continue;
    FeedEntry e;
    e.url = atom_link(entry);
    if (xmlNode* id = child(entry, "id")) e.id = xml_text(id);
    if (e.url.empty() && is_http_url(e.id)) e.url = strip_tracking(e.id);
    if (xmlNode* title = child(entry, "title")) e.title = xml_text(title);
    e.published = date_of(entry, {"published", "issued"});
    e.updated = date_of(entry, {"updated", "modified"});
    out.add(std::move(e));
  }
}

}  // namespace

std::string strip_tracking(const std::string& url) {
  std::string base = url.substr(0, url.find('#'));
  const size_t q = base.find('?');
  if (q == std::string::npos) return base;
  std::string kept;
  size_t start = q + 1;
  while (start <= base.size()) {
    size_t end = base.find('&', start);
    if (end == std::string::npos) end = base.size();
    const std::string param = base.substr(start, end - start);
    const bool tracking = param.rfind("utm_", 0) == 0 || param.rfind("source=rss", 0) == 0;
    if (!param.empty() && !tracking) kept += (kept.empty() ? "" : "&") + param;
    start = end + 1;
  }
  return base.substr(0, q) + (kept.empty() ? "" : "?" + kept);
}

ParsedFeed parse_feed(std::string_view bytes, const std::string& feed_url,
                      const FeedLimits& limits) {
  ParsedFeed feed;
  std::string inflated;
  if (is_gzip(bytes)) {
    GunzipResult g = gunzip_capped(bytes, limits.max_bytes);
    if (!g.ok()) {
      feed.error = g.error;
      return feed;
    }
    inflated = std::move(g.data);
    bytes = inflated;
  }
  if (bytes.size() > limits.max_bytes) {
    feed.error = "larger than " + std::to_string(limits.max_bytes >> 20) + " MB";
    return feed;
  }
  XmlParse parsed = parse_untrusted_xml(bytes, feed_url);
  if (!parsed.error.empty()) {
    feed.error =
        parsed.error == "an HTML page, not XML" ? "an HTML page, not a feed" : parsed.error;
    return feed;
  }
  xmlNode* root = xml_root(parsed);
  const std::string name = xml_local_name(root);
  Collector collector{limits, feed, {}};
  if (name == "rss") {
    feed.format = "rss";
    xmlNode* channel = child(root, "channel");
    if (!channel) {
      feed.error = "an RSS document without <channel>";
      return feed;
    }
    if (xmlNode* title = child(channel, "title")) feed.title = xml_text(title);
    read_rss_items(channel, collector);
  } else if (name == "RDF") {
    feed.format = "rdf";
    if (xmlNode* channel = child(root, "channel"))
      if (xmlNode* title = child(channel, "title")) feed.title = xml_text(title);
    read_rss_items(root, collector);
  } else if (name == "feed") {
    feed.format = "atom";
    if (xmlNode* title = child(root, "title")) feed.title = xml_text(title);
    read_atom_entries(root, collector);
  } else {
    feed.error = "not an RSS or Atom feed (root element <" + name + ">)";
    return feed;
  }
  const size_t with_link = feed.entries_total - feed.entries_without_link;
  if (with_link > limits.max_entries)
    feed.truncation = "the feed lists " + std::to_string(with_link) + " entries; the first " +
                      std::to_string(limits.max_entries) + " were kept (max_entries)";
  return feed;
}

}  // namespace twinflow
