// GraphSvg: draws a directed graph (a run's DAG, a lineage graph) as SVG with
// Graphviz's dot layout (libgvc), for the dashboard.
//
// The dashboard shows the result in an <img>, so whatever text the labels
// carry (step ids, artifact names, crawled titles and URLs) is escaped by
// Graphviz's SVG writer and can never run as script. Graphviz's context is not
// thread-safe: renders are serialised on a mutex held by the renderer.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace twinflow {

struct GraphNode {
  std::string id;     // unique within the graph
  std::string label;  // shown text; lines separated by '\n'
  std::string fill = "#ffffff";
  std::string shape = "box";  // a Graphviz shape: box, ellipse, note, cylinder...
};

struct GraphEdge {
  std::string from, to;
};

struct GraphSpec {
  std::vector<GraphNode> nodes;
  std::vector<GraphEdge> edges;
  bool left_to_right = true;
};

class GraphSvgRenderer {
 public:
  GraphSvgRenderer();
  ~GraphSvgRenderer();
  GraphSvgRenderer(const GraphSvgRenderer&) = delete;
  GraphSvgRenderer& operator=(const GraphSvgRenderer&) = delete;

  // The SVG document. Edges naming unknown nodes are skipped. Throws Error
  // when Graphviz cannot lay out or render (e.g. its plugins are missing).
  std::string render(const GraphSpec& graph);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::mutex mutex_;
};

// The fill colour the dashboard gives a run or step status.
const char* status_colour(const std::string& status);

}  // namespace twinflow
