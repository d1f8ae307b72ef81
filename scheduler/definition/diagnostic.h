// Diagnostic: one problem found in a user's file, with where it is.
//
// Validation collects every Diagnostic it finds instead of stopping at the
// first, so that a user fixes a DAG file in one pass. format() renders the
// compiler-style text that `twinflow validate` prints and tests assert:
//
//   dags/x.yaml:7:5: unknown key 'comand' in step 'train' (did you mean 'command'?)
//       comand: python train.py
//       ^
#pragma once

#include <string>
#include <vector>

namespace twinflow {

struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 when the problem has no single place
  int column = 0;  // 1-based
  std::string message;
  std::string source_line;  // the offending line's text, without newline

  std::string format() const;
};

std::string format_diagnostics(const std::vector<Diagnostic>& diagnostics);

}  // namespace twinflow
