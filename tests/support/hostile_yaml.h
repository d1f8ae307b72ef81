// Hostile DAG files for the tests of YamlLimits and of the loaders above it.
#pragma once

#include <string>

namespace twinflow {

// "Billion laughs": nine levels of nine aliases each, 9^9 (387 million)
// strings from 486 bytes. Without limits, loading it took 35 s and
// 4 GB. The first alias past the limit on alias nodes is line 8's first `*e`.
inline std::string billion_laughs_dag() {
  std::string text =
      "name: laughs\nparams:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (char level = 'b'; level <= 'i'; ++level) {
    const std::string alias = std::string("*") + static_cast<char>(level - 1);
    text += std::string("  ") + level + ": &" + level + " [";
    for (int i = 0; i < 9; ++i) text += (i ? ", " : "") + alias;
    text += "]\n";
  }
  return text + "steps:\n  - id: laugh\n    command: echo ${params.i}\n";
}

}  // namespace twinflow
