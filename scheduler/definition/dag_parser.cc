// The DAG file's top level, params, pools, schedule and triggers. See
// dag_parser.h; the checks that need no YAML live in dag_validate.cc.
//
// Messages name what they are about ("'retries.count' of step 'x'"), but those
// names are only built when there is a problem: a valid ten-thousand-step DAG
// should not pay for a hundred thousand strings nobody reads.
#include "scheduler/definition/dag_parser.h"

#include <algorithm>
#include <charconv>
#include <climits>

#include "util/strings.h"

namespace twinflow::dag_loader_internal {

// The keys each kind of mapping accepts, in the order suggestions prefer.
using KeyList = std::vector<std::string>;
const KeyList& top_level_keys() {
  static const KeyList kKeys = {"name",     "description", "params", "pools", "schedule",
                                "triggers", "executor",    "slurm",  "steps"};
  return kKeys;
}
const KeyList& schedule_keys() {
  static const KeyList kKeys = {"cron", "timezone", "catchup", "max_active_runs"};
  return kKeys;
}
const KeyList& trigger_keys() {  // a trigger item: its kind and the coalescing settings
  static const KeyList kKeys = {"on_artifact", "on_documents", "debounce", "max_wait"};
  return kKeys;
}
const KeyList& document_trigger_keys() {
  static const KeyList kKeys = {"platform", "min_new"};
  return kKeys;
}
const KeyList& step_keys() {
  static const KeyList kKeys = {"id",      "type",   "description", "needs",    "inputs",
                                "outputs", "params", "command",     "env",      "retries",
                                "timeout", "cache",  "pool",        "executor", "slurm"};
  return kKeys;
}
const KeyList& slurm_keys() {
  static const KeyList kKeys = {"partition", "time",    "cpus", "mem",
                                "gres",      "account", "qos",  "extra_args"};
  return kKeys;
}
const KeyList& retry_keys() {
  static const KeyList kKeys = {"count", "backoff", "max_backoff"};
  return kKeys;
}
const KeyList& cache_keys() {
  static const KeyList kKeys = {"enabled", "files"};
  return kKeys;
}
const KeyList& output_keys() {
  static const KeyList kKeys = {"name", "artifact", "type"};
  return kKeys;
}

void DagParser::parse(const YamlNode& root) {
  if (!root.is_mapping()) {
    sink_.report(
        position_of(root),
        "a DAG file must be a mapping with keys such as 'name' and 'steps', got " + kind_of(root));
    return;
  }
  Fields top(root);
  top.check_keys(top_level_keys(), Place{}, sink_);
  parse_name(top.find("name"));
  if (const Entry* entry = top.find_given("description")) {
    dag_.description = text_of(entry->value, Subject(*entry, nullptr)).value_or("");
  }
  parse_params(top.find_given("params"));
  apply_overrides();
  parse_pools(top.find_given("pools"));
  parse_schedule(top.find_given("schedule"));
  parse_triggers(top.find_given("triggers"));
  dag_.executor = executor_of(top.find_given("executor"), nullptr).value_or("");
  parse_slurm(top.find_given("slurm"), nullptr, dag_slurm_);
  parse_steps(top.find("steps"));
}

void DagParser::report_type(const Subject& subject, const std::string& expected,
                            const YamlNode& value) {
  sink_.report(subject.pos(), subject.name() + " must be " + expected + ", got " + kind_of(value));
}

// The value as text; nullopt after reporting that it is not a string.
std::optional<std::string> DagParser::text_of(const YamlNode& value, const Subject& subject) {
  if (is_text(value)) return std::string(value.scalar());
  report_type(subject, "a string", value);
  return std::nullopt;
}

// The strings of a sequence, or a lone string when `allow_single`.
std::vector<PositionedText> DagParser::text_list(const YamlNode& value, const Subject& subject,
                                                 bool allow_single) {
  if (allow_single && is_text(value)) return {{std::string(value.scalar()), subject.pos()}};
  if (!value.is_sequence()) {
    report_type(subject,
                allow_single ? "a string or a sequence of strings" : "a sequence of strings",
                value);
    return {};
  }
  std::vector<PositionedText> items;
  for (const YamlNode& item : value.items()) {
    if (is_text(item)) {
      items.push_back({std::string(item.scalar()), position_of(item)});
    } else {
      report_type(Subject("entries of " + subject.name(), position_of(item)), "strings", item);
    }
  }
  return items;
}

// A non-negative int, such as a retry count.
std::optional<int> DagParser::count_of(const YamlNode& value, const Subject& subject,
                                       const std::string& expected) {
  std::optional<long long> count = integer_value(value);
  if (!count) {
    report_type(subject, expected, value);
    return std::nullopt;
  }
  if (*count < 0 || *count > INT_MAX) {
    sink_.report(subject.pos(), subject.name() +
                                    (*count < 0 ? " must not be negative" : " is too large") +
                                    ", got " + std::string(value.scalar()));
    return std::nullopt;
  }
  return static_cast<int>(*count);
}

std::optional<bool> DagParser::boolean_of(const YamlNode& value, const Subject& subject) {
  if (value.is_scalar() && scalar_type(value) == ScalarType::kBoolean) {
    return scalar_to_json(value.scalar(), ScalarType::kBoolean).get<bool>();
  }
  report_type(subject, "a boolean", value);
  return std::nullopt;
}

// An int of at least 1, such as max_active_runs.
std::optional<int> DagParser::positive_count_of(const YamlNode& value, const Subject& subject) {
  std::optional<long long> count = integer_value(value);
  if (!count) {
    report_type(subject, "an integer", value);
    return std::nullopt;
  }
  if (*count < 1 || *count > INT_MAX) {
    sink_.report(subject.pos(), subject.name() +
                                    (*count < 1 ? " must be at least 1" : " is too large") +
                                    ", got " + std::string(value.scalar()));
    return std::nullopt;
  }
  return static_cast<int>(*count);
}

std::optional<Millis> DagParser::duration_of(const YamlNode& value, const Subject& subject) {
  if (!is_text(value)) {
    report_type(subject, "a duration", value);
    return std::nullopt;
  }
  std::string text(value.scalar());
  std::optional<Millis> duration = parse_duration(text);
  if (!duration) {
    sink_.report(subject.pos(), "bad duration '" + text + "' for " + subject.name() +
                                    ": use a number with a unit, like 500ms, 30s, 5m or 2h");
  }
  return duration;
}

// Converts any YAML value to JSON. With `with_params`, ${params.x} is
// replaced in every string inside.
nlohmann::json DagParser::json_of(const YamlNode& node, const Place& place, bool with_params) {
  if (node.is_sequence()) {
    nlohmann::json array = nlohmann::json::array();
    for (const YamlNode& item : node.items()) array.push_back(json_of(item, place, with_params));
    return array;
  }
  if (node.is_mapping()) {
    nlohmann::json object = nlohmann::json::object();
    for (const Entry& entry : read_entries(node, place, sink_))
      object[std::string(entry.key)] = json_of(entry.value, place, with_params);
    return object;
  }
  ScalarType type = scalar_type(node);
  if (type == ScalarType::kString && with_params) {
    return substitute(node.scalar(), position_of(node));
  }
  return scalar_to_json(node.scalar(), type);
}

std::string DagParser::substitute(std::string_view text, SourcePos pos) {
  return substitute_params(text, pos, dag_.params, params_usable_, sink_);
}

void DagParser::parse_params(const Entry* params) {
  if (!params) return;
  if (!params->value.is_mapping()) {
    report_type(Subject(*params, nullptr), "a mapping", params->value);
    params_usable_ = false;  // every ${params.x} would look unknown
    return;
  }
  const Place place{"params"};
  for (const Entry& entry : read_entries(params->value, place, sink_)) {
    std::string name(entry.key);
    if (std::string problem = name_problem(name, kIdRule); !problem.empty()) {
      sink_.report(position_of(entry.key_node),
                   "invalid parameter name '" + name + "': " + problem);
    }
    dag_.params[name] = json_of(entry.value, place, false);
  }
}

// -p overrides replace defaults. A name the DAG does not declare is
// probably a typo, and running with the default instead would hide it.
void DagParser::apply_overrides() {
  for (const auto& [name, text] : options_.param_overrides) {
    if (dag_.params.contains(name)) {
      dag_.params[name] = override_value(text);
    } else if (params_usable_) {
      std::vector<std::string> declared;
      for (const auto& item : dag_.params.items()) declared.push_back(item.key());
      sink_.report({},
                   "unknown parameter '" + name + "' given with -p" + did_you_mean(name, declared));
    }
  }
}

void DagParser::parse_name(const Entry* name) {
  if (!name) {
    sink_.report({}, "missing required key 'name'");
    return;
  }
  std::optional<std::string> text = text_of(name->value, Subject(*name, nullptr));
  if (!text) return;
  dag_.name = *text;
  if (std::string problem = name_problem(dag_.name, kDottedRule); !problem.empty()) {
    sink_.report(name->value_pos(), "invalid DAG name '" + dag_.name + "': " + problem);
  }
}

void DagParser::parse_pools(const Entry* pools) {
  if (!pools) return;
  if (!pools->value.is_mapping()) {
    report_type(Subject(*pools, nullptr), "a mapping", pools->value);
    pools_usable_ = false;  // every pool would look undeclared
    return;
  }
  for (const Entry& entry : read_entries(pools->value, Place{"pools"}, sink_)) {
    std::string name(entry.key);
    if (std::string problem = name_problem(name, kDottedRule); !problem.empty()) {
      sink_.report(position_of(entry.key_node), "invalid pool name '" + name + "': " + problem);
    }
    pool_names_.push_back(name);
    dag_.pools[name] = parse_pool_slots(entry).value_or(1);
  }
}

std::optional<int> DagParser::parse_pool_slots(const Entry& entry) {
  std::optional<long long> slots = integer_value(entry.value);
  std::string pool = "pool '" + std::string(entry.key) + "'";
  if (!slots) {
    sink_.report(entry.value_pos(),
                 pool + " must have an integer number of slots, got " + kind_of(entry.value));
    return std::nullopt;
  }
  if (*slots < 1 || *slots > INT_MAX) {
    sink_.report(entry.value_pos(), pool + " must have at least 1 slot");
    return std::nullopt;
  }
  return static_cast<int>(*slots);
}

// Neither gets ${params.x} substitution: the scheduler reads them without
// the -p values a run may bring.

// `schedule: "@weekly"` is short for `schedule: {cron: "@weekly"}`.
void DagParser::parse_schedule(const Entry* schedule) {
  if (!schedule) return;
  Subject subject(*schedule, nullptr);
  ScheduleSpec& spec = dag_.schedule.emplace();
  spec.pos = subject.pos();
  if (is_text(schedule->value)) {
    spec.cron = schedule->value.scalar();
    check_cron(spec.cron, subject);
  } else if (schedule->value.is_mapping()) {
    parse_schedule_fields(schedule->value, spec);
  } else {
    report_type(subject, "a cron string or a mapping", schedule->value);
  }
}

void DagParser::parse_schedule_fields(const YamlNode& mapping, ScheduleSpec& spec) {
  Fields fields(mapping);
  fields.check_keys(schedule_keys(), Place{"schedule"}, sink_);
  if (const Entry* cron = fields.find("cron")) {
    Subject subject(*cron, nullptr, "schedule");
    spec.cron = text_of(cron->value, subject).value_or("");
    if (is_text(cron->value)) check_cron(spec.cron, subject);
  } else {
    sink_.report(spec.pos, "'schedule' has no 'cron'");
  }
  if (const Entry* zone = fields.find_given("timezone")) {
    Subject subject(*zone, nullptr, "schedule");
    spec.timezone = text_of(zone->value, subject).value_or(spec.timezone);
    if (is_text(zone->value) && !is_known_timezone(spec.timezone)) {
      sink_.report(subject.pos(), "unknown time zone '" + spec.timezone + "' for " +
                                      subject.name() +
                                      did_you_mean(spec.timezone, installed_timezone_names()));
    }
  }
  if (const Entry* catchup = fields.find_given("catchup")) {
    spec.catchup =
        boolean_of(catchup->value, Subject(*catchup, nullptr, "schedule")).value_or(spec.catchup);
  }
  if (const Entry* max_active = fields.find_given("max_active_runs")) {
    spec.max_active_runs =
        positive_count_of(max_active->value, Subject(*max_active, nullptr, "schedule"))
            .value_or(spec.max_active_runs);
  }
}

void DagParser::check_cron(const std::string& cron, const Subject& subject) {
  std::string problem = cron_problem(cron);
  if (problem.empty()) return;
  sink_.report(subject.pos(), "invalid cron expression for " + subject.name() + ": " + problem);
}

void DagParser::parse_triggers(const Entry* triggers) {
  if (!triggers) return;
  if (!triggers->value.is_sequence()) {
    report_type(Subject(*triggers, nullptr), "a sequence", triggers->value);
    return;
  }
  size_t index = 0;
  for (const YamlNode& node : triggers->value.items()) {
    std::string label = "trigger at index " + std::to_string(index++);
    if (std::optional<TriggerSpec> trigger = parse_trigger(node, label)) {
      dag_.triggers.push_back(std::move(*trigger));
    }
  }
}

// Each item is a mapping with exactly one key, the kind of trigger.
std::optional<TriggerSpec> DagParser::parse_trigger(const YamlNode& node,
                                                    const std::string& label) {
  TriggerSpec trigger;
  trigger.pos = position_of(node);
  if (!node.is_mapping()) {
    sink_.report(trigger.pos,
                 label + " must be a mapping such as '{on_artifact: NAME}', got " + kind_of(node));
    return std::nullopt;
  }
  Fields fields(node);
  fields.check_keys(trigger_keys(), Place{"", &label}, sink_);
  const Entry* artifact = fields.find("on_artifact");
  const Entry* documents = fields.find("on_documents");
  if (artifact && documents) {
    sink_.report(position_of(documents->key_node),
                 label + " has both 'on_artifact' and 'on_documents': give each its own item");
    return std::nullopt;
  }
  std::optional<TriggerSpec> parsed;
  if (artifact) parsed = parse_artifact_trigger(*artifact, label, trigger);
  if (documents) parsed = parse_documents_trigger(*documents, label, trigger);
  if (!artifact && !documents) {
    const bool has_timing = fields.find("debounce") || fields.find("max_wait");
    if (node.size() == 0 || has_timing)
      sink_.report(trigger.pos, label + " has no kind: expected 'on_artifact' or 'on_documents'");
    return std::nullopt;  // otherwise only unknown keys, already reported
  }
  if (parsed) parse_trigger_timing(fields, label, *parsed);
  return parsed;
}

// `debounce` (>= 0) and `max_wait` (> 0, not below debounce), beside the kind.
void DagParser::parse_trigger_timing(const Fields& fields, const std::string& label,
                                     TriggerSpec& trigger) {
  const Entry* debounce = fields.find_given("debounce");
  const Entry* max_wait = fields.find_given("max_wait");
  if (debounce) {
    Subject subject(*debounce, &label);
    if (std::optional<Millis> d = duration_of(debounce->value, subject)) trigger.debounce = *d;
  }
  if (max_wait) {
    Subject subject(*max_wait, &label);
    if (std::optional<Millis> d = duration_of(max_wait->value, subject)) {
      if (d->count() <= 0)
        sink_.report(subject.pos(), subject.name() + " must be greater than zero");
      else
        trigger.max_wait = *d;
    }
  }
  if (trigger.debounce > trigger.max_wait) {
    const Entry* at = debounce ? debounce : max_wait;
    sink_.report(at ? at->value_pos() : trigger.pos,
                 "'debounce' of " + label + " must not exceed its 'max_wait'");
  }
}

// Any artifact name will do: it may be produced by another pipeline.
std::optional<TriggerSpec> DagParser::parse_artifact_trigger(const Entry& entry,
                                                             const std::string& label,
                                                             TriggerSpec& trigger) {
  std::optional<std::string> name = text_of(entry.value, Subject(entry, &label));
  if (!name) return std::nullopt;
  if (std::string problem = name_problem(*name, kDottedRule); !problem.empty()) {
    sink_.report(entry.value_pos(),
                 "invalid artifact name '" + *name + "' for " + label + ": " + problem);
  }
  trigger.kind = TriggerSpec::Kind::kArtifact;
  trigger.artifact = *name;
  return trigger;
}

// `on_documents:` alone means one new document from any platform.
std::optional<TriggerSpec> DagParser::parse_documents_trigger(const Entry& entry,
                                                              const std::string& label,
                                                              TriggerSpec& trigger) {
  trigger.kind = TriggerSpec::Kind::kDocuments;
  if (is_null(entry.value)) return trigger;
  if (!entry.value.is_mapping()) {
    report_type(Subject(entry, &label), "a mapping", entry.value);
    return std::nullopt;
  }
  Fields fields(entry.value);
  fields.check_keys(document_trigger_keys(), Place{"on_documents", &label}, sink_);
  if (const Entry* platform = fields.find_given("platform")) {
    trigger.platform = platform_of(*platform, label).value_or("");
  }
  if (const Entry* min_new = fields.find_given("min_new")) {
    Subject subject(*min_new, &label, "on_documents");
    trigger.min_new = positive_count_of(min_new->value, subject).value_or(trigger.min_new);
  }
  return trigger;
}

std::optional<std::string> DagParser::platform_of(const Entry& platform, const std::string& label) {
  Subject subject(platform, &label, "on_documents");
  std::optional<std::string> name = text_of(platform.value, subject);
  if (!name) return std::nullopt;
  const std::vector<std::string>& known = known_document_platforms();
  if (std::find(known.begin(), known.end(), *name) != known.end()) return name;
  std::string choices;
  for (const std::string& choice : known) choices += (choices.empty() ? "" : ", ") + choice;
  sink_.report(subject.pos(), subject.name() + " must be one of " + choices + ", got '" + *name +
                                  "'" + did_you_mean(*name, known));
  return std::nullopt;
}

}  // namespace twinflow::dag_loader_internal
