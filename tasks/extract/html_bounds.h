// bound_html: rewrites arbitrary HTML into a form gumbo parses in bounded time
// and memory, keeping everything the extractor reads.
//
// Gumbo 0.10 implements the HTML5 tree construction faithfully, and with it
// the algorithm's worst cases: a "has an element in scope" check walks the
// whole stack of open elements (quadratic in nesting depth: 40,000 nested
// <div> take seconds), the list of active formatting elements is rebuilt for
// every text node (<p><b id=N></p> repeated 5,000 times takes 20 s), and
// duplicate-attribute checks are quadratic in a tag's attribute count. Pages
// from the wild and fuzzers hit all of these.
//
// The rewrite runs one linear pass with a cheap model of the parser's stack:
//   - comments are dropped, and the content of <script> (except JSON-LD, which
//     holds metadata), <style>, <template>, <iframe>, <noembed>, <noframes>
//     and <xmp>;
//   - a start tag is dropped (its text stays) when the modelled nesting depth
//     or the number of unclosed formatting elements (<b>, <a>, <font>...)
//     reaches its limit;
//   - attributes after the first `max_attributes` of a tag are dropped;
//   - input and output are cut at a size limit.
// The model errs on the side of counting too deep; ordinary pages never come
// near the limits, so for them the rewrite changes nothing but the dropped
// comments and script/style bodies.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace twinflow {

struct HtmlBounds {
  size_t max_input_bytes = 64u << 20;   // bytes of the page looked at
  size_t max_output_bytes = 8u << 20;   // bytes handed to the parser
  size_t max_depth = 256;               // modelled element nesting
  size_t max_open_formatting = 24;      // unclosed <a>, <b>, <i>, <font>...
  size_t max_attributes = 32;           // per tag
  size_t max_json_ld_bytes = 1u << 20;  // per <script type="application/ld+json">
};

// `html` must be UTF-8; the result is UTF-8 too.
std::string bound_html(std::string_view html, const HtmlBounds& bounds = {});

}  // namespace twinflow
