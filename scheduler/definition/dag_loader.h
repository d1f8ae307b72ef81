// Loading DAG files: YAML text in, a validated Dag or every problem out.
//
// The loader never stops at the first mistake. It reads the whole file,
// collects one Diagnostic per problem (unknown keys with a "did you mean",
// wrong value types, dangling references, dependency cycles) and returns them
// sorted by position, so `twinflow validate` can show them all at once. Only a
// file without any problem yields a Dag. The format is described in
// docs/DAG_FORMAT.md.
//
// The work is split in two files: dag_loader.cc reads each YAML node into the
// Dag and checks its shape; dag_validate.cc holds the checks that need no YAML:
// names, scalars, durations, ${params.x} substitution, and what spans steps
// (ids, needs, inputs, cycles). The declarations they share are at the end of
// this header, in namespace dag_loader_internal; callers do not need them.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/definition/dag.h"
#include "scheduler/definition/diagnostic.h"

namespace twinflow {

struct LoadOptions {
  // From `-p key=value`; each replaces the param's default. A value is typed
  // like an unquoted YAML scalar ("3" is a number, "true" a boolean, anything
  // else a string), except that a quoted string or a flow sequence or mapping
  // (any JSON text, say) is read as YAML: '"3"' is the string 3, '[1, 2]' a list.
  std::map<std::string, std::string> param_overrides;
};

struct LoadResult {
  std::optional<Dag> dag;               // set only when diagnostics is empty
  std::vector<Diagnostic> diagnostics;  // every problem found, sorted by line then column
  bool ok() const { return diagnostics.empty(); }
};

// Reads and validates the DAG file at `path`. A file that cannot be read gives
// one Diagnostic without position: "cannot read file: <reason>".
LoadResult load_dag_file(const std::string& path, const LoadOptions& options = {});

// Validates `content` as if read from `file_name` (used in diagnostics and
// recorded as Dag::file).
LoadResult load_dag_string(const std::string& content, const std::string& file_name,
                           const LoadOptions& options = {});

namespace dag_loader_internal {

// Collects diagnostics for one file and quotes the offending line in each.
class DiagnosticSink {
 public:
  DiagnosticSink(std::string file, std::string_view content);

  // `pos.line` 0 means the problem has no single place in the file.
  void report(SourcePos pos, std::string message);
  // Returns the diagnostics sorted by line, then column, then report order.
  std::vector<Diagnostic> take_sorted();

 private:
  void index_lines();
  std::string line_text(int line) const;

  std::string file_;
  std::string_view content_;
  // Byte offset where each line begins; built at the first report, since a
  // valid file, the common case, needs no line's text.
  std::vector<size_t> line_starts_;
  std::vector<Diagnostic> diagnostics_;
};

// What the checks across steps need to know about a step beyond Step itself:
// where its id and its explicit needs were written.
struct StepSource {
  SourcePos id_pos;                  // of the id value; line 0 if the step has no id
  std::vector<std::string> needs;    // explicit needs as written, with duplicates
  std::vector<SourcePos> needs_pos;  // parallel to `needs`
};

// Checks step ids for duplicates, needs and inputs for dangling references,
// and the graph for cycles. Fills each Step::needs with its explicit needs
// followed by the producers of its inputs, each once. `sources` is parallel
// to dag.steps. Runs in time linear in steps plus edges.
void check_step_graph(Dag& dag, const std::vector<StepSource>& sources, DiagnosticSink& sink);

// "step 'x'", or "step at index 3" for a step without an id, for messages.
std::string step_label(const std::string& id, size_t index);

// " (did you mean 'x'?)" when a candidate is close to `word`, else "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

enum class ScalarType { kNull, kBoolean, kInteger, kFloat, kString };

// Types an unquoted scalar like YAML 1.2's core schema (decimal numbers only),
// except that yes/no/on/off stay strings: `country: no` must not become false.
// An empty text is a string, so that `-p key=` sets an empty value.
ScalarType resolve_plain_scalar(std::string_view text);

// Whether an unquoted scalar spells null: "~", "null", "Null" or "NULL".
bool is_null_text(std::string_view text);

// The JSON value of a scalar. Integers beyond 64 bits become floats; an
// infinite float stays text, since JSON cannot hold it.
nlohmann::json scalar_to_json(std::string_view text, ScalarType type);

// Which characters a kind of name may use, and the advice when it does not.
struct NameRule {
  std::string_view punctuation;  // allowed besides ASCII letters and digits
  bool letter_first;             // must start with a letter or '_'
  std::string_view advice;
};
inline constexpr NameRule kIdRule = {"_-", true, "use letters, digits, '_' and '-'"};
inline constexpr NameRule kVariableRule = {"_", true, "use letters, digits and '_'"};
inline constexpr NameRule kDottedRule = {"_.-", false, "use letters, digits, '_', '.' and '-'"};

// Empty when `name` follows `rule`, else what to tell the user.
std::string name_problem(std::string_view name, const NameRule& rule);

// Empty when `cron` is a cron expression Schedule accepts, else CronExpr's
// message, which names the field and the value.
std::string cron_problem(std::string_view cron);

// Whether Schedule accepts `timezone` as an IANA zone name ("" is not one).
bool is_known_timezone(std::string_view timezone);

// The zone names installed on this machine, for suggestions. Reads the zone
// list on every call: only a misspelt zone needs it.
std::vector<std::string> installed_timezone_names();

// Empty when `time` is a time limit sbatch accepts ("MM", "MM:SS",
// "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS"), else what is wrong with it.
std::string slurm_time_problem(std::string_view time);
// Empty when `mem` is a memory size sbatch accepts (digits, optionally K, M, G
// or T), else what is wrong with it.
std::string slurm_mem_problem(std::string_view mem);

// Replaces each ${params.NAME} in `text` by the final value of the param
// (strings as is, other values as JSON). Reports, at `pos`, names missing
// from `params` when `report_unknown`, and leaves their text unchanged.
std::string substitute_params(std::string_view text, SourcePos pos, const nlohmann::json& params,
                              bool report_unknown, DiagnosticSink& sink);

}  // namespace dag_loader_internal

}  // namespace twinflow
