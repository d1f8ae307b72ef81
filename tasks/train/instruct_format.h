// The text layout the built-in model is trained, evaluated and prompted with:
// an Alpaca-style instruction block followed by the answer. The finetune step
// trains on instruct_text(), evaluate scores the answers after
// instruct_prompt(), and the RAG server generates after instruct_prompt().
// Keeping the three on one definition is what makes their figures comparable.
#pragma once

#include <string>
#include <string_view>

namespace twinflow {

inline std::string instruct_prompt(std::string_view instruction) {
  std::string out = "### Instruction:\n";
  out += instruction;
  out += "\n\n### Response:\n";
  return out;
}

inline std::string instruct_text(std::string_view instruction, std::string_view answer) {
  return instruct_prompt(instruction) + std::string(answer);
}

// A generated response up to where the model starts a new "###" section of its
// own (it learned the layout, so it may), without surrounding whitespace.
inline std::string response_only(std::string_view generated) {
  std::string_view out = generated.substr(0, generated.find("###"));
  const auto first = out.find_first_not_of(" \n\t");
  if (first == std::string_view::npos) return "";
  out = out.substr(first, out.find_last_not_of(" \n\t") - first + 1);
  return std::string(out);
}

}  // namespace twinflow
