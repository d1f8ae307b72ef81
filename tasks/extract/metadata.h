// read_metadata: title, author, date, canonical URL, site name, language and
// description of a page, from the places publishers put them.
//
// Sources, best first for each field:
//   title      JSON-LD headline, og:title, twitter:title, <title>, first <h1>
//              (site and author suffixes such as " - Medium" or " | by Jane
//              Doe" are removed: the title is the article's, not the tab's)
//   author     JSON-LD author(s), <meta name=author>, article:author when not a
//              URL, other CMS author metas, then bylines: itemprop=author,
//              rel=author, class "byline"/"author" outside comments
//   published  JSON-LD datePublished, article:published_time and friends,
//              itemprop=datePublished, <time datetime>, <relative-time>
//   canonical  <link rel=canonical>, og:url, the URL given; made absolute
//   site name  og:site_name, JSON-LD publisher, application-name
//   language   <html lang>, og:locale, JSON-LD inLanguage, Content-Language
// Meta tags are read in both the standard form (property/name + content) and
// the form some tools save (name="og:title" value="..."). Values are
// whitespace-collapsed; dates are normalised by normalize_date().
#pragma once

#include <string>
#include <string_view>

#include "tasks/extract/html_tree.h"

namespace twinflow {

struct PageMetadata {
  std::string title;
  std::string description;
  std::string author;
  bool author_from_byline = false;  // found in the page text, not in metadata
  std::string published;
  std::string canonical_url;
  std::string site_name;
  std::string language;
};

// `url` is where the page was fetched from ("" when unknown).
PageMetadata read_metadata(const HtmlTree& tree, std::string_view url);

// Removes trailing " - Site", " | by Author" and similar decorations from a
// title (see metadata.h).
std::string strip_title_decorations(std::string_view title, std::string_view site_name,
                                    std::string_view author);

// Resolves `href` against `base` (scheme-relative, root-relative and
// path-relative forms); returns `href` unchanged when it is absolute or the
// base is unusable.
std::string resolve_url(std::string_view href, std::string_view base);

}  // namespace twinflow
