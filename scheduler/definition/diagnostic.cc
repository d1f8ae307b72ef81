// Rendering of Diagnostic values as compiler-style text with a caret line.
#include "scheduler/definition/diagnostic.h"
#include "util/strings.h"

namespace twinflow {

namespace {

// UTF-8 continuation bytes do not start a character on screen.
// Blanks out the text left of the caret but keeps tabs, so that the caret
// lands under the offending column whatever the terminal's tab width is.
std::string caret_line(const std::string& source_line, int column) {
  std::string caret;
  for (int i = 0; i + 1 < column; ++i) {
    if (static_cast<size_t>(i) >= source_line.size()) {
      caret += ' ';
    } else if (source_line[i] == '\t') {
      caret += '\t';
    } else if (!is_utf8_continuation(source_line[i])) {
      caret += ' ';
    }
  }
  return caret + '^';
}

}  // namespace

std::string Diagnostic::format() const {
  if (line <= 0) return file + ": " + message;
  std::string text = file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                     message + "\n" + source_line + "\n" + caret_line(source_line, column);
  return text;
}

std::string format_diagnostics(const std::vector<Diagnostic>& diagnostics) {
  std::string text;
  for (const Diagnostic& diagnostic : diagnostics) text += diagnostic.format() + "\n";
  return text;
}

}  // namespace twinflow
