// A DAG file's steps: ids, types, needs, inputs, outputs, params, commands,
// retries, timeouts, caching, pools, and where each step runs. See dag_parser.h.
#include "scheduler/definition/dag_parser.h"

#include <algorithm>
#include <charconv>
#include <climits>

#include "util/strings.h"

namespace twinflow::dag_loader_internal {

void DagParser::parse_steps(const Entry* steps) {
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

void DagParser::parse_step(const YamlNode& node, size_t index) {
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

void DagParser::parse_step_id(const Entry* id, size_t index, Step& step, StepSource& source) {
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

void DagParser::parse_step_type(const Entry* type, StepContext& context) {
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
void DagParser::parse_needs(const Entry* needs, StepContext& context) {
  if (!needs) return;
  for (PositionedText& need : text_list(needs->value, Subject(*needs, &context.label), true)) {
    context.source.needs.push_back(std::move(need.text));
    context.source.needs_pos.push_back(need.pos);
  }
}

// Whether the referenced steps and outputs exist is checked in dag_validate.cc.
void DagParser::parse_inputs(const Entry* inputs, StepContext& context) {
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

std::optional<InputRef> DagParser::parse_input(const Entry& entry, const StepContext& context) {
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

// "artifact:NAME" or "artifact:NAME@N".
std::optional<InputRef> DagParser::parse_artifact_input(const Entry& entry, std::string_view ref,
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

void DagParser::parse_outputs(const Entry* outputs, StepContext& context) {
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

std::optional<OutputDecl> DagParser::parse_output(const YamlNode& node, size_t index,
                                                  const StepContext& context) {
  OutputDecl output;
  output.pos = position_of(node);
  auto label = [&] { return "output at index " + std::to_string(index) + " of " + context.label; };
  if (is_text(node)) {
    output.name = node.scalar();
  } else if (node.is_mapping()) {
    if (!parse_output_fields(node, label, context, output)) return std::nullopt;
  } else {
    report_type(Subject(label(), output.pos), "a string or a mapping", node);
    return std::nullopt;
  }
  if (std::string problem = name_problem(output.name, kVariableRule); !problem.empty()) {
    sink_.report(output.pos,
                 "invalid output name '" + output.name + "' in " + context.label + ": " + problem);
  }
  if (output.artifact.empty()) {
    output.artifact = dag_.name + "." + context.step.id + "." + output.name;
  }
  return output;
}

// Reads {name, artifact, type}. False when there is no usable name.
template <typename LabelFn>
bool DagParser::parse_output_fields(const YamlNode& node, const LabelFn& label,
                                    const StepContext& context, OutputDecl& output) {
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
      sink_.report(artifact->value_pos(),
                   "invalid artifact name '" + output.artifact + "' for " + owner + ": " + problem);
    }
  }
  if (const Entry* type = fields.find_given("type")) {
    output.type = text_of(type->value, Subject(*type, &owner)).value_or(output.type);
  }
  return true;
}

void DagParser::parse_step_params(const Entry* params, StepContext& context) {
  if (!params) return;
  if (!params->value.is_mapping()) {
    report_type(Subject(*params, &context.label), "a mapping", params->value);
    return;
  }
  context.step.params = json_of(params->value, Place{"params", &context.label}, true);
}

void DagParser::parse_command(const Entry* command, StepContext& context) {
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

void DagParser::parse_env(const Entry* env, StepContext& context) {
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
      Subject subject("environment variable '" + name + "' of " + context.label, entry.value_pos());
      report_type(subject, "a string", entry.value);
      continue;
    }
    context.step.env[name] = substitute(entry.value.scalar(), entry.value_pos());
  }
}

void DagParser::parse_retries(const Entry* retries, StepContext& context) {
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

std::optional<Millis> DagParser::retry_duration(const Entry* entry, const StepContext& context) {
  if (!entry) return std::nullopt;
  return duration_of(entry->value, Subject(*entry, &context.label, "retries"));
}

void DagParser::parse_timeout(const Entry* timeout, StepContext& context) {
  if (!timeout) return;
  Subject subject(*timeout, &context.label);
  std::optional<Millis> duration = duration_of(timeout->value, subject);
  if (duration && duration->count() <= 0) {
    sink_.report(subject.pos(), subject.name() + " must be greater than zero");
    return;
  }
  context.step.timeout = duration;
}

void DagParser::parse_cache(const Entry* cache, StepContext& context) {
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

void DagParser::parse_pool(const Entry* pool, StepContext& context) {
  if (!pool) return;
  std::optional<std::string> name = text_of(pool->value, Subject(*pool, &context.label));
  if (!name) return;
  context.step.pool = *name;
  if (!pools_usable_ || dag_.pools.contains(*name)) return;
  sink_.report(pool->value_pos(), context.label + " uses undeclared pool '" + *name + "'" +
                                      did_you_mean(*name, pool_names_));
}

std::optional<std::string> DagParser::executor_of(const Entry* executor, const std::string* owner) {
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
void DagParser::parse_slurm(const Entry* slurm, const std::string* owner,
                            SlurmResources& resources) {
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

}  // namespace twinflow::dag_loader_internal
