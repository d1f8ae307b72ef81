// Loading a DAG file: reading it within the size limit, parsing the YAML,
// then DagParser (dag_parser.h) for the values and check_step_graph
// (dag_validate.cc) for the steps together.
//
// Every check reports to a DiagnosticSink and carries on, so one pass finds
// every problem; a value of the wrong type is reported and skipped. The Dag is
// only handed out when nothing was reported.
#include "scheduler/definition/dag_loader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "scheduler/definition/dag_parser.h"
#include "scheduler/definition/yaml_document.h"
#include "util/sha256.h"

namespace twinflow {

using dag_loader_internal::check_step_graph;
using dag_loader_internal::DagParser;
using dag_loader_internal::DiagnosticSink;
using dag_loader_internal::StepSource;

namespace {

// Reports a syntax error; nothing else can be checked in such a document.
std::optional<YamlDocument> parse_document(std::string_view content, DiagnosticSink& sink) {
  YamlParseResult parsed = parse_yaml(content);
  if (!parsed.ok()) {
    sink.report(
        {parsed.error_mark.line, parsed.error_mark.column},
        (parsed.limit_exceeded ? "YAML limit exceeded: " : "YAML syntax error: ") + parsed.error);
    return std::nullopt;
  }
  return std::move(parsed.document);
}

struct FileText {
  std::string content;
  std::string error;       // strerror text; empty on success
  bool too_large = false;  // more than YamlLimits::kMaxBytes: content is cut there
};

// Reads at most one byte more than a DAG file may have, so that a huge file
// (or /dev/zero) costs no more than a big DAG file.
FileText read_whole_file(const std::string& path) {
  FileText result;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {"", std::strerror(errno)};
  char buffer[65536];
  while (result.content.size() <= YamlLimits::kMaxBytes) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      result.error = std::strerror(errno);
      break;
    }
    result.content.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  result.too_large = result.content.size() > YamlLimits::kMaxBytes;
  return result;
}

// Loads `content`, which becomes Dag::content: taking it by value lets a file
// just read be kept without copying it.
LoadResult load_content(std::string content, const std::string& file_name,
                        const LoadOptions& options) {
  Dag dag;
  LoadResult result;
  {
    DiagnosticSink sink(file_name, content);
    std::vector<StepSource> sources;
    if (std::optional<YamlDocument> document = parse_document(content, sink)) {
      DagParser(options, sink, dag, sources).parse(document->root());
      check_step_graph(dag, sources, sink);
    }
    result.diagnostics = sink.take_sorted();
  }
  if (!result.diagnostics.empty()) return result;
  dag.file = file_name;
  dag.content_hash = sha256_hex(content);
  dag.content = std::move(content);
  result.dag = std::move(dag);
  return result;
}

}  // namespace

LoadResult load_dag_string(const std::string& content, const std::string& file_name,
                           const LoadOptions& options) {
  return load_content(content, file_name, options);
}

LoadResult load_dag_file(const std::string& path, const LoadOptions& options) {
  FileText file = read_whole_file(path);
  if (file.error.empty() && !file.too_large)
    return load_content(std::move(file.content), path, options);
  LoadResult result;
  result.diagnostics.push_back({path, 0, 0,
                                file.too_large
                                    ? "YAML limit exceeded: the file is larger than the " +
                                          std::to_string(YamlLimits::kMaxBytes / (1024 * 1024)) +
                                          " MiB a DAG file may have"
                                    : "cannot read file: " + file.error,
                                ""});
  return result;
}

}  // namespace twinflow
