// Boilerplate signals: how an element's tag, class, id, role and visibility
// say whether it is page furniture (navigation, share bars, cookie banners,
// comments, "related posts") or content.
//
// These are the judgements Readability and Mercury make with regular
// expressions over class and id; here the patterns are matched against the
// lower-cased words of those attributes, with a few short patterns ("nav",
// "ad") matched only as whole words or word prefixes so that "canvas" and
// "header-image" do not trip them.
#pragma once

#include <gumbo.h>

#include "tasks/extract/html_tree.h"

namespace twinflow {

// Elements never part of an article's text: scripts, styles, embedded media,
// form controls.
bool is_dead_tag(GumboTag tag);

// Page-structure elements that hold furniture unless the content sits inside
// them: <nav>, <aside>, <footer>, <header>, <form>.
bool is_furniture_tag(GumboTag tag);

// hidden, aria-hidden="true", style="display:none" or "visibility:hidden".
bool is_hidden(const HtmlTree& tree, int i);

// ARIA roles of furniture: navigation, banner, contentinfo, complementary,
// menu, dialog, search...
bool has_furniture_role(const HtmlTree& tree, int i);

// Class or id names furniture ("share-bar", "cookie-consent", "comments")
// and names nothing that could be the content ("article", "content", "main").
bool is_unlikely_candidate(const HtmlTree& tree, int i);

// Class or id contains a furniture word, whatever else it says. A content
// marker named like this ("comment__content-wrapper") is not the content.
bool has_furniture_name(const HtmlTree& tree, int i);

// Readability's class weight: -25 for each of class and id that looks like
// furniture, +25 for each that looks like content.
int class_weight(const HtmlTree& tree, int i);

// Strong marks of the main content: <article>, <main>, role=main,
// itemprop=articleBody.
bool is_content_marker(const HtmlTree& tree, int i);

}  // namespace twinflow
