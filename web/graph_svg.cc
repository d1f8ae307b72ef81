// GraphSvgRenderer: Graphviz dot layout and SVG rendering (see graph_svg.h).
#include "web/graph_svg.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <map>

#include "util/error.h"

namespace twinflow {

struct GraphSvgRenderer::Impl {
  GVC_t* context = gvContext();
  ~Impl() { gvFreeContext(context); }
};

GraphSvgRenderer::GraphSvgRenderer() : impl_(std::make_unique<Impl>()) {
  if (!impl_->context) throw Error("cannot start Graphviz (gvContext failed)");
}

GraphSvgRenderer::~GraphSvgRenderer() = default;

namespace {

// cgraph takes char*, not const char*; it copies what it keeps.
char* chars(const std::string& s) {
  return const_cast<char*>(s.c_str());
}

// Graphviz reads backslash escapes (\N, \G, \l) in labels; doubling every
// backslash shows the text as it is. Newlines become centred line breaks.
std::string label_text(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

struct GraphHandle {
  Agraph_t* graph;
  ~GraphHandle() { agclose(graph); }
};

}  // namespace

std::string GraphSvgRenderer::render(const GraphSpec& spec) {
  std::lock_guard lock(mutex_);
  Agdesc_t directed = Agdirected;
  GraphHandle handle{agopen(chars("g"), directed, nullptr)};
  Agraph_t* g = handle.graph;
  agattr(g, AGRAPH, chars("rankdir"), chars(spec.left_to_right ? "LR" : "TB"));
  agattr(g, AGRAPH, chars("bgcolor"), chars("transparent"));
  agattr(g, AGRAPH, chars("nodesep"), chars("0.3"));
  agattr(g, AGNODE, chars("shape"), chars("box"));
  agattr(g, AGNODE, chars("style"), chars("filled,rounded"));
  agattr(g, AGNODE, chars("fillcolor"), chars("#ffffff"));
  agattr(g, AGNODE, chars("fontname"), chars("Helvetica"));
  agattr(g, AGNODE, chars("fontsize"), chars("11"));
  agattr(g, AGNODE, chars("label"), chars("\\N"));
  agattr(g, AGNODE, chars("id"), chars(""));
  agattr(g, AGEDGE, chars("color"), chars("#555555"));
  std::map<std::string, Agnode_t*> nodes;
  for (const GraphNode& n : spec.nodes) {
    Agnode_t* node = agnode(g, chars(n.id), 1);
    agset(node, chars("label"), chars(label_text(n.label)));
    agset(node, chars("fillcolor"), chars(n.fill));
    agset(node, chars("shape"), chars(n.shape));
    agset(node, chars("id"), chars("node-" + n.id));
    nodes[n.id] = node;
  }
  for (const GraphEdge& e : spec.edges) {
    auto from = nodes.find(e.from), to = nodes.find(e.to);
    if (from == nodes.end() || to == nodes.end()) continue;
    agedge(g, from->second, to->second, nullptr, 1);
  }
  if (gvLayout(impl_->context, g, "dot") != 0) throw Error("Graphviz could not lay out the graph");
  char* data = nullptr;
  unsigned int length = 0;
  const int rendered = gvRenderData(impl_->context, g, "svg", &data, &length);
  std::string svg = rendered == 0 && data ? std::string(data, length) : std::string();
  if (data) gvFreeRenderData(data);
  gvFreeLayout(impl_->context, g);
  if (rendered != 0 || svg.empty())
    throw Error("Graphviz could not render SVG (is its core plugin installed? run `dot -c`)");
  return svg;
}

const char* status_colour(const std::string& status) {
  static const std::map<std::string, const char*> kColours = {
      {"succeeded", "#b7e4c7"}, {"cached", "#d8f3dc"},      {"reused", "#e9f5db"},
      {"running", "#a9d6f5"},   {"retrying", "#ffe08a"},    {"queued", "#e0e0e0"},
      {"pending", "#f1f1f1"},   {"failed", "#f4a3a3"},      {"timed_out", "#f4a3a3"},
      {"cancelled", "#d6c8e8"}, {"interrupted", "#f7c59f"}, {"upstream_failed", "#fbd3d3"}};
  auto it = kColours.find(status);
  return it == kColours.end() ? "#ffffff" : it->second;
}

}  // namespace twinflow
