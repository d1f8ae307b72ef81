// libxml2 for untrusted XML. See xml_safe.h.
#include "tasks/crawl/xml_safe.h"
#include "util/strings.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cctype>
#include <cstdint>

namespace twinflow {

void XmlDocDeleter::operator()(_xmlDoc* doc) const {
  xmlFreeDoc(doc);
}

namespace {

std::string_view skip_bom_and_blanks(std::string_view bytes) {
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);
  while (!bytes.empty() && std::isspace(static_cast<unsigned char>(bytes.front())))
    bytes.remove_prefix(1);
  return bytes;
}

bool declares_entities(xmlDoc* doc) {
  for (xmlDtd* dtd : {doc->intSubset, doc->extSubset}) {
    if (!dtd) continue;
    for (xmlNode* n = dtd->children; n; n = n->next)
      if (n->type == XML_ENTITY_DECL) return true;
  }
  return false;
}

void silent_errors(void*, const char*, ...) {}

}  // namespace

bool looks_like_html(std::string_view bytes) {
  const std::string head = to_lower(skip_bom_and_blanks(bytes).substr(0, 14));
  return head.rfind("<!doctype html", 0) == 0 || head.rfind("<html", 0) == 0;
}

XmlParse parse_untrusted_xml(std::string_view bytes, const std::string& url) {
  XmlParse out;
  if (skip_bom_and_blanks(bytes).empty()) {
    out.error = "empty document";
    return out;
  }
  if (looks_like_html(bytes)) {
    out.error = "an HTML page, not XML";
    return out;
  }
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    out.error = "document too large";
    return out;
  }
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  if (!ctxt) {
    out.error = "out of memory";
    return out;
  }
  xmlSetGenericErrorFunc(nullptr, silent_errors);
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  xmlDoc* doc = xmlCtxtReadMemory(ctxt, bytes.data(), static_cast<int>(bytes.size()), url.c_str(),
                                  nullptr, options);
  if (!doc || !ctxt->wellFormed) {
    const xmlError* e = &ctxt->lastError;
    std::string message = e->message ? one_line(e->message) : "unreadable";
    out.error = "malformed XML (line " + std::to_string(e->line) + ": " + message + ")";
    if (doc) xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return out;
  }
  xmlFreeParserCtxt(ctxt);
  out.doc.reset(doc);
  if (declares_entities(doc)) {
    out.doc.reset();
    out.error = "the document declares XML entities (refused)";
    return out;
  }
  xmlNode* root = xmlDocGetRootElement(doc);
  if (!root) {
    out.doc.reset();
    out.error = "no root element";
  } else if (xml_local_name(root) == "html") {
    out.doc.reset();
    out.error = "an HTML page, not XML";
  }
  return out;
}

_xmlNode* xml_root(const XmlParse& parsed) {
  return parsed.doc ? xmlDocGetRootElement(parsed.doc.get()) : nullptr;
}

std::string xml_local_name(const _xmlNode* node) {
  if (!node || node->type != XML_ELEMENT_NODE || !node->name) return "";
  return reinterpret_cast<const char*>(node->name);
}

std::string xml_namespace(const _xmlNode* node) {
  if (!node || !node->ns || !node->ns->href) return "";
  return reinterpret_cast<const char*>(node->ns->href);
}

std::string xml_text(const _xmlNode* node) {
  std::string out;
  if (!node) return out;
  // Iterative walk of the subtree: text and CDATA only (entity references
  // cannot occur: documents declaring entities are refused).
  const xmlNode* n = node->children;
  while (n) {
    if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content)
      out += reinterpret_cast<const char*>(n->content);
    if (n->type == XML_ELEMENT_NODE && n->children) {
      n = n->children;
      continue;
    }
    while (n && !n->next && n != node) n = n->parent;
    if (!n || n == node) break;
    n = n->next;
  }
  const size_t first = out.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const size_t last = out.find_last_not_of(" \t\r\n");
  return out.substr(first, last - first + 1);
}

std::string xml_attr(const _xmlNode* node, const char* name) {
  if (!node || node->type != XML_ELEMENT_NODE) return "";
  xmlChar* value = xmlGetNoNsProp(node, reinterpret_cast<const xmlChar*>(name));
  if (!value) return "";
  std::string out = reinterpret_cast<const char*>(value);
  xmlFree(value);
  return out;
}

std::string xml_base(const _xmlNode* node) {
  if (!node) return "";
  xmlChar* base = xmlNodeGetBase(node->doc, node);
  if (!base)
    return node->doc && node->doc->URL ? reinterpret_cast<const char*>(node->doc->URL) : "";
  std::string out = reinterpret_cast<const char*>(base);
  xmlFree(base);
  return out;
}

}  // namespace twinflow
