// Platform rules: what is known about the markup of the platforms an LLM
// twin's author publishes on.
//
// The generic extractor must work on every page; these rules only help it
// where a platform's markup is known: the element that holds the post body
// (Substack's .available-content, GitHub's #readme article, LinkedIn's
// article body or post commentary), bylines and dates the
// platform shows only as text (LinkedIn), and where the subtitle lives. Each
// rule falls back to the generic path when its element is missing, so a
// markup change degrades to generic extraction rather than to nothing.
#pragma once

#include <string>
#include <string_view>

#include "tasks/extract/html_tree.h"

namespace twinflow {

enum class Platform { kGeneric, kMedium, kSubstack, kLinkedIn, kGitHub };

// The platform named by `hint` ("medium", "substack", "linkedin", "github",
// any case), else the one the URL's host belongs to, else what the page says
// of itself (og:site_name, a "... on LinkedIn: ..." title, Substack's
// markup), else kGeneric.
Platform detect_platform(std::string_view hint, std::string_view url, std::string_view site_name,
                         std::string_view title, const HtmlTree& tree);

struct PlatformFacts {
  int content_root = -1;  // -1: let scoring decide
  std::string title;
  std::string subtitle;
  std::string author;
  std::string published;  // normalised
  std::string site_name;  // the platform's name, for pages that do not say it
  // GitHub repository pages name users everywhere (committers, stargazers);
  // none of them is the README's author.
  bool ignore_bylines = false;
};

PlatformFacts platform_facts(const HtmlTree& tree, Platform platform);

// Subtitle by the generic convention: the first element whose class or id
// names a subtitle, dek or standfirst, with a sentence-sized text.
std::string generic_subtitle(const HtmlTree& tree);

}  // namespace twinflow
