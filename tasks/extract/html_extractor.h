// extract_html: from the HTML of a blog post, article, LinkedIn post or
// GitHub README to its metadata and its body as structured text.
//
// The page goes through: charset decoding (charset.h), a bounding rewrite
// that keeps gumbo linear on hostile input (html_bounds.h), parsing into a
// flat tree (html_tree.h), metadata reading (metadata.h), platform rules when
// the platform is known (platform_rules.h), content selection after
// Readability (content_scoring.h) and block writing (block_writer.h). A pass
// that finds under 500 characters of body is retried with fewer heuristics,
// as Readability does, and the longest result wins.
//
// The title heading and the subtitle are removed from the body when they
// repeat the metadata. Any input — malformed, binary, huge, deeply nested —
// yields a result (possibly empty) in time roughly linear in its size.
#pragma once

#include <string>
#include <string_view>

#include "tasks/extract/document.h"

namespace twinflow {

// `url`: where the page came from, for resolving the canonical URL and
// detecting the platform. `platform_hint`: "medium", "substack", "linkedin",
// "github" or "" (detect).
ExtractedPage extract_html(std::string_view html, const std::string& url = "",
                           const std::string& platform_hint = "");

}  // namespace twinflow
