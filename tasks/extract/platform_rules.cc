// Platform rules for Medium, Substack, LinkedIn and GitHub; see
// platform_rules.h.
#include "tasks/extract/platform_rules.h"

#include <initializer_list>

#include "tasks/extract/boilerplate.h"
#include "tasks/extract/date.h"
#include "tasks/extract/selector.h"
#include "util/strings.h"
#include "util/url.h"

namespace twinflow {

namespace {

// Content roots need some text to be believed: a matching but empty
// element means the markup changed or the post is paywalled.
constexpr size_t kMinRootChars = 80;
constexpr size_t kMaxSubtitleChars = 400;

// The host part of a URL, lower case, without "www.".
std::string host_of(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  url = url.substr(0, url.find(':'));
  std::string host = to_lower(url);
  if (host.rfind("www.", 0) == 0) host.erase(0, 4);
  return host;
}

int first_with_text(const HtmlTree& tree, std::initializer_list<const char*> selectors,
                    size_t min_chars) {
  for (const char* s : selectors) {
    const int i = Selector(s).find_first(tree);
    if (i >= 0 && tree.collapsed_text(i, min_chars).size() >= min_chars) return i;
  }
  return -1;
}

std::string text_of_first(const HtmlTree& tree, std::initializer_list<const char*> selectors) {
  for (const char* s : selectors) {
    const int i = Selector(s).find_first(tree);
    if (i < 0) continue;
    std::string text = tree.collapsed_text(i, 1024);
    if (!text.empty()) return text;
  }
  return "";
}

PlatformFacts substack_facts(const HtmlTree& tree) {
  PlatformFacts f;
  f.site_name = "Substack";
  f.content_root = first_with_text(tree, {".available-content", "div.body.markup", ".post-content"},
                                   kMinRootChars);
  f.title = text_of_first(tree, {"h1.post-title"});
  f.subtitle = text_of_first(tree, {"h3.subtitle", ".subtitle"});
  return f;
}

PlatformFacts medium_facts(const HtmlTree& tree) {
  PlatformFacts f;
  f.site_name = "Medium";
  // No content root: Medium's <article> also holds the header, byline and
  // footer notes, and scoring finds the body within it better than the
  // element itself bounds it (measured on five saved Medium pages).
  f.subtitle = text_of_first(tree, {".pw-subtitle-paragraph", ".graf--subtitle"});
  return f;
}

PlatformFacts github_facts(const HtmlTree& tree) {
  PlatformFacts f;
  f.site_name = "GitHub";
  f.content_root =
      first_with_text(tree, {"#readme article", "article.markdown-body", ".markdown-body"}, 1);
  f.ignore_bylines = true;
  return f;
}

// A LinkedIn post's title reads "Jane Doe on LinkedIn: first words...".
std::string author_from_post_title(const HtmlTree& tree) {
  for (const char* s : {"meta[property=og:title]", "meta[name=og:title]", "title"}) {
    const int i = Selector(s).find_first(tree);
    if (i < 0) continue;
    const char* content = tree.attr(i, "content");
    if (content == nullptr) content = tree.attr(i, "value");
    const std::string title =
        content != nullptr ? std::string(content) : tree.collapsed_text(i, 1024);
    const size_t at = title.find(" on LinkedIn");
    if (at != std::string::npos && at > 0 && at <= 80) return title.substr(0, at);
  }
  return "";
}

PlatformFacts linkedin_facts(const HtmlTree& tree) {
  PlatformFacts f;
  f.site_name = "LinkedIn";
  // Pulse articles, then the commentary of a post in its various layouts.
  f.content_root = first_with_text(
      tree,
      {".article-content__body", "[data-test-id=article-content-blocks]",
       "[data-test-id=main-feed-activity-card__commentary]", ".feed-shared-update-v2__description",
       ".update-components-text", ".attributed-text-segment-list__content", ".feed-shared-text"},
      1);
  f.title = text_of_first(tree, {".article-content__title", "h1.pulse-title"});
  f.author = text_of_first(tree, {".main-author-card .base-main-card__title", ".author-info__name",
                                  ".base-main-card__title"});
  if (f.author.empty()) f.author = author_from_post_title(tree);
  // The page shows the date only as text: "Published Dec 19, 2016".
  f.published = normalize_date(text_of_first(
      tree, {".main-author-card .base-main-card__metadata", ".base-main-card__metadata"}));
  return f;
}

// Author cards have subtitles too (the author's job title); so do cards of
// related posts and comments.
bool inside_profile(const HtmlTree& tree, int i) {
  static constexpr std::string_view kProfile[] = {"author",  "byline",  "profile", "card",
                                                  "comment", "related", "bio"};
  for (int a = i; a >= 0; a = tree.parent(a)) {
    const std::string names = to_lower(std::string(tree.attr_or_empty(a, "class")) + " " +
                                       std::string(tree.attr_or_empty(a, "id")));
    for (std::string_view p : kProfile) {
      if (names.find(p) != std::string::npos) return true;
    }
  }
  return false;
}

}  // namespace

Platform detect_platform(std::string_view hint, std::string_view url, std::string_view site_name,
                         std::string_view title, const HtmlTree& tree) {
  const std::string h = to_lower(hint);
  if (h == "medium") return Platform::kMedium;
  if (h == "substack") return Platform::kSubstack;
  if (h == "linkedin") return Platform::kLinkedIn;
  if (h == "github") return Platform::kGitHub;
  const std::string host = host_of(url);
  if (host_is(host, "medium.com")) return Platform::kMedium;
  if (host_is(host, "substack.com")) return Platform::kSubstack;
  if (host_is(host, "linkedin.com")) return Platform::kLinkedIn;
  if (host_is(host, "github.com")) return Platform::kGitHub;
  const std::string site = to_lower(site_name);
  if (site == "medium") return Platform::kMedium;
  if (site == "github") return Platform::kGitHub;
  if (site == "linkedin" || title.find(" on LinkedIn: ") != std::string_view::npos) {
    return Platform::kLinkedIn;
  }
  // Substack publications on their own domains keep Substack's markup.
  if (Selector(".available-content").find_first(tree) >= 0 &&
      Selector("h1.post-title").find_first(tree) >= 0) {
    return Platform::kSubstack;
  }
  return Platform::kGeneric;
}

PlatformFacts platform_facts(const HtmlTree& tree, Platform platform) {
  switch (platform) {
    case Platform::kSubstack:
      return substack_facts(tree);
    case Platform::kMedium:
      return medium_facts(tree);
    case Platform::kGitHub:
      return github_facts(tree);
    case Platform::kLinkedIn:
      return linkedin_facts(tree);
    case Platform::kGeneric:
      break;
  }
  return {};
}

std::string generic_subtitle(const HtmlTree& tree) {
  static constexpr std::string_view kWords[] = {"subtitle",    "standfirst", "dek",
                                                "subheadline", "sub-title",  "deck"};
  for (int i = 0; i < tree.size(); ++i) {
    if (!tree.is_element(i) || is_dead_tag(tree.tag(i))) continue;
    const std::string names = to_lower(std::string(tree.attr_or_empty(i, "class")) + " " +
                                       std::string(tree.attr_or_empty(i, "id")));
    if (names.size() < 3) continue;
    bool named = false;
    for (std::string_view w : kWords) {
      const size_t at = names.find(w);
      // Whole words only: "dek" must not match "index-dek" falsely, "deck"
      // not "deckhand"; a word ends at a non-letter.
      named |= at != std::string::npos &&
               (at == 0 || !(names[at - 1] >= 'a' && names[at - 1] <= 'z')) &&
               (at + w.size() == names.size() ||
                !(names[at + w.size()] >= 'a' && names[at + w.size()] <= 'z'));
    }
    if (!named || inside_profile(tree, i)) continue;
    std::string text = tree.collapsed_text(i, kMaxSubtitleChars + 1);
    if (text.size() >= 10 && text.size() <= kMaxSubtitleChars) return text;
  }
  return "";
}

}  // namespace twinflow
