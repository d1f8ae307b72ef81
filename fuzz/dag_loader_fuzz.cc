// libFuzzer target for the DAG loader: YAML text in, a Dag or diagnostics out.
//
// Any byte string is a DAG file. Loading must return without crashing,
// hanging, reading out of bounds or taking memory out of proportion (the
// limits of yaml_document.h: aliases, nesting, size), and what it returns
// must hold together: a Dag exactly when there is no diagnostic, each
// diagnostic inside the file, every step with an id. The last line of the
// input, when it starts with "#p ", is also given as a `-p greeting=...`
// override, so that the override parser runs too. scripts/fuzz.sh builds it
// with ASan and UBSan and runs it from dags/ with fuzz/dag_loader.dict, whose
// YAML tokens (anchors, aliases, flow and block syntax, DAG keys) steer the
// mutations. Build by hand:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
//     fuzz/dag_loader_fuzz.cc scheduler/{dag_loader,dag_validate,yaml_document,\
//     diagnostic,edit_distance,cron}.cc util/{sha256,error}.cc -lyaml -lcctz -lcrypto
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "scheduler/definition/dag_loader.h"
#include "scheduler/definition/diagnostic.h"

namespace {

// Aborts, saying what did not hold, so that the crash report tells.
#define REQUIRE(condition)                                               \
  do {                                                                   \
    if (!(condition)) {                                                  \
      std::fprintf(stderr, "dag_loader_fuzz: failed: %s\n", #condition); \
      std::abort();                                                      \
    }                                                                    \
  } while (false)

// An upper bound of the lines libyaml counts: \r\n counts twice here.
size_t line_count(std::string_view text) {
  size_t lines = 1;
  for (char c : text) lines += c == '\n' || c == '\r';
  for (std::string_view unicode_break : {"\xC2\x85", "\xE2\x80\xA8", "\xE2\x80\xA9"})
    for (size_t at = text.find(unicode_break); at != std::string_view::npos;
         at = text.find(unicode_break, at + 1))
      ++lines;
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string content(reinterpret_cast<const char*>(data), size);
  twinflow::LoadOptions options;
  const size_t last_line = content.rfind('\n');
  if (last_line != std::string::npos && content.compare(last_line + 1, 3, "#p ") == 0)
    options.param_overrides["greeting"] = content.substr(last_line + 4);

  const twinflow::LoadResult result = twinflow::load_dag_string(content, "fuzz.yaml", options);
  REQUIRE(result.ok() == result.dag.has_value());
  const size_t lines = line_count(content);
  for (const twinflow::Diagnostic& d : result.diagnostics) {
    REQUIRE(d.line >= 0 && d.column >= 0);
    REQUIRE(static_cast<size_t>(d.line) <= lines);
    REQUIRE(!d.message.empty());
    REQUIRE(!d.format().empty());
  }
  if (result.dag) {
    REQUIRE(!result.dag->steps.empty());
    for (const twinflow::Step& step : result.dag->steps) REQUIRE(!step.id.empty());
    REQUIRE(result.dag->content == content);
  }
  return 0;
}
