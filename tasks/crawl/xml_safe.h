// parse_untrusted_xml: libxml2 configured for XML a stranger wrote (feeds and
// sitemaps fetched from the web).
//
// No network access (XML_PARSE_NONET), no external DTD loading, no entity
// substitution (no XML_PARSE_NOENT), libxml2's default size and depth limits
// (no XML_PARSE_HUGE). A document that declares entities of its own is
// refused outright, so no "billion laughs" expansion can happen later when
// text is read. HTML served where XML was expected is recognised and named.
// Error strings are one line each, e.g. "malformed XML (line 3: Opening and
// ending tag mismatch: item line 2 and channel)", "an HTML page, not XML",
// "the document declares XML entities (refused)".
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct _xmlDoc;
struct _xmlNode;

namespace twinflow {

struct XmlDocDeleter {
  void operator()(_xmlDoc* doc) const;
};
using XmlDocPtr = std::unique_ptr<_xmlDoc, XmlDocDeleter>;

struct XmlParse {
  XmlDocPtr doc;      // null when `error` is set
  std::string error;  // why the bytes are not usable XML
};

// `url` becomes the document's base URL (for xml:base resolution).
XmlParse parse_untrusted_xml(std::string_view bytes, const std::string& url);

// True when `bytes` start (after a BOM and blanks) like an HTML page.
bool looks_like_html(std::string_view bytes);

// The root element, or null.
_xmlNode* xml_root(const XmlParse& parsed);
// An element's name without its prefix ("link" for <atom:link>); "" for non-elements.
std::string xml_local_name(const _xmlNode* node);
// The element's namespace URI, or "".
std::string xml_namespace(const _xmlNode* node);
// The text and CDATA directly and indirectly inside `node`, trimmed.
std::string xml_text(const _xmlNode* node);
// An attribute's value (without namespace), or "".
std::string xml_attr(const _xmlNode* node, const char* name);
// The effective base URL of `node` (xml:base attributes over the document's URL).
std::string xml_base(const _xmlNode* node);

}  // namespace twinflow
