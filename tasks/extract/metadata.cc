// Metadata reading: one pass over the tree gathers meta tags, JSON-LD,
// <title>, <time> and bylines; the choosers rank them; see metadata.h.
#include "tasks/extract/metadata.h"

#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "tasks/extract/boilerplate.h"
#include "tasks/extract/date.h"
#include "tasks/extract/selector.h"
#include "tasks/text/utf8.h"
#include "util/strings.h"

namespace twinflow {

namespace {

using Json = nlohmann::json;

// JSON-LD blocks are small; a cap keeps a hostile page from making the
// parser build a huge document, and a node budget bounds the walk.
constexpr size_t kMaxJsonLdBytes = 1 << 20;
constexpr int kMaxJsonLdDepth = 8;
constexpr int kMaxJsonLdNodes = 20000;
constexpr size_t kMaxMetaValue = 4096;
constexpr size_t kMaxMetaBylineChars = 100;

std::string collapse(std::string_view s) {
  std::string out;
  bool pending = false;
  append_collapsed(out, s.substr(0, utf8_floor(s, kMaxMetaValue)), pending);
  return out;
}

bool is_url(std::string_view s) {
  return s.substr(0, 7) == "http://" || s.substr(0, 8) == "https://" || s.substr(0, 1) == "/";
}

// Meta tags by lower-cased key (property, name, itemprop or http-equiv);
// the first value of a key wins.
using MetaTags = std::map<std::string, std::string>;

void add_meta(MetaTags& meta, const HtmlTree& tree, int i) {
  const char* value = tree.attr(i, "content");
  if (value == nullptr) value = tree.attr(i, "value");
  if (value == nullptr) return;
  for (const char* key_attr : {"property", "name", "itemprop", "http-equiv"}) {
    const char* key = tree.attr(i, key_attr);
    if (key != nullptr) meta.emplace(to_lower(key), collapse(value));
  }
}

std::string first_meta(const MetaTags& meta, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    const auto it = meta.find(key);
    if (it != meta.end() && !it->second.empty()) return it->second;
  }
  return "";
}

// What an Article-like JSON-LD object says.
struct JsonLdArticle {
  bool found = false;
  std::string headline, description, author, published, publisher, language, url;
};

bool is_article_type(const Json& type) {
  auto one = [](const Json& t) {
    if (!t.is_string()) return false;
    const std::string& s = t.get_ref<const std::string&>();
    return (s.size() >= 7 && s.compare(s.size() - 7, 7, "Article") == 0) ||
           (s.size() >= 7 && s.compare(s.size() - 7, 7, "Posting") == 0) || s == "Report";
  };
  if (type.is_array()) {
    for (const Json& t : type) {
      if (one(t)) return true;
    }
    return false;
  }
  return one(type);
}

std::string json_string(const Json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) return "";
  if (it->is_string()) return collapse(it->get_ref<const std::string&>());
  if (it->is_object()) return json_string(*it, "name");
  return "";
}

// "author": "Jane", {"name": "Jane"}, or a list of either.
std::string json_authors(const Json& value) {
  std::vector<std::string> names;
  auto add = [&](const Json& v) {
    std::string name;
    if (v.is_string()) name = collapse(v.get_ref<const std::string&>());
    if (v.is_object()) name = json_string(v, "name");
    if (name.empty() || is_url(name)) return;
    for (const std::string& n : names) {
      if (n == name) return;
    }
    names.push_back(name);
  };
  if (value.is_array()) {
    for (const Json& v : value) add(v);
  } else {
    add(value);
  }
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

void take_article(const Json& o, JsonLdArticle& a) {
  a.found = true;
  a.headline = json_string(o, "headline");
  if (a.headline.empty()) a.headline = json_string(o, "name");
  a.description = json_string(o, "description");
  if (const auto it = o.find("author"); it != o.end()) a.author = json_authors(*it);
  if (a.author.empty()) {
    if (const auto it = o.find("creator"); it != o.end()) a.author = json_authors(*it);
  }
  a.published = normalize_date(json_string(o, "datePublished"));
  if (a.published.empty()) a.published = normalize_date(json_string(o, "dateCreated"));
  a.publisher = json_string(o, "publisher");
  a.language = json_string(o, "inLanguage");
  a.url = json_string(o, "url");
}

// The JSON inside a script element, without the CDATA or comment wrappers
// some CMSs put around it.
std::string_view json_payload(std::string_view text) {
  if (const size_t open = text.find("<![CDATA["); open != std::string_view::npos) {
    text.remove_prefix(open + 9);
    text = text.substr(0, text.rfind("]]>"));
  }
  const size_t begin = text.find_first_of("{[");
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_of(text[begin] == '{' ? '}' : ']');
  if (end == std::string_view::npos || end < begin) return {};
  return text.substr(begin, end - begin + 1);
}

// Finds the first Article-like object, breadth first, so that a top-level
// article beats one nested in a list of related items.
void read_json_ld(std::string_view text, JsonLdArticle& article) {
  if (article.found || text.size() > kMaxJsonLdBytes) return;
  const Json doc = Json::parse(json_payload(text), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return;
  std::deque<std::pair<const Json*, int>> queue{{&doc, 0}};
  int budget = kMaxJsonLdNodes;
  while (!queue.empty() && budget-- > 0) {
    const auto [node, depth] = queue.front();
    queue.pop_front();
    if (depth > kMaxJsonLdDepth) continue;
    if (node->is_object()) {
      if (const auto type = node->find("@type"); type != node->end() && is_article_type(*type)) {
        take_article(*node, article);
        return;
      }
    }
    if (node->is_object() || node->is_array()) {
      for (const Json& child : *node) {
        if (child.is_object() || child.is_array()) queue.emplace_back(&child, depth + 1);
      }
    }
  }
}

// Raw text of an element (a script's JSON).
std::string raw_text(const HtmlTree& tree, int i) {
  std::string out;
  for (int k = i + 1; k < tree.end(i); ++k) {
    if (tree.is_text(k)) out += tree.text(k);
  }
  return out;
}

// Whether an ancestor says this is a comment, a related item or similar,
// where author names belong to other people.
bool inside_foreign_block(const HtmlTree& tree, int i) {
  static constexpr std::string_view kForeign[] = {"comment", "related", "recommend", "repl",
                                                  "sidebar", "footer",  "promo"};
  for (int a = i; a >= 0; a = tree.parent(a)) {
    const std::string names = to_lower(std::string(tree.attr_or_empty(a, "class")) + " " +
                                       std::string(tree.attr_or_empty(a, "id")));
    for (std::string_view f : kForeign) {
      if (names.find(f) != std::string::npos) return true;
    }
  }
  return false;
}

// "By Jane Doe | March 3" -> "Jane Doe".
std::string clean_byline(std::string text) {
  for (std::string_view cut : {" | ", " • ", " · ", " — ", " on "}) {
    const size_t at = text.find(cut);
    if (at != std::string::npos) text.resize(at);
  }
  for (std::string_view prefix : {"written by ", "posted by ", "by ", "from "}) {
    if (to_lower(text.substr(0, prefix.size())) == prefix) text.erase(0, prefix.size());
  }
  while (!text.empty() && (text.back() == ',' || text.back() == ' ')) text.pop_back();
  return text;
}

// One to five words, no digits, no sentence: the shape of a person's name.
bool looks_like_name(std::string_view text) {
  if (text.size() < 2 || text.size() > 60) return false;
  int words = 1;
  for (char c : text) {
    if (c >= '0' && c <= '9') return false;
    if (c == '.' && text.size() > 30) return false;
    words += c == ' ';
  }
  return words <= 5;
}

bool has_author_word(const HtmlTree& tree, int i) {
  const std::string names = to_lower(std::string(tree.attr_or_empty(i, "class")) + " " +
                                     std::string(tree.attr_or_empty(i, "id")));
  return names.find("byline") != std::string::npos ||
         (names.find("author") != std::string::npos &&
          names.find("authority") == std::string::npos);
}

// A byline element's author: its text when short, else the first
// descendant whose text looks like a name.
std::string byline_text(const HtmlTree& tree, int i) {
  const std::string all = tree.collapsed_text(i, 4 * kMaxMetaBylineChars + 1);
  if (all.size() > 4 * kMaxMetaBylineChars) return "";  // a bio or a whole page, not a byline
  std::string text = clean_byline(all);
  if (!text.empty() && text.size() <= kMaxMetaBylineChars && looks_like_name(text)) return text;
  for (int k = i + 1; k < tree.end(i); ++k) {
    if (!tree.is_element(k)) continue;
    text = clean_byline(tree.collapsed_text(k, 4 * kMaxMetaBylineChars));
    if (looks_like_name(text)) return text;
  }
  return "";
}

std::string itemprop_author(const HtmlTree& tree, int i) {
  for (int k = i + 1; k < tree.end(i); ++k) {
    if (tree.is_element(k) && equals_nocase(tree.attr_or_empty(k, "itemprop"), "name")) {
      const char* content = tree.attr(k, "content");
      return content != nullptr ? collapse(content) : tree.collapsed_text(k, kMaxMetaBylineChars);
    }
  }
  const char* content = tree.attr(i, "content");
  return content != nullptr ? collapse(content) : byline_text(tree, i);
}

// Facts gathered in one pass over the tree.
struct PageFacts {
  MetaTags meta;
  JsonLdArticle json_ld;
  std::string canonical, title_tag, first_h1, time_datetime, itemprop_date;
  std::string itemprop_author, rel_author, class_author;
};

void visit_element(const HtmlTree& tree, int i, PageFacts& f) {
  const GumboTag tag = tree.tag(i);
  if (tag == GUMBO_TAG_META) {
    add_meta(f.meta, tree, i);
  } else if (tag == GUMBO_TAG_LINK) {
    if (f.canonical.empty() && has_class(to_lower(tree.attr_or_empty(i, "rel")), "canonical")) {
      f.canonical = collapse(tree.attr_or_empty(i, "href"));
    }
  } else if (tag == GUMBO_TAG_TITLE) {
    if (f.title_tag.empty()) f.title_tag = tree.collapsed_text(i, kMaxMetaValue);
  } else if (tag == GUMBO_TAG_SCRIPT) {
    if (to_lower(tree.attr_or_empty(i, "type")).find("ld+json") != std::string::npos) {
      read_json_ld(raw_text(tree, i), f.json_ld);
    }
  } else if (tag == GUMBO_TAG_H1) {
    if (f.first_h1.empty() && !is_hidden(tree, i)) f.first_h1 = tree.collapsed_text(i, 1024);
  }
  const char* datetime = tree.attr(i, "datetime");
  if (datetime != nullptr && f.time_datetime.empty() &&
      (tag == GUMBO_TAG_TIME || tree.tag_name(i) == "relative-time")) {
    f.time_datetime = datetime;
  }
  const std::string_view itemprop = tree.attr_or_empty(i, "itemprop");
  if (!itemprop.empty() && tag != GUMBO_TAG_META) {
    if (equals_nocase(itemprop, "datePublished") && f.itemprop_date.empty()) {
      const char* v = tree.attr(i, "content");
      if (v == nullptr) v = datetime;
      f.itemprop_date = v != nullptr ? v : tree.collapsed_text(i, 200);
    } else if (equals_nocase(itemprop, "author") && f.itemprop_author.empty() &&
               !inside_foreign_block(tree, i)) {
      f.itemprop_author = itemprop_author(tree, i);
    }
  }
  if (f.rel_author.empty() && tag != GUMBO_TAG_LINK &&
      has_class(to_lower(tree.attr_or_empty(i, "rel")), "author") &&
      !inside_foreign_block(tree, i)) {
    f.rel_author = byline_text(tree, i);
  }
  if (f.class_author.empty() && tag != GUMBO_TAG_META && has_author_word(tree, i) &&
      !inside_foreign_block(tree, i)) {
    f.class_author = byline_text(tree, i);
  }
}

PageFacts gather(const HtmlTree& tree) {
  PageFacts f;
  int i = 0;
  while (i < tree.size()) {
    if (tree.is_element(i)) {
      const GumboTag tag = tree.tag(i);
      // Skip subtrees that cannot hold metadata (and may be huge).
      if (tag == GUMBO_TAG_SVG || tag == GUMBO_TAG_STYLE || tag == GUMBO_TAG_NOSCRIPT) {
        i = tree.end(i);
        continue;
      }
      visit_element(tree, i, f);
    }
    ++i;
  }
  return f;
}

// Sets the author from metadata, else from a byline in the text.
void choose_author(const PageFacts& f, PageMetadata& m) {
  m.author = f.json_ld.author;
  if (m.author.empty()) {
    const std::string meta = first_meta(f.meta, {"author", "dc.creator", "parsely-author",
                                                 "sailthru.author", "citation_author", "byl"});
    if (!meta.empty() && !is_url(meta)) m.author = clean_byline(meta);
  }
  if (m.author.empty()) {
    const std::string meta = first_meta(f.meta, {"article:author"});
    if (!is_url(meta)) m.author = meta;
  }
  if (!m.author.empty()) return;
  for (const std::string* byline : {&f.itemprop_author, &f.rel_author, &f.class_author}) {
    if (byline->empty()) continue;
    m.author = *byline;
    m.author_from_byline = true;
    return;
  }
}

std::string choose_published(const PageFacts& f) {
  if (!f.json_ld.published.empty()) return f.json_ld.published;
  for (const char* key : {"article:published_time", "og:published_time", "article:published",
                          "published_time", "datepublished", "publishdate", "publish-date",
                          "pubdate", "sailthru.date", "parsely-pub-date", "dc.date.issued",
                          "dc.date", "dcterms.created", "date", "citation_publication_date"}) {
    const auto it = f.meta.find(key);
    if (it == f.meta.end()) continue;
    std::string date = normalize_date(it->second);
    if (!date.empty()) return date;
  }
  for (const std::string* raw : {&f.itemprop_date, &f.time_datetime}) {
    std::string date = normalize_date(*raw);
    if (!date.empty()) return date;
  }
  return "";
}

std::string choose_title(const PageFacts& f, const std::string& site, const std::string& author) {
  for (const std::string& candidate :
       {f.json_ld.headline, first_meta(f.meta, {"og:title"}), first_meta(f.meta, {"twitter:title"}),
        f.title_tag, f.first_h1}) {
    std::string title = strip_title_decorations(candidate, site, author);
    if (!title.empty()) return title;
  }
  return "";
}

// "en_US" -> "en-US".
std::string normalize_language(std::string s) {
  for (char& c : s) {
    if (c == '_') c = '-';
  }
  return s;
}

std::string choose_language(const HtmlTree& tree, const PageFacts& f) {
  std::string lang = collapse(tree.attr_or_empty(HtmlTree::kRoot, "lang"));
  if (lang.empty()) lang = collapse(tree.attr_or_empty(HtmlTree::kRoot, "xml:lang"));
  if (lang.empty()) lang = first_meta(f.meta, {"og:locale", "locale"});
  if (lang.empty()) lang = f.json_ld.language;
  if (lang.empty()) lang = first_meta(f.meta, {"content-language", "language", "dc.language"});
  return normalize_language(lang);
}

// Splits "A - B" at the last separator; false when there is none.
bool split_last_segment(std::string_view title, std::string_view* head, std::string_view* tail) {
  static constexpr std::string_view kSeparators[] = {" | ", " - ",  " — ", " – ",
                                                     " · ", " :: ", " / ", " » "};
  size_t best = std::string_view::npos;
  size_t best_len = 0;
  for (std::string_view sep : kSeparators) {
    const size_t at = title.rfind(sep);
    if (at != std::string_view::npos && (best == std::string_view::npos || at > best)) {
      best = at;
      best_len = sep.size();
    }
  }
  if (best == std::string_view::npos || best == 0) return false;
  *head = title.substr(0, best);
  *tail = title.substr(best + best_len);
  return true;
}

// Whether `segment` is one of the names in "Jo Bloggs, Al Smith".
bool names_an_author(const std::string& segment, std::string_view authors) {
  size_t pos = 0;
  while (pos <= authors.size()) {
    size_t comma = authors.find(", ", pos);
    if (comma == std::string_view::npos) comma = authors.size();
    const std::string name = to_lower(authors.substr(pos, comma - pos));
    if (!name.empty() && (segment == name || segment == "by " + name)) return true;
    pos = comma + 2;
  }
  return false;
}

bool is_decoration(std::string_view segment, std::string_view site, std::string_view author) {
  const std::string s = to_lower(segment);
  if (s.empty()) return true;
  if (!site.empty() && s == to_lower(site)) return true;
  if (names_an_author(s, author)) return true;
  for (std::string_view platform : {"medium", "substack", "linkedin", "github"}) {
    if (s == platform) return true;
  }
  return false;
}

}  // namespace

std::string strip_title_decorations(std::string_view title, std::string_view site_name,
                                    std::string_view author) {
  std::string t = collapse(title);
  std::string_view head, tail;
  for (int round = 0; round < 3 && split_last_segment(t, &head, &tail); ++round) {
    if (!is_decoration(tail, site_name, author)) break;
    t = std::string(head);
  }
  return t;
}

std::string resolve_url(std::string_view href, std::string_view base) {
  const size_t colon = href.find(':');
  const size_t slash = href.find('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash)) {
    return std::string(href);  // has a scheme
  }
  const size_t scheme_end = base.find("://");
  if (href.empty() || scheme_end == std::string_view::npos) return std::string(href);
  if (href.substr(0, 2) == "//")
    return std::string(base.substr(0, scheme_end + 1)) + std::string(href);
  const size_t path_start = base.find('/', scheme_end + 3);
  const std::string_view origin = base.substr(0, path_start);
  if (href[0] == '/') return std::string(origin) + std::string(href);
  const std::string_view path =
      path_start == std::string_view::npos ? "/" : base.substr(path_start);
  const std::string_view dir = path.substr(0, path.rfind('/') + 1);
  return std::string(origin) + std::string(dir) + std::string(href);
}

PageMetadata read_metadata(const HtmlTree& tree, std::string_view url) {
  const PageFacts f = gather(tree);
  PageMetadata m;
  m.site_name = first_meta(f.meta, {"og:site_name"});
  if (m.site_name.empty()) m.site_name = f.json_ld.publisher;
  if (m.site_name.empty()) m.site_name = first_meta(f.meta, {"application-name"});
  choose_author(f, m);
  m.title = choose_title(f, m.site_name, m.author);
  m.description = first_meta(f.meta, {"og:description", "description", "twitter:description"});
  if (m.description.empty()) m.description = f.json_ld.description;
  m.published = choose_published(f);
  std::string canonical = f.canonical;
  if (canonical.empty()) canonical = first_meta(f.meta, {"og:url"});
  if (canonical.empty()) canonical = f.json_ld.url;
  if (canonical.empty()) canonical = std::string(url);
  m.canonical_url = resolve_url(canonical, url);
  m.language = choose_language(tree, f);
  return m;
}

}  // namespace twinflow
