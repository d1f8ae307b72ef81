// Boilerplate signals: word lists and the matching of class, id, role and
// style attributes; see boilerplate.h.
#include "tasks/extract/boilerplate.h"
#include "util/strings.h"

#include <string>
#include <string_view>
#include <vector>

namespace twinflow {

namespace {

// Splits class/id text into lower-case words at non-alphanumerics and at
// camelCase humps: "siteHeader nav__item" -> site, header, nav, item.
std::vector<std::string> class_words(std::string_view s) {
  std::vector<std::string> words;
  std::string word;
  char prev = '\0';
  for (char c : s) {
    const bool upper = c >= 'A' && c <= 'Z';
    const bool alnum = upper || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum || (upper && prev >= 'a' && prev <= 'z')) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    }
    if (alnum) word.push_back(upper ? static_cast<char>(c + 32) : c);
    prev = c;
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// Whitespace-separated class tokens (and the id), lower case.
std::vector<std::string> tokens_of(std::string_view s) {
  std::vector<std::string> tokens;
  std::string token;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      if (!token.empty()) tokens.push_back(std::move(token));
      token.clear();
    } else {
      token.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
    }
  }
  if (!token.empty()) tokens.push_back(std::move(token));
  return tokens;
}

// Word prefixes of furniture, each with a word that starts the same way but
// means content ("commentary" is where LinkedIn puts a post's text, "shared"
// is in every LinkedIn feed class; "sharedaddy" is a share bar again).
struct FurnitureWord {
  std::string_view prefix;
  std::string_view except;  // exact word
};
constexpr FurnitureWord kFurnitureWords[] = {
    {"nav", "navy"},      {"menu", ""},       {"share", "shared"},
    {"sharing", ""},      {"social", ""},     {"comment", "commentary"},
    {"disqus", ""},       {"replies", ""},    {"reply", ""},
    {"remark", ""},       {"cookie", ""},     {"consent", ""},
    {"gdpr", ""},         {"banner", ""},     {"subscribe", ""},
    {"subscription", ""}, {"newsletter", ""}, {"signup", ""},
    {"login", ""},        {"related", ""},    {"recommend", ""},
    {"sidebar", ""},      {"promo", ""},      {"advert", ""},
    {"sponsor", ""},      {"popup", ""},      {"modal", ""},
    {"breadcrumb", ""},   {"paywall", ""},    {"footer", ""},
    {"header", ""},       {"masthead", ""},   {"toolbar", ""},
    {"pagination", ""},   {"pager", ""},      {"outbrain", ""},
    {"taboola", ""},      {"skyscraper", ""}, {"shoutbox", ""},
    {"agegate", ""},      {"community", ""},  {"supplemental", ""},
    {"rss", ""},          {"byline", ""},     {"combx", ""},
    {"legends", ""},      {"skip", ""},       {"button", ""},
    {"cta", ""},
};

// Furniture words too short to match as prefixes: "tags" but not
// "tagline", "meta" (WordPress "entry-meta") but not "metadata".
constexpr std::string_view kFurnitureExactWords[] = {"tags", "meta", "toc"};

// Word prefixes that say "this is the content"; they veto the furniture
// words ("article-footer" may be furniture, but "sidebar-and-content"
// wrappers hold the article).
constexpr std::string_view kContentWords[] = {"article", "body",  "content", "main",
                                              "column",  "story", "entry",   "markdown",
                                              "readme",  "prose", "shadow"};

bool is_ad_token(std::string_view t) {
  return t == "ad" || t == "ads" || t == "adv" || t == "advert" || t == "advertisement" ||
         t == "adsbygoogle" || t.starts_with("ad-") || t.starts_with("ads-") ||
         t.find("-ad-") != std::string_view::npos || t.find("-ads-") != std::string_view::npos ||
         t.ends_with("-ad") || t.ends_with("-ads") || t.starts_with("ad_");
}

bool has_furniture_word(const std::vector<std::string>& words) {
  for (const std::string& w : words) {
    for (const FurnitureWord& f : kFurnitureWords) {
      if (w.starts_with(f.prefix) && w != f.except) return true;
    }
    for (std::string_view exact : kFurnitureExactWords) {
      if (w == exact) return true;
    }
  }
  return false;
}

bool has_content_word(const std::vector<std::string>& words) {
  for (const std::string& w : words) {
    for (std::string_view c : kContentWords) {
      if (w.starts_with(c)) return true;
    }
  }
  return false;
}

// Readability's class-weight patterns, matched as substrings of the lower-
// cased attribute; "share" and "comment" as words, for LinkedIn's sake.
constexpr std::string_view kNegativeWeight[] = {
    "-ad-",     "hidden",     "banner",  "combx",    "com-",  "contact", "footer", "gdpr",
    "masthead", "media",      "meta",    "outbrain", "promo", "related", "scroll", "shoutbox",
    "sidebar",  "skyscraper", "sponsor", "shopping", "tags",  "widget"};
constexpr std::string_view kPositiveWeight[] = {
    "article", "body",       "content", "entry", "hentry", "h-entry", "main",
    "page",    "pagination", "post",    "text",  "blog",   "story"};

int weight_of(std::string_view value) {
  if (value.empty()) return 0;
  const std::vector<std::string> tokens = tokens_of(value);
  std::string lower;
  for (const std::string& t : tokens) lower += t + " ";
  const std::vector<std::string> words = class_words(value);
  bool negative = false;
  for (std::string_view p : kNegativeWeight) negative |= lower.find(p) != std::string::npos;
  for (const std::string& w : words) {
    negative |= (w.starts_with("share") && w != "shared") ||
                (w.starts_with("comment") && w != "commentary");
  }
  bool positive = false;
  for (std::string_view p : kPositiveWeight) positive |= lower.find(p) != std::string::npos;
  return (negative ? -25 : 0) + (positive ? 25 : 0);
}

bool style_hides(std::string_view style) {
  std::string compact;
  for (char c : style) {
    if (c != ' ' && c != '\t' && c != '\n')
      compact.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
  }
  return compact.find("display:none") != std::string::npos ||
         compact.find("visibility:hidden") != std::string::npos;
}

// Classes that hide an element: utility classes ("hidden", "d-none") and
// the ones that hide text from sighted readers ("Share on Twitter (opens in
// a new window)" labels). Responsive frameworks pair a hiding class with one
// that shows the element on larger screens ("hidden md:block", "d-none
// d-md-block"); such elements are visible on the desktop pages crawled.
bool has_hiding_class(std::string_view cls) {
  static constexpr std::string_view kHiding[] = {"hidden",
                                                 "hide",
                                                 "hide-text",
                                                 "is-hidden",
                                                 "d-none",
                                                 "u-hidden",
                                                 "sr-only",
                                                 "visually-hidden",
                                                 "visuallyhidden",
                                                 "element-invisible",
                                                 "screen-reader-text",
                                                 "screen-reader-only",
                                                 "invisible"};
  bool hiding = false;
  for (const std::string& t : tokens_of(cls)) {
    if (t.find(':') != std::string::npos) return false;  // Tailwind "md:block"
    if (t.size() > 4 && t.substr(0, 2) == "d-" && t != "d-none") return false;  // Bootstrap
    for (std::string_view h : kHiding) hiding |= t == h;
  }
  return hiding;
}

}  // namespace

bool is_dead_tag(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_MATH:
    case GUMBO_TAG_CANVAS:
    case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_EMBED:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_BUTTON:
    case GUMBO_TAG_INPUT:
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_OPTION:
    case GUMBO_TAG_OPTGROUP:
    case GUMBO_TAG_DATALIST:
    case GUMBO_TAG_AUDIO:
    case GUMBO_TAG_VIDEO:
    case GUMBO_TAG_MAP:
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_TITLE:
    case GUMBO_TAG_META:
    case GUMBO_TAG_LINK:
    case GUMBO_TAG_BASE:
    case GUMBO_TAG_APPLET:
    case GUMBO_TAG_FRAMESET:
    case GUMBO_TAG_NOFRAMES:
    case GUMBO_TAG_NOEMBED:
    case GUMBO_TAG_KEYGEN:
      return true;
    default:
      return false;
  }
}

bool is_furniture_tag(GumboTag tag) {
  return tag == GUMBO_TAG_NAV || tag == GUMBO_TAG_ASIDE || tag == GUMBO_TAG_FOOTER ||
         tag == GUMBO_TAG_HEADER || tag == GUMBO_TAG_FORM || tag == GUMBO_TAG_MENU;
}

bool is_hidden(const HtmlTree& tree, int i) {
  if (tree.attr(i, "hidden") != nullptr) return true;
  const std::string_view cls = tree.attr_or_empty(i, "class");
  if (equals_nocase(tree.attr_or_empty(i, "aria-hidden"), "true") &&
      cls.find("fallback-image") == std::string_view::npos) {
    return true;
  }
  if (has_hiding_class(cls)) return true;
  const char* style = tree.attr(i, "style");
  return style != nullptr && style_hides(style);
}

bool has_furniture_role(const HtmlTree& tree, int i) {
  const std::string_view role = tree.attr_or_empty(i, "role");
  if (role.empty()) return false;
  static constexpr std::string_view kRoles[] = {
      "navigation", "banner",      "contentinfo", "complementary", "menu",    "menubar",
      "alert",      "alertdialog", "dialog",      "search",        "toolbar", "tablist"};
  for (std::string_view r : kRoles) {
    if (equals_nocase(role, r)) return true;
  }
  return false;
}

bool is_unlikely_candidate(const HtmlTree& tree, int i) {
  // Headings and code are text, not containers of furniture; their classes
  // ("section-header") say how they look.
  const GumboTag tag = tree.tag(i);
  if (tag == GUMBO_TAG_BODY || tag == GUMBO_TAG_HTML || tag == GUMBO_TAG_A ||
      tag == GUMBO_TAG_ARTICLE || tag == GUMBO_TAG_MAIN || tag == GUMBO_TAG_PRE ||
      tag == GUMBO_TAG_CODE || (tag >= GUMBO_TAG_H1 && tag <= GUMBO_TAG_H6)) {
    return false;
  }
  const std::string_view cls = tree.attr_or_empty(i, "class");
  const std::string_view id = tree.attr_or_empty(i, "id");
  if (cls.empty() && id.empty()) return false;
  std::string both(cls);
  both += ' ';
  both += id;
  const std::vector<std::string> words = class_words(both);
  if (has_content_word(words)) return false;
  if (has_furniture_word(words)) return true;
  for (const std::string& t : tokens_of(both)) {
    if (is_ad_token(t)) return true;
  }
  return false;
}

bool has_furniture_name(const HtmlTree& tree, int i) {
  std::string both(tree.attr_or_empty(i, "class"));
  both += ' ';
  both += tree.attr_or_empty(i, "id");
  return has_furniture_word(class_words(both));
}

int class_weight(const HtmlTree& tree, int i) {
  return weight_of(tree.attr_or_empty(i, "class")) + weight_of(tree.attr_or_empty(i, "id"));
}

bool is_content_marker(const HtmlTree& tree, int i) {
  const GumboTag tag = tree.tag(i);
  if (tag == GUMBO_TAG_ARTICLE || tag == GUMBO_TAG_MAIN) return true;
  if (equals_nocase(tree.attr_or_empty(i, "role"), "main")) return true;
  return equals_nocase(tree.attr_or_empty(i, "itemprop"), "articlebody");
}

}  // namespace twinflow
