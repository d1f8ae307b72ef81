// ExtractedPage's text rendering; see document.h.
#include "tasks/extract/document.h"

namespace twinflow {

std::string ExtractedPage::body_text() const {
  std::string out;
  for (const Block& block : blocks) {
    if (block.text.empty()) continue;
    if (!out.empty()) out += "\n\n";
    out += block.text;
  }
  return out;
}

}  // namespace twinflow
