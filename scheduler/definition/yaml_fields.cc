// See yaml_fields.h.
#include "scheduler/definition/yaml_fields.h"

#include <climits>

namespace twinflow::dag_loader_internal {

SourcePos position_of(const YamlNode& node) {
  YamlMark mark = node.mark();
  return {mark.line, mark.column};
}

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

bool is_text(const YamlNode& node) {
  return node.is_scalar() && !is_null(node);
}

std::optional<long long> integer_value(const YamlNode& node) {
  if (!node.is_scalar() || scalar_type(node) != ScalarType::kInteger) return std::nullopt;
  nlohmann::json value = scalar_to_json(node.scalar(), ScalarType::kInteger);
  if (!value.is_number_integer()) return std::nullopt;
  return value.get<long long>();
}

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

nlohmann::json override_value(const std::string& text) {
  if (text.empty() || std::string_view("\"'[{").find(text[0]) == std::string_view::npos) {
    return scalar_to_json(text, resolve_plain_scalar(text));
  }
  YamlParseResult parsed = parse_yaml(text);
  if (!parsed.ok()) return text;  // "[draft" is not YAML: take it as written
  return plain_json_of(parsed.document.root());
}

std::vector<Entry> read_entries(const YamlNode& mapping, const Place& place, DiagnosticSink& sink) {
  Fields fields(mapping);
  fields.report_bad_keys(place, sink);
  return std::move(fields).take_entries();
}

}  // namespace twinflow::dag_loader_internal
