// The checks of a DAG that need no YAML: names, scalar types, durations,
// ${params.x} substitution, cron expressions and time zones, and what spans
// steps (unique ids, needs and inputs that point at existing steps and
// outputs, no dependency cycles).
//
// The step checks are linear in steps plus edges, since a DAG of ten thousand
// steps must validate in milliseconds, and the cycle search is iterative so
// that a long chain cannot exhaust the stack.
#include "scheduler/definition/dag_loader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "scheduler/definition/cron.h"
#include "scheduler/definition/edit_distance.h"

namespace twinflow {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

size_t skip_digits(std::string_view text, size_t pos) {
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  return pos;
}

size_t skip_sign(std::string_view text) {
  return !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
}

bool looks_like_integer(std::string_view text) {
  size_t begin = skip_sign(text);
  size_t end = skip_digits(text, begin);
  return end > begin && end == text.size();
}

// [-+]? (digits [. digits?] | . digits) ([eE] [-+]? digits)?
bool looks_like_float(std::string_view text) {
  size_t pos = skip_sign(text);
  size_t integer_end = skip_digits(text, pos);
  size_t digits = integer_end - pos;
  pos = integer_end;
  if (pos < text.size() && text[pos] == '.') {
    size_t fraction_end = skip_digits(text, pos + 1);
    digits += fraction_end - pos - 1;
    pos = fraction_end;
  }
  if (digits == 0) return false;
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) ++pos;
    size_t exponent_end = skip_digits(text, pos);
    if (exponent_end == pos) return false;
    pos = exponent_end;
  }
  return pos == text.size();
}

}  // namespace

namespace dag_loader_internal {

// --- values -------------------------------------------------------------------

bool is_null_text(std::string_view text) {
  return text == "~" || text == "null" || text == "Null" || text == "NULL";
}

ScalarType resolve_plain_scalar(std::string_view text) {
  if (is_null_text(text)) return ScalarType::kNull;
  if (text == "true" || text == "True" || text == "TRUE" || text == "false" || text == "False" ||
      text == "FALSE")
    return ScalarType::kBoolean;
  if (looks_like_integer(text)) return ScalarType::kInteger;
  if (looks_like_float(text)) return ScalarType::kFloat;
  return ScalarType::kString;
}

nlohmann::json scalar_to_json(std::string_view text, ScalarType type) {
  switch (type) {
    case ScalarType::kNull:
      return nullptr;
    case ScalarType::kBoolean:
      return text[0] == 't' || text[0] == 'T';
    case ScalarType::kInteger: {
      long long value = 0;
      const char* begin = text.data() + (text[0] == '+' ? 1 : 0);
      auto [end, error] = std::from_chars(begin, text.data() + text.size(), value);
      if (error == std::errc() && end == text.data() + text.size()) return value;
      [[fallthrough]];  // out of range: keep the magnitude as a float
    }
    case ScalarType::kFloat: {
      std::string terminated(text);  // strtod needs the NUL
      double value = std::strtod(terminated.c_str(), nullptr);
      if (std::isfinite(value)) return value;
      return terminated;
    }
    case ScalarType::kString:
      return std::string(text);
  }
  return std::string(text);
}

std::string name_problem(std::string_view name, const NameRule& rule) {
  bool chars_ok = !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
    return is_letter(c) || is_digit(c) || rule.punctuation.find(c) != std::string_view::npos;
  });
  if (!chars_ok) return std::string(rule.advice);
  if (rule.letter_first && !is_letter(name[0]) && name[0] != '_') {
    return "start with a letter or '_'";
  }
  return "";
}

std::string substitute_params(std::string_view text, SourcePos pos, const nlohmann::json& params,
                              bool report_unknown, DiagnosticSink& sink) {
  static constexpr std::string_view kOpen = "${params.";
  std::string result;
  result.reserve(text.size());
  size_t done = 0;  // text before this offset is in result
  for (size_t start = text.find(kOpen); start != std::string_view::npos;
       start = text.find(kOpen, done)) {
    size_t close = text.find('}', start);
    if (close == std::string_view::npos) {
      sink.report(pos,
                  "unterminated parameter reference '" + std::string(text.substr(start)) + "'");
      break;
    }
    std::string name(text.substr(start + kOpen.size(), close - start - kOpen.size()));
    result.append(text, done, start - done);
    done = close + 1;
    if (auto param = params.find(name); param != params.end()) {
      result += param->is_string() ? param->get<std::string>() : param->dump();
      continue;
    }
    result.append(text, start, done - start);
    if (!report_unknown) continue;
    std::vector<std::string> declared;
    for (const auto& item : params.items()) declared.push_back(item.key());
    sink.report(pos, "unknown parameter '" + name + "' in '" +
                         std::string(text.substr(start, done - start)) + "'" +
                         did_you_mean(name, declared));
  }
  result.append(text, done);
  return result;
}

// --- slurm resources ------------------------------------------------------------

namespace {

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Splits on ':' and checks each part is a number.
size_t numeric_fields(std::string_view text) {
  size_t count = 0;
  for (;;) {
    size_t colon = text.find(':');
    if (!all_digits(text.substr(0, colon))) return 0;
    ++count;
    if (colon == std::string_view::npos) return count;
    text.remove_prefix(colon + 1);
  }
}

}  // namespace

std::string slurm_time_problem(std::string_view time) {
  constexpr const char* kExpected =
      "must be a Slurm time limit such as \"30\" (minutes), \"1:30:00\" or \"2-00:00:00\"";
  size_t dash = time.find('-');
  if (dash == std::string_view::npos) {
    size_t fields = numeric_fields(time);
    return fields >= 1 && fields <= 3 ? "" : kExpected;
  }
  if (!all_digits(time.substr(0, dash))) return kExpected;
  size_t fields = numeric_fields(time.substr(dash + 1));
  return fields >= 1 && fields <= 3 ? "" : kExpected;
}

std::string slurm_mem_problem(std::string_view mem) {
  std::string_view digits = mem;
  if (!digits.empty() && std::string_view("KMGTkmgt").find(digits.back()) != std::string_view::npos)
    digits.remove_suffix(1);
  return all_digits(digits) ? "" : "must be a size such as \"500M\" or \"4G\"";
}

// --- schedules ----------------------------------------------------------------

std::string cron_problem(std::string_view cron) {
  return CronExpr::parse(cron).error;
}

bool is_known_timezone(std::string_view timezone) {
  // Schedule::parse alone decides which names are zones (it also refuses
  // paths such as "../x"); a cron that always parses leaves only the zone to judge.
  return !timezone.empty() && Schedule::parse("@daily", timezone).schedule.has_value();
}

std::vector<std::string> installed_timezone_names() {
  // tzdata.zi lists every zone ("Z Europe/Berlin ...") and every alias ("L
  // Europe/Berlin Arctic/Longyearbyen", named by its last field), in the
  // directory cctz loads zones from. Zones come first, so they win ties.
  const char* dir = std::getenv("TZDIR");
  std::ifstream list(std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/tzdata.zi");
  std::vector<std::string> names;
  std::string line;
  while (std::getline(list, line)) {
    std::istringstream fields(line);
    std::string kind, first, second;
    fields >> kind >> first >> second;
    if (kind == "Z") names.push_back(first);
    if (kind == "L") names.push_back(second);
  }
  return names;  // empty when the list is missing: no suggestion, no error
}

// --- shared helpers -----------------------------------------------------------

DiagnosticSink::DiagnosticSink(std::string file, std::string_view content)
    : file_(std::move(file)), content_(content) {}

void DiagnosticSink::report(SourcePos pos, std::string message) {
  if (pos.line > 0 && line_starts_.empty()) index_lines();
  Diagnostic diagnostic;
  diagnostic.file = file_;
  diagnostic.line = pos.line;
  diagnostic.column = pos.column;
  diagnostic.message = std::move(message);
  diagnostic.source_line = line_text(pos.line);
  diagnostics_.push_back(std::move(diagnostic));
}

std::vector<Diagnostic> DiagnosticSink::take_sorted() {
  // Stable, so that problems at one place keep the order they were found in.
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return a.line != b.line ? a.line < b.line : a.column < b.column;
                   });
  return std::move(diagnostics_);
}

void DiagnosticSink::index_lines() {
  line_starts_.push_back(0);
  for (size_t i = content_.find('\n'); i != std::string_view::npos; i = content_.find('\n', i + 1))
    line_starts_.push_back(i + 1);
}

std::string DiagnosticSink::line_text(int line) const {
  if (line < 1 || static_cast<size_t>(line) > line_starts_.size()) return "";
  size_t begin = line_starts_[line - 1];
  size_t end =
      static_cast<size_t>(line) < line_starts_.size() ? line_starts_[line] - 1 : content_.size();
  // A CRLF file's '\r' would move the terminal's cursor back over the message.
  if (end > begin && content_[end - 1] == '\r') --end;
  return std::string(content_.substr(begin, end - begin));
}

std::string step_label(const std::string& id, size_t index) {
  if (id.empty()) return "step at index " + std::to_string(index);
  return "step '" + id + "'";
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::optional<std::string> match = closest_match(word, candidates);
  return match ? " (did you mean '" + *match + "'?)" : "";
}

// --- the graph checks ---------------------------------------------------------

namespace {

constexpr size_t kNone = std::numeric_limits<size_t>::max();

class StepGraphChecker {
 public:
  StepGraphChecker(Dag& dag, const std::vector<StepSource>& sources, DiagnosticSink& sink)
      : dag_(dag), sources_(sources), sink_(sink), downstream_(dag.steps.size()) {}

  void check() {
    index_step_ids();
    std::vector<size_t> last_consumer(dag_.steps.size(), kNone);
    for (size_t i = 0; i < dag_.steps.size(); ++i) {
      dag_.steps[i].needs.clear();
      check_explicit_needs(i, last_consumer);
      check_inputs(i, last_consumer);
    }
    report_cycles();
  }

 private:
  // Maps each id to its first definition; later definitions are duplicates.
  void index_step_ids() {
    index_.reserve(dag_.steps.size());
    for (size_t i = 0; i < dag_.steps.size(); ++i) {
      const std::string& id = dag_.steps[i].id;
      if (id.empty()) continue;
      auto [first, inserted] = index_.emplace(id, i);
      if (!inserted) {
        sink_.report(sources_[i].id_pos, "duplicate step id '" + id + "' (first defined at line " +
                                             std::to_string(sources_[first->second].id_pos.line) +
                                             ")");
      }
    }
  }

  size_t find_step(const std::string& id) const {
    auto found = index_.find(id);
    return found == index_.end() ? kNone : found->second;
  }

  // Built only when a suggestion is needed: most DAGs have no dangling id.
  const std::vector<std::string>& all_step_ids() {
    if (all_ids_.empty()) {
      all_ids_.reserve(dag_.steps.size());
      for (const Step& step : dag_.steps)
        if (!step.id.empty()) all_ids_.push_back(step.id);
    }
    return all_ids_;
  }

  // Records that `consumer` runs after `producer`, once per pair: the marker
  // vector avoids a set per step (last_consumer[p] == c means already linked).
  void link(size_t producer, size_t consumer, std::vector<size_t>& last_consumer) {
    if (last_consumer[producer] == consumer) return;
    last_consumer[producer] = consumer;
    dag_.steps[consumer].needs.push_back(dag_.steps[producer].id);
    downstream_[producer].push_back(consumer);
  }

  void check_explicit_needs(size_t consumer, std::vector<size_t>& last_consumer) {
    const StepSource& source = sources_[consumer];
    for (size_t n = 0; n < source.needs.size(); ++n) {
      const std::string& need = source.needs[n];
      size_t producer = find_step(need);
      if (producer == kNone) {
        sink_.report(source.needs_pos[n], step_label(dag_.steps[consumer].id, consumer) +
                                              " needs unknown step '" + need + "'" +
                                              did_you_mean(need, all_step_ids()));
        continue;
      }
      link(producer, consumer, last_consumer);
    }
  }

  void check_inputs(size_t consumer, std::vector<size_t>& last_consumer) {
    for (const InputRef& input : dag_.steps[consumer].inputs) {
      if (input.is_artifact()) continue;  // made elsewhere: nothing to link in this DAG
      std::string subject =
          "input '" + input.name + "' of " + step_label(dag_.steps[consumer].id, consumer);
      size_t producer = find_step(input.step);
      if (producer == kNone) {
        sink_.report(input.pos, subject + " refers to unknown step '" + input.step + "'" +
                                    did_you_mean(input.step, all_step_ids()));
        continue;
      }
      check_output_exists(dag_.steps[producer], input, subject);
      link(producer, consumer, last_consumer);
    }
  }

  void check_output_exists(const Step& producer, const InputRef& input,
                           const std::string& subject) {
    std::vector<std::string> names;
    names.reserve(producer.outputs.size());
    for (const OutputDecl& output : producer.outputs) {
      if (output.name == input.output) return;
      names.push_back(output.name);
    }
    sink_.report(input.pos, subject + " refers to '" + input.step + "." + input.output +
                                "', but step '" + producer.id + "' has no output '" + input.output +
                                "'" + did_you_mean(input.output, names));
  }

  // Tarjan's strongly connected components, with an explicit stack. Every
  // component with more than one step, or a step that needs itself, holds at
  // least one cycle; one is reported per component.
  void report_cycles() {
    const size_t count = dag_.steps.size();
    component_.assign(count, kNone);
    std::vector<size_t> order(count, kNone), low(count, 0);
    std::vector<bool> on_stack(count, false);
    std::vector<size_t> stack;
    struct Frame {
      size_t step;
      size_t next_edge;
    };
    std::vector<Frame> frames;
    size_t counter = 0;
    auto visit = [&](size_t step) {
      order[step] = low[step] = counter++;
      stack.push_back(step);
      on_stack[step] = true;
      frames.push_back({step, 0});
    };
    for (size_t root = 0; root < count; ++root) {
      if (order[root] != kNone) continue;
      visit(root);
      while (!frames.empty()) {
        size_t step = frames.back().step;
        if (frames.back().next_edge < downstream_[step].size()) {
          size_t next = downstream_[step][frames.back().next_edge++];
          if (order[next] == kNone) {
            visit(next);
          } else if (on_stack[next]) {
            low[step] = std::min(low[step], order[next]);
          }
          continue;
        }
        frames.pop_back();
        if (!frames.empty()) low[frames.back().step] = std::min(low[frames.back().step], low[step]);
        if (low[step] == order[step]) close_component(step, stack, on_stack);
      }
    }
  }

  // Pops the component whose root is `root` and reports its cycle, if any.
  void close_component(size_t root, std::vector<size_t>& stack, std::vector<bool>& on_stack) {
    size_t first_in_file = root;
    size_t size = 0;
    size_t member;
    do {
      member = stack.back();
      stack.pop_back();
      on_stack[member] = false;
      component_[member] = root;
      first_in_file = std::min(first_in_file, member);
      ++size;
    } while (member != root);
    bool self_loop = size == 1 && std::find(downstream_[root].begin(), downstream_[root].end(),
                                            root) != downstream_[root].end();
    if (size > 1 || self_loop) report_cycle_through(first_in_file);
  }

  // Breadth-first search inside the component, so the cycle shown is a
  // shortest one through `start`.
  void report_cycle_through(size_t start) {
    if (parent_.empty()) parent_.assign(dag_.steps.size(), kNone);
    std::vector<size_t> visited;
    std::deque<size_t> queue = {start};
    size_t last = kNone;
    while (!queue.empty() && last == kNone) {
      size_t step = queue.front();
      queue.pop_front();
      for (size_t next : downstream_[step]) {
        if (next == start) {
          last = step;
          break;
        }
        if (component_[next] != component_[start] || parent_[next] != kNone) continue;
        parent_[next] = step;
        visited.push_back(next);
        queue.push_back(next);
      }
    }
    sink_.report(dag_.steps[start].pos, "dependency cycle: " + describe_cycle(start, last));
    for (size_t step : visited) parent_[step] = kNone;
  }

  std::string describe_cycle(size_t start, size_t last) const {
    std::vector<size_t> path;
    for (size_t step = last; step != start; step = parent_[step]) path.push_back(step);
    std::string text = dag_.steps[start].id;
    for (auto step = path.rbegin(); step != path.rend(); ++step)
      text += " -> " + dag_.steps[*step].id;
    return text + " -> " + dag_.steps[start].id;
  }

  Dag& dag_;
  const std::vector<StepSource>& sources_;
  DiagnosticSink& sink_;
  std::unordered_map<std::string_view, size_t> index_;  // views into dag_.steps[i].id
  std::vector<std::string> all_ids_;
  std::vector<std::vector<size_t>> downstream_;  // step -> steps that run after it
  std::vector<size_t> component_;                // step -> root of its component
  std::vector<size_t> parent_;                   // breadth-first search tree, kNone elsewhere
};

}  // namespace

void check_step_graph(Dag& dag, const std::vector<StepSource>& sources, DiagnosticSink& sink) {
  StepGraphChecker(dag, sources, sink).check();
}

}  // namespace dag_loader_internal

}  // namespace twinflow
