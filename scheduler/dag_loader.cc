// Reading a DAG file's YAML into a Dag, checking each value's shape.
//
// Every check reports to a DiagnosticSink and carries on, so one pass finds
// every problem; a value of the wrong type is reported and skipped. The Dag is
// only handed out when nothing was reported. The checks that need no YAML
// (names, durations, parameters, the step graph) live in dag_validate.cc.
//
// Messages name what they are about ("'retries.count' of step 'x'"), but those
// names are only built when there is a problem: a valid ten-thousand-step DAG
// should not pay for a hundred thousand strings nobody reads.
#include "scheduler/dag_loader.h"

#include <fcntl.h>
#include <unistd.h>
#include <charconv>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <unordered_map>

#include "scheduler/yaml_document.h"
#include "util/sha256.h"

namespace twinflow {

using dag_loader_internal::check_step_graph;
using dag_loader_internal::cron_problem;
using dag_loader_internal::DiagnosticSink;
using dag_loader_internal::did_you_mean;
using dag_loader_internal::installed_timezone_names;
using dag_loader_internal::is_known_timezone;
using dag_loader_internal::is_null_text;
using dag_loader_internal::kDottedRule;
using dag_loader_internal::kIdRule;
using dag_loader_internal::kVariableRule;
using dag_loader_internal::name_problem;
using dag_loader_internal::resolve_plain_scalar;
using dag_loader_internal::scalar_to_json;
using dag_loader_internal::ScalarType;
using dag_loader_internal::slurm_mem_problem;
using dag_loader_internal::slurm_time_problem;
using dag_loader_internal::step_label;
using dag_loader_internal::StepSource;
using dag_loader_internal::substitute_params;

namespace {

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

// --- YAML values ----------------------------------------------------------------

SourcePos position_of(const YamlNode& node) {
  YamlMark mark = node.mark();
  return {mark.line, mark.column};
}

// No value, or a plain untagged `~` or `null`. Tagged or quoted, it is text.
bool is_null(const YamlNode& node) {
  if (node.is_null()) return true;
  return node.is_scalar() && node.is_plain() && node.tag() == YamlNode::Tag::kNone &&
         is_null_text(node.scalar());
}

ScalarType scalar_type(const YamlNode& node) {
  if (is_null(node)) return ScalarType::kNull;
  // '3' is the string 3, not a number; so is `! 3` or `!!str 3`. Other tags,
  // such as `!!int "3"`, leave the text to be typed as if it were plain.
  YamlNode::Tag tag = node.tag();
  if (tag == YamlNode::Tag::kString || (tag == YamlNode::Tag::kNone && !node.is_plain())) {
    return ScalarType::kString;
  }
  return resolve_plain_scalar(node.scalar());
}

std::string kind_of(const YamlNode& node) {
  if (node.is_sequence()) return "a sequence";
  if (node.is_mapping()) return "a mapping";
  switch (scalar_type(node)) {
    case ScalarType::kNull:
      return "null";
    case ScalarType::kBoolean:
      return "a boolean";
    case ScalarType::kInteger:
    case ScalarType::kFloat:
      return "a number";
    case ScalarType::kString:
      return "a string";
  }
  return "a string";
}

// Where a string is expected any non-null scalar will do: numbers and
// booleans are taken as written (`name: 2024` names the DAG "2024").
bool is_text(const YamlNode& node) {
  return node.is_scalar() && !is_null(node);
}

std::optional<long long> integer_value(const YamlNode& node) {
  if (!node.is_scalar() || scalar_type(node) != ScalarType::kInteger) return std::nullopt;
  nlohmann::json value = scalar_to_json(node.scalar(), ScalarType::kInteger);
  if (!value.is_number_integer()) return std::nullopt;
  return value.get<long long>();
}

// Any YAML value as JSON, for -p values: no positions, no substitution, and
// of repeated keys the first wins. A key that is not text counts as "".
nlohmann::json plain_json_of(const YamlNode& node) {
  if (node.is_sequence()) {
    nlohmann::json array = nlohmann::json::array();
    for (const YamlNode& item : node.items()) array.push_back(plain_json_of(item));
    return array;
  }
  if (node.is_mapping()) {
    nlohmann::json object = nlohmann::json::object();
    for (const YamlEntry& entry : node.entries()) {
      std::string key(is_text(entry.key) ? entry.key.scalar() : std::string_view());
      object.emplace(std::move(key), plain_json_of(entry.value));
    }
    return object;
  }
  return scalar_to_json(node.scalar(), scalar_type(node));
}

// A -p value. Plain text is typed like an unquoted YAML scalar ("3" is a
// number, "no" a string); a quoted string or a flow sequence or mapping is
// read as YAML. Reruns pass recorded params back as JSON text, which is such
// YAML, so they come back with the same values and types.
nlohmann::json override_value(const std::string& text) {
  if (text.empty() || std::string_view("\"'[{").find(text[0]) == std::string_view::npos) {
    return scalar_to_json(text, resolve_plain_scalar(text));
  }
  YamlParseResult parsed = parse_yaml(text);
  if (!parsed.ok()) return text;  // "[draft" is not YAML: take it as written
  return plain_json_of(parsed.document.root());
}

// --- mappings ------------------------------------------------------------------

// One "key: value" of a mapping whose key is text. The key node is kept for
// its position. Views and references point into the YamlDocument.
struct Entry {
  std::string_view key;
  const YamlNode& key_node;
  const YamlNode& value;

  // An empty value has no text of its own to point at (`timeout:`), so
  // problems with a null value point at its key instead.
  SourcePos value_pos() const { return position_of(is_null(value) ? key_node : value); }
};

// Names the mapping a message is about, such as " in 'retries' of step 'x'".
struct Place {
  std::string_view key;                // "retries"; empty for a step or the top level
  const std::string* owner = nullptr;  // "step 'x'"; nullptr at the top level

  std::string text() const {
    std::string text;
    if (!key.empty()) text += " in '" + std::string(key) + "'";
    if (owner) text += (key.empty() ? " in " : " of ") + *owner;
    return text;
  }
};

// The entries of one mapping in file order, without the keys the YAML tree
// keeps but YAML forbids: repeated keys and keys that are not scalars. Those
// are remembered and reported once the caller knows what to call the mapping.
class Fields {
 public:
  explicit Fields(const YamlNode& mapping) {
    entries_.reserve(mapping.size());
    for (const YamlEntry& entry : mapping.entries()) {
      const YamlNode& key = entry.key;
      if (!is_text(key)) {
        bad_keys_.push_back({&key, 0});
      } else if (const Entry* first = find(key.scalar())) {
        bad_keys_.push_back({&key, position_of(first->key_node).line});
      } else {
        add({key.scalar(), key, entry.value});
      }
    }
  }

  void report_bad_keys(const Place& place, DiagnosticSink& sink) const {
    for (const BadKey& bad : bad_keys_) {
      std::string message =
          bad.first_line == 0
              ? "keys" + place.text() + " must be strings, got " + kind_of(*bad.key)
              : "duplicate key '" + std::string(bad.key->scalar()) + "'" + place.text() +
                    " (first defined at line " + std::to_string(bad.first_line) + ")";
      sink.report(position_of(*bad.key), std::move(message));
    }
  }

  // Reports bad keys, and keys not in `known`, with a suggestion.
  void check_keys(const KeyList& known, const Place& place, DiagnosticSink& sink) const {
    report_bad_keys(place, sink);
    for (const Entry& entry : entries_) {
      if (std::find(known.begin(), known.end(), entry.key) != known.end()) continue;
      std::string key(entry.key);
      sink.report(position_of(entry.key_node),
                  "unknown key '" + key + "'" + place.text() + did_you_mean(key, known));
    }
  }

  std::vector<Entry> take_entries() && { return std::move(entries_); }

  // The entry for `key`, or nullptr.
  const Entry* find(std::string_view key) const {
    if (!index_.empty()) {
      auto found = index_.find(key);
      return found == index_.end() ? nullptr : &entries_[found->second];
    }
    for (const Entry& entry : entries_)
      if (entry.key == key) return &entry;
    return nullptr;
  }

  // As find(), but an optional key left empty (`timeout:`) counts as absent.
  const Entry* find_given(std::string_view key) const {
    const Entry* entry = find(key);
    return entry && !is_null(entry->value) ? entry : nullptr;
  }

 private:
  // Scanning beats hashing for the dozen keys of a step; a `params` mapping
  // with thousands of keys gets an index so that loading stays linear.
  static constexpr size_t kMaxScanned = 16;

  struct BadKey {
    const YamlNode* key;
    int first_line;  // of the first definition of a repeated key; 0: not a scalar
  };

  void add(Entry entry) {
    entries_.push_back(std::move(entry));
    if (entries_.size() == kMaxScanned) {
      for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].key, i);
    } else if (entries_.size() > kMaxScanned) {
      index_.emplace(entries_.back().key, entries_.size() - 1);
    }
  }

  std::vector<Entry> entries_;
  std::unordered_map<std::string_view, size_t> index_;  // views into the YamlDocument
  std::vector<BadKey> bad_keys_;
};

// The entries of a mapping whose keys are free (params, env, inputs, pools).
std::vector<Entry> read_entries(const YamlNode& mapping, const Place& place, DiagnosticSink& sink) {
  Fields fields(mapping);
  fields.report_bad_keys(place, sink);
  return std::move(fields).take_entries();
}

// What messages call a value, such as "'retries.count' of step 'x'", and
// where it is.
class Subject {
 public:
  // The value of `entry`, found in mapping `parent` (if any) of `owner` (if any).
  Subject(const Entry& entry, const std::string* owner, std::string_view parent = "")
      : entry_(&entry), owner_(owner), parent_(parent) {}
  // A value that is not under a key, such as an item of a list.
  Subject(std::string name, SourcePos pos) : name_(std::move(name)), pos_(pos) {}

  std::string name() const {
    if (!entry_) return name_;
    std::string name = "'";
    if (!parent_.empty()) name += std::string(parent_) + ".";
    name += std::string(entry_->key) + "'";
    if (owner_) name += " of " + *owner_;
    return name;
  }

  SourcePos pos() const { return entry_ ? entry_->value_pos() : pos_; }

 private:
  const Entry* entry_ = nullptr;
  const std::string* owner_ = nullptr;
  std::string_view parent_;
  std::string name_;
  SourcePos pos_;
};

// A string and where it was written.
struct PositionedText {
  std::string text;
  SourcePos pos;
};

// --- the parser ----------------------------------------------------------------

// Builds the Dag from the document's root mapping. One instance per load.
class DagParser {
 public:
  DagParser(const LoadOptions& options, DiagnosticSink& sink, Dag& dag,
            std::vector<StepSource>& sources)
      : options_(options), sink_(sink), dag_(dag), sources_(sources) {}

  void parse(const YamlNode& root) {
    if (!root.is_mapping()) {
      sink_.report(position_of(root),
                   "a DAG file must be a mapping with keys such as 'name' and 'steps', got " +
                       kind_of(root));
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

 private:
  // A step being read: its label for messages ("step 'x'") and where it goes.
  struct StepContext {
    std::string label;
    Step& step;
    StepSource& source;
  };

  // --- values ---

  void report_type(const Subject& subject, const std::string& expected, const YamlNode& value) {
    sink_.report(subject.pos(),
                 subject.name() + " must be " + expected + ", got " + kind_of(value));
  }

  // The value as text; nullopt after reporting that it is not a string.
  std::optional<std::string> text_of(const YamlNode& value, const Subject& subject) {
    if (is_text(value)) return std::string(value.scalar());
    report_type(subject, "a string", value);
    return std::nullopt;
  }

  // The strings of a sequence, or a lone string when `allow_single`.
  std::vector<PositionedText> text_list(const YamlNode& value, const Subject& subject,
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
  std::optional<int> count_of(const YamlNode& value, const Subject& subject,
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

  std::optional<bool> boolean_of(const YamlNode& value, const Subject& subject) {
    if (value.is_scalar() && scalar_type(value) == ScalarType::kBoolean) {
      return scalar_to_json(value.scalar(), ScalarType::kBoolean).get<bool>();
    }
    report_type(subject, "a boolean", value);
    return std::nullopt;
  }

  // An int of at least 1, such as max_active_runs.
  std::optional<int> positive_count_of(const YamlNode& value, const Subject& subject) {
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

  std::optional<Millis> duration_of(const YamlNode& value, const Subject& subject) {
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
  nlohmann::json json_of(const YamlNode& node, const Place& place, bool with_params) {
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

  // --- parameters ---

  std::string substitute(std::string_view text, SourcePos pos) {
    return substitute_params(text, pos, dag_.params, params_usable_, sink_);
  }

  void parse_params(const Entry* params) {
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
  void apply_overrides() {
    for (const auto& [name, text] : options_.param_overrides) {
      if (dag_.params.contains(name)) {
        dag_.params[name] = override_value(text);
      } else if (params_usable_) {
        std::vector<std::string> declared;
        for (const auto& item : dag_.params.items()) declared.push_back(item.key());
        sink_.report(
            {}, "unknown parameter '" + name + "' given with -p" + did_you_mean(name, declared));
      }
    }
  }

  // --- top level ---

  void parse_name(const Entry* name) {
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

  void parse_pools(const Entry* pools) {
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

  std::optional<int> parse_pool_slots(const Entry& entry) {
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

  // --- schedule and triggers ---
  // Neither gets ${params.x} substitution: the scheduler reads them without
  // the -p values a run may bring.

  // `schedule: "@weekly"` is short for `schedule: {cron: "@weekly"}`.
  void parse_schedule(const Entry* schedule) {
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

  void parse_schedule_fields(const YamlNode& mapping, ScheduleSpec& spec) {
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

  void check_cron(const std::string& cron, const Subject& subject) {
    std::string problem = cron_problem(cron);
    if (problem.empty()) return;
    sink_.report(subject.pos(), "invalid cron expression for " + subject.name() + ": " + problem);
  }

  void parse_triggers(const Entry* triggers) {
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
  std::optional<TriggerSpec> parse_trigger(const YamlNode& node, const std::string& label) {
    TriggerSpec trigger;
    trigger.pos = position_of(node);
    if (!node.is_mapping()) {
      sink_.report(trigger.pos, label + " must be a mapping such as '{on_artifact: NAME}', got " +
                                    kind_of(node));
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
  void parse_trigger_timing(const Fields& fields, const std::string& label, TriggerSpec& trigger) {
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
  std::optional<TriggerSpec> parse_artifact_trigger(const Entry& entry, const std::string& label,
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
  std::optional<TriggerSpec> parse_documents_trigger(const Entry& entry, const std::string& label,
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

  std::optional<std::string> platform_of(const Entry& platform, const std::string& label) {
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

  void parse_steps(const Entry* steps) {
    if (!steps) {
      sink_.report({}, "missing required key 'steps'");
      return;
    }
    if (!steps->value.is_sequence()) {
      report_type(Subject(*steps, nullptr), "a sequence", steps->value);
      return;
    }
    if (steps->value.items().empty()) {
      sink_.report(steps->value_pos(), "'steps' must not be empty");
      return;
    }
    dag_.steps.reserve(steps->value.size());
    sources_.reserve(steps->value.size());
    size_t index = 0;
    for (const YamlNode& node : steps->value.items()) {
      if (node.is_mapping()) {
        parse_step(node, index);
      } else {
        sink_.report(position_of(node), "step at index " + std::to_string(index) +
                                            " must be a mapping, got " + kind_of(node));
      }
      ++index;
    }
  }

  // --- steps ---

  void parse_step(const YamlNode& node, size_t index) {
    Step& step = dag_.steps.emplace_back();
    StepSource& source = sources_.emplace_back();
    step.pos = position_of(node);
    Fields fields(node);
    parse_step_id(fields.find("id"), index, step, source);
    StepContext context{step_label(step.id, index), step, source};
    fields.check_keys(step_keys(), Place{"", &context.label}, sink_);

    parse_step_type(fields.find_given("type"), context);
    if (const Entry* entry = fields.find_given("description")) {
      step.description = text_of(entry->value, Subject(*entry, &context.label)).value_or("");
    }
    parse_needs(fields.find_given("needs"), context);
    parse_inputs(fields.find_given("inputs"), context);
    parse_outputs(fields.find_given("outputs"), context);
    parse_step_params(fields.find_given("params"), context);
    parse_command(fields.find_given("command"), context);
    parse_env(fields.find_given("env"), context);
    parse_retries(fields.find_given("retries"), context);
    parse_timeout(fields.find_given("timeout"), context);
    parse_cache(fields.find_given("cache"), context);
    parse_pool(fields.find_given("pool"), context);
    step.executor = executor_of(fields.find_given("executor"), &context.label).value_or("");
    step.slurm = dag_slurm_;
    parse_slurm(fields.find_given("slurm"), &context.label, step.slurm);
  }

  void parse_step_id(const Entry* id, size_t index, Step& step, StepSource& source) {
    if (!id) {
      sink_.report(step.pos, "step at index " + std::to_string(index) + " has no 'id'");
      return;
    }
    std::string label = step_label("", index);
    std::optional<std::string> text = text_of(id->value, Subject(*id, &label));
    if (!text) return;
    step.id = *text;
    source.id_pos = id->value_pos();
    if (std::string problem = name_problem(step.id, kIdRule); !problem.empty()) {
      sink_.report(source.id_pos, "invalid step id '" + step.id + "': " + problem);
    }
  }

  void parse_step_type(const Entry* type, StepContext& context) {
    if (!type) return;
    std::optional<std::string> name = text_of(type->value, Subject(*type, &context.label));
    context.step.type.clear();  // while unknown, whether a 'command' belongs is unknowable
    if (!name) return;
    const std::vector<std::string>& known = known_step_types();
    if (std::find(known.begin(), known.end(), *name) == known.end()) {
      sink_.report(type->value_pos(), "unknown step type '" + *name + "' in " + context.label +
                                          did_you_mean(*name, known));
      return;
    }
    context.step.type = *name;
  }

  // Whether the needed steps exist is checked in dag_validate.cc.
  void parse_needs(const Entry* needs, StepContext& context) {
    if (!needs) return;
    for (PositionedText& need : text_list(needs->value, Subject(*needs, &context.label), true)) {
      context.source.needs.push_back(std::move(need.text));
      context.source.needs_pos.push_back(need.pos);
    }
  }

  // Whether the referenced steps and outputs exist is checked in dag_validate.cc.
  void parse_inputs(const Entry* inputs, StepContext& context) {
    if (!inputs) return;
    if (!inputs->value.is_mapping()) {
      report_type(Subject(*inputs, &context.label), "a mapping", inputs->value);
      return;
    }
    for (const Entry& entry : read_entries(inputs->value, Place{"inputs", &context.label}, sink_)) {
      if (std::string problem = name_problem(entry.key, kVariableRule); !problem.empty()) {
        sink_.report(position_of(entry.key_node), "invalid input name '" + std::string(entry.key) +
                                                      "' in " + context.label + ": " + problem);
      }
      if (std::optional<InputRef> input = parse_input(entry, context)) {
        context.step.inputs.push_back(std::move(*input));
      }
    }
  }

  std::optional<InputRef> parse_input(const Entry& entry, const StepContext& context) {
    auto subject = [&] { return "input '" + std::string(entry.key) + "' of " + context.label; };
    if (!is_text(entry.value)) {
      report_type(Subject(subject(), entry.value_pos()),
                  "a string like 'step.output' or 'artifact:NAME'", entry.value);
      return std::nullopt;
    }
    std::string_view ref = entry.value.scalar();
    if (ref.starts_with(kArtifactPrefix)) return parse_artifact_input(entry, ref, subject());
    // Neither step ids nor output names contain '.', so the first one splits.
    size_t dot = ref.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == ref.size()) {
      sink_.report(entry.value_pos(),
                   subject() + " must look like 'step.output', got '" + std::string(ref) + "'");
      return std::nullopt;
    }
    return InputRef{std::string(entry.key),
                    std::string(ref.substr(0, dot)),
                    std::string(ref.substr(dot + 1)),
                    "",
                    std::nullopt,
                    entry.value_pos()};
  }

  static constexpr std::string_view kArtifactPrefix = "artifact:";

  // "artifact:NAME" or "artifact:NAME@N".
  std::optional<InputRef> parse_artifact_input(const Entry& entry, std::string_view ref,
                                               const std::string& subject) {
    std::string_view rest = ref.substr(kArtifactPrefix.size());
    std::optional<int> version;
    if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
      std::string_view digits = rest.substr(at + 1);
      int number = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
      if (ec != std::errc() || end != digits.data() + digits.size() || number < 1) {
        sink_.report(entry.value_pos(), subject +
                                            ": the version after '@' must be a number >= 1, got '" +
                                            std::string(digits) + "'");
        return std::nullopt;
      }
      version = number;
      rest = rest.substr(0, at);
    }
    if (rest.empty()) {
      sink_.report(entry.value_pos(),
                   subject + " must look like 'artifact:NAME' or 'artifact:NAME@N'");
      return std::nullopt;
    }
    return InputRef{std::string(entry.key), "", "", std::string(rest), version, entry.value_pos()};
  }

  void parse_outputs(const Entry* outputs, StepContext& context) {
    if (!outputs) return;
    if (!outputs->value.is_sequence()) {
      report_type(Subject(*outputs, &context.label), "a sequence", outputs->value);
      return;
    }
    size_t index = 0;
    for (const YamlNode& node : outputs->value.items()) {
      std::optional<OutputDecl> output = parse_output(node, index++, context);
      if (!output) continue;
      std::vector<OutputDecl>& declared = context.step.outputs;
      auto first = std::find_if(declared.begin(), declared.end(),
                                [&](const OutputDecl& o) { return o.name == output->name; });
      if (first != declared.end()) {
        sink_.report(output->pos, "duplicate output '" + output->name + "' in " + context.label +
                                      " (first defined at line " + std::to_string(first->pos.line) +
                                      ")");
        continue;
      }
      declared.push_back(std::move(*output));
    }
  }

  std::optional<OutputDecl> parse_output(const YamlNode& node, size_t index,
                                         const StepContext& context) {
    OutputDecl output;
    output.pos = position_of(node);
    auto label = [&] {
      return "output at index " + std::to_string(index) + " of " + context.label;
    };
    if (is_text(node)) {
      output.name = node.scalar();
    } else if (node.is_mapping()) {
      if (!parse_output_fields(node, label, context, output)) return std::nullopt;
    } else {
      report_type(Subject(label(), output.pos), "a string or a mapping", node);
      return std::nullopt;
    }
    if (std::string problem = name_problem(output.name, kVariableRule); !problem.empty()) {
      sink_.report(output.pos, "invalid output name '" + output.name + "' in " + context.label +
                                   ": " + problem);
    }
    if (output.artifact.empty()) {
      output.artifact = dag_.name + "." + context.step.id + "." + output.name;
    }
    return output;
  }

  // Reads {name, artifact, type}. False when there is no usable name.
  template <typename LabelFn>
  bool parse_output_fields(const YamlNode& node, const LabelFn& label, const StepContext& context,
                           OutputDecl& output) {
    Fields fields(node);
    fields.check_keys(output_keys(), Place{"outputs", &context.label}, sink_);
    const Entry* name = fields.find("name");
    if (!name) {
      sink_.report(output.pos, label() + " has no 'name'");
      return false;
    }
    std::string owner = label();
    std::optional<std::string> text = text_of(name->value, Subject(*name, &owner));
    if (!text) return false;
    output.name = *text;
    output.pos = name->value_pos();
    owner = "output '" + output.name + "' of " + context.label;
    if (const Entry* artifact = fields.find_given("artifact")) {
      output.artifact = text_of(artifact->value, Subject(*artifact, &owner)).value_or("");
      std::string problem = name_problem(output.artifact, kDottedRule);
      if (!problem.empty() && is_text(artifact->value)) {
        sink_.report(artifact->value_pos(), "invalid artifact name '" + output.artifact + "' for " +
                                                owner + ": " + problem);
      }
    }
    if (const Entry* type = fields.find_given("type")) {
      output.type = text_of(type->value, Subject(*type, &owner)).value_or(output.type);
    }
    return true;
  }

  void parse_step_params(const Entry* params, StepContext& context) {
    if (!params) return;
    if (!params->value.is_mapping()) {
      report_type(Subject(*params, &context.label), "a mapping", params->value);
      return;
    }
    context.step.params = json_of(params->value, Place{"params", &context.label}, true);
  }

  void parse_command(const Entry* command, StepContext& context) {
    Step& step = context.step;
    if (step.type.empty()) return;  // unknown type, already reported
    if (step.type != "command") {
      if (command) {
        sink_.report(position_of(command->key_node),
                     context.label + " of type '" + step.type + "' cannot have a 'command'");
      }
      return;
    }
    if (!command) {
      sink_.report(step.pos, "command " + context.label + " has no 'command'");
      return;
    }
    Subject subject(*command, &context.label);
    if (is_text(command->value)) {
      step.shell = true;
      step.command = {substitute(command->value.scalar(), subject.pos())};
    } else if (command->value.is_sequence()) {
      for (PositionedText& arg : text_list(command->value, subject, false))
        step.command.push_back(substitute(arg.text, arg.pos));
    } else {
      report_type(subject, "a string or a sequence of strings", command->value);
      return;
    }
    if (step.command.empty() || step.command[0].empty()) {
      sink_.report(subject.pos(), subject.name() + " must not be empty");
    }
  }

  void parse_env(const Entry* env, StepContext& context) {
    if (!env) return;
    if (!env->value.is_mapping()) {
      report_type(Subject(*env, &context.label), "a mapping", env->value);
      return;
    }
    for (const Entry& entry : read_entries(env->value, Place{"env", &context.label}, sink_)) {
      std::string name(entry.key);
      if (std::string problem = name_problem(name, kVariableRule); !problem.empty()) {
        sink_.report(position_of(entry.key_node), "invalid environment variable name '" + name +
                                                      "' in " + context.label + ": " + problem);
      }
      if (!is_text(entry.value)) {
        Subject subject("environment variable '" + name + "' of " + context.label,
                        entry.value_pos());
        report_type(subject, "a string", entry.value);
        continue;
      }
      context.step.env[name] = substitute(entry.value.scalar(), entry.value_pos());
    }
  }

  void parse_retries(const Entry* retries, StepContext& context) {
    if (!retries) return;
    RetryPolicy& policy = context.step.retries;
    if (!retries->value.is_mapping()) {
      Subject subject(*retries, &context.label);
      policy.count = count_of(retries->value, subject, "an integer or a mapping").value_or(0);
      return;
    }
    Fields fields(retries->value);
    fields.check_keys(retry_keys(), Place{"retries", &context.label}, sink_);
    if (const Entry* count = fields.find_given("count")) {
      Subject subject(*count, &context.label, "retries");
      policy.count = count_of(count->value, subject, "an integer").value_or(0);
    }
    const Entry* base_entry = fields.find_given("backoff");
    const Entry* cap_entry = fields.find_given("max_backoff");
    std::optional<Millis> base = retry_duration(base_entry, context);
    std::optional<Millis> cap = retry_duration(cap_entry, context);
    if (base) policy.backoff_base = *base;
    if (cap) policy.backoff_cap = *cap;
    if (base && cap && *cap < *base) {
      sink_.report(cap_entry->value_pos(), "'retries.max_backoff' of " + context.label +
                                               " must not be shorter than 'retries.backoff'");
    } else if (base && !cap) {
      // A long backoff alone should not be silently cut to the default cap.
      policy.backoff_cap = std::max(policy.backoff_cap, *base);
    }
  }

  std::optional<Millis> retry_duration(const Entry* entry, const StepContext& context) {
    if (!entry) return std::nullopt;
    return duration_of(entry->value, Subject(*entry, &context.label, "retries"));
  }

  void parse_timeout(const Entry* timeout, StepContext& context) {
    if (!timeout) return;
    Subject subject(*timeout, &context.label);
    std::optional<Millis> duration = duration_of(timeout->value, subject);
    if (duration && duration->count() <= 0) {
      sink_.report(subject.pos(), subject.name() + " must be greater than zero");
      return;
    }
    context.step.timeout = duration;
  }

  void parse_cache(const Entry* cache, StepContext& context) {
    CachePolicy& policy = context.step.cache;
    policy.enabled = cached_by_default(context.step.type);
    if (!cache) return;
    if (!cache->value.is_mapping()) {
      Subject subject(*cache, &context.label);
      if (cache->value.is_scalar() && scalar_type(cache->value) == ScalarType::kBoolean) {
        policy.enabled = boolean_of(cache->value, subject).value_or(true);
      } else {
        report_type(subject, "a boolean or a mapping", cache->value);
      }
      return;
    }
    Fields fields(cache->value);
    fields.check_keys(cache_keys(), Place{"cache", &context.label}, sink_);
    if (const Entry* enabled = fields.find_given("enabled")) {
      Subject subject(*enabled, &context.label, "cache");
      policy.enabled = boolean_of(enabled->value, subject).value_or(true);
    }
    if (const Entry* files = fields.find_given("files")) {
      Subject subject(*files, &context.label, "cache");
      for (PositionedText& file : text_list(files->value, subject, false))
        policy.files.push_back(std::move(file.text));
    }
  }

  void parse_pool(const Entry* pool, StepContext& context) {
    if (!pool) return;
    std::optional<std::string> name = text_of(pool->value, Subject(*pool, &context.label));
    if (!name) return;
    context.step.pool = *name;
    if (!pools_usable_ || dag_.pools.contains(*name)) return;
    sink_.report(pool->value_pos(), context.label + " uses undeclared pool '" + *name + "'" +
                                        did_you_mean(*name, pool_names_));
  }

  // --- where steps run ---

  std::optional<std::string> executor_of(const Entry* executor, const std::string* owner) {
    if (!executor) return std::nullopt;
    Subject subject(*executor, owner);
    std::optional<std::string> name = text_of(executor->value, subject);
    if (!name) return std::nullopt;
    const std::vector<std::string>& known = known_executors();
    if (std::find(known.begin(), known.end(), *name) != known.end()) return name;
    sink_.report(subject.pos(), subject.name() + " must be local or slurm, got '" + *name + "'" +
                                    did_you_mean(*name, known));
    return std::nullopt;
  }

  // Fills `resources` from a `slurm:` mapping; keys it leaves out keep their
  // value (the DAG's defaults, for a step).
  void parse_slurm(const Entry* slurm, const std::string* owner, SlurmResources& resources) {
    if (!slurm) return;
    if (!slurm->value.is_mapping()) {
      report_type(Subject(*slurm, owner), "a mapping", slurm->value);
      return;
    }
    Fields fields(slurm->value);
    fields.check_keys(slurm_keys(), Place{"slurm", owner}, sink_);
    auto text = [&](const char* key, std::string& field, std::string (*problem)(std::string_view)) {
      const Entry* entry = fields.find_given(key);
      if (!entry) return;
      Subject subject(*entry, owner, "slurm");
      std::optional<std::string> value = text_of(entry->value, subject);
      if (!value) return;
      if (value->find_first_of("\r\n") != std::string::npos) {
        sink_.report(subject.pos(), subject.name() + " must be on one line");  // an #SBATCH line
        return;
      }
      if (problem) {
        if (std::string why = problem(*value); !why.empty()) {
          sink_.report(subject.pos(), subject.name() + " " + why + ", got '" + *value + "'");
          return;
        }
      }
      field = *value;
    };
    text("partition", resources.partition, nullptr);
    text("time", resources.time, slurm_time_problem);
    text("mem", resources.mem, slurm_mem_problem);
    text("gres", resources.gres, nullptr);
    text("account", resources.account, nullptr);
    text("qos", resources.qos, nullptr);
    if (const Entry* cpus = fields.find_given("cpus")) {
      Subject subject(*cpus, owner, "slurm");
      std::optional<int> count = count_of(cpus->value, subject, "a positive integer");
      if (count && *count == 0) {
        sink_.report(subject.pos(), subject.name() + " must be at least 1");
      } else if (count) {
        resources.cpus = count;
      }
    }
    if (const Entry* extra = fields.find_given("extra_args")) {
      resources.extra_args.clear();
      for (PositionedText& arg : text_list(extra->value, Subject(*extra, owner, "slurm"), false))
        resources.extra_args.push_back(std::move(arg.text));
    }
  }

  const LoadOptions& options_;
  DiagnosticSink& sink_;
  Dag& dag_;
  SlurmResources dag_slurm_;          // the top-level `slurm:`, every step's defaults
  std::vector<StepSource>& sources_;  // parallel to dag_.steps
  std::vector<std::string> pool_names_;
  bool params_usable_ = true;  // false when 'params' is malformed: silences "unknown parameter"
  bool pools_usable_ = true;   // likewise for 'pools' and "undeclared pool"
};

// --- files ---------------------------------------------------------------------

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
