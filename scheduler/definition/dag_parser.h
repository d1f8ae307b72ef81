// DagParser: builds a Dag from a DAG file's root mapping, checking each
// value's shape and reporting every problem to a DiagnosticSink. One instance
// per load. dag_parser.cc reads the top level, params, pools, schedules and
// triggers; dag_parser_steps.cc reads steps and where they run.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/definition/dag.h"
#include "scheduler/definition/dag_loader.h"
#include "scheduler/definition/yaml_fields.h"

namespace twinflow::dag_loader_internal {

const KeyList& top_level_keys();
const KeyList& schedule_keys();
const KeyList& trigger_keys();
const KeyList& document_trigger_keys();
const KeyList& step_keys();
const KeyList& slurm_keys();
const KeyList& retry_keys();
const KeyList& cache_keys();
const KeyList& output_keys();

class DagParser {
 public:
  DagParser(const LoadOptions& options, DiagnosticSink& sink, Dag& dag,
            std::vector<StepSource>& sources)
      : options_(options), sink_(sink), dag_(dag), sources_(sources) {}

  void parse(const YamlNode& root);

 private:
  // A step being read: its label for messages ("step 'x'") and where it goes.
  struct StepContext {
    std::string label;
    Step& step;
    StepSource& source;
  };

  // --- values ---

  void report_type(const Subject& subject, const std::string& expected, const YamlNode& value);

  // The value as text; nullopt after reporting that it is not a string.
  std::optional<std::string> text_of(const YamlNode& value, const Subject& subject);

  // The strings of a sequence, or a lone string when `allow_single`.
  std::vector<PositionedText> text_list(const YamlNode& value, const Subject& subject,
                                        bool allow_single);

  // A non-negative int, such as a retry count.
  std::optional<int> count_of(const YamlNode& value, const Subject& subject,
                              const std::string& expected);

  std::optional<bool> boolean_of(const YamlNode& value, const Subject& subject);

  // An int of at least 1, such as max_active_runs.
  std::optional<int> positive_count_of(const YamlNode& value, const Subject& subject);

  std::optional<Millis> duration_of(const YamlNode& value, const Subject& subject);

  // Converts any YAML value to JSON. With `with_params`, ${params.x} is
  // replaced in every string inside.
  nlohmann::json json_of(const YamlNode& node, const Place& place, bool with_params);

  // --- parameters ---

  std::string substitute(std::string_view text, SourcePos pos);

  void parse_params(const Entry* params);

  // -p overrides replace defaults. A name the DAG does not declare is
  // probably a typo, and running with the default instead would hide it.
  void apply_overrides();

  // --- top level ---

  void parse_name(const Entry* name);

  void parse_pools(const Entry* pools);

  std::optional<int> parse_pool_slots(const Entry& entry);

  // --- schedule and triggers ---
  // Neither gets ${params.x} substitution: the scheduler reads them without
  // the -p values a run may bring.

  // `schedule: "@weekly"` is short for `schedule: {cron: "@weekly"}`.
  void parse_schedule(const Entry* schedule);

  void parse_schedule_fields(const YamlNode& mapping, ScheduleSpec& spec);

  void check_cron(const std::string& cron, const Subject& subject);

  void parse_triggers(const Entry* triggers);

  // Each item is a mapping with exactly one key, the kind of trigger.
  std::optional<TriggerSpec> parse_trigger(const YamlNode& node, const std::string& label);

  // `debounce` (>= 0) and `max_wait` (> 0, not below debounce), beside the kind.
  void parse_trigger_timing(const Fields& fields, const std::string& label, TriggerSpec& trigger);

  // Any artifact name will do: it may be produced by another pipeline.
  std::optional<TriggerSpec> parse_artifact_trigger(const Entry& entry, const std::string& label,
                                                    TriggerSpec& trigger);

  // `on_documents:` alone means one new document from any platform.
  std::optional<TriggerSpec> parse_documents_trigger(const Entry& entry, const std::string& label,
                                                     TriggerSpec& trigger);

  std::optional<std::string> platform_of(const Entry& platform, const std::string& label);

  void parse_steps(const Entry* steps);

  // --- steps ---

  void parse_step(const YamlNode& node, size_t index);

  void parse_step_id(const Entry* id, size_t index, Step& step, StepSource& source);

  void parse_step_type(const Entry* type, StepContext& context);

  // Whether the needed steps exist is checked in dag_validate.cc.
  void parse_needs(const Entry* needs, StepContext& context);

  // Whether the referenced steps and outputs exist is checked in dag_validate.cc.
  void parse_inputs(const Entry* inputs, StepContext& context);

  std::optional<InputRef> parse_input(const Entry& entry, const StepContext& context);

  static constexpr std::string_view kArtifactPrefix = "artifact:";

  // "artifact:NAME" or "artifact:NAME@N".
  std::optional<InputRef> parse_artifact_input(const Entry& entry, std::string_view ref,
                                               const std::string& subject);

  void parse_outputs(const Entry* outputs, StepContext& context);

  std::optional<OutputDecl> parse_output(const YamlNode& node, size_t index,
                                         const StepContext& context);

  // Reads {name, artifact, type}. False when there is no usable name.
  template <typename LabelFn>
  bool parse_output_fields(const YamlNode& node, const LabelFn& label, const StepContext& context,
                           OutputDecl& output);

  void parse_step_params(const Entry* params, StepContext& context);

  void parse_command(const Entry* command, StepContext& context);

  void parse_env(const Entry* env, StepContext& context);

  void parse_retries(const Entry* retries, StepContext& context);

  std::optional<Millis> retry_duration(const Entry* entry, const StepContext& context);

  void parse_timeout(const Entry* timeout, StepContext& context);

  void parse_cache(const Entry* cache, StepContext& context);

  void parse_pool(const Entry* pool, StepContext& context);

  // --- where steps run ---

  std::optional<std::string> executor_of(const Entry* executor, const std::string* owner);

  // Fills `resources` from a `slurm:` mapping; keys it leaves out keep their
  // value (the DAG's defaults, for a step).
  void parse_slurm(const Entry* slurm, const std::string* owner, SlurmResources& resources);

  const LoadOptions& options_;
  DiagnosticSink& sink_;
  Dag& dag_;
  SlurmResources dag_slurm_;          // the top-level `slurm:`, every step's defaults
  std::vector<StepSource>& sources_;  // parallel to dag_.steps
  std::vector<std::string> pool_names_;
  bool params_usable_ = true;  // false when 'params' is malformed: silences "unknown parameter"
  bool pools_usable_ = true;   // likewise for 'pools' and "undeclared pool"
};

}  // namespace twinflow::dag_loader_internal
