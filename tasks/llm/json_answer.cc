// See json_answer.h. The scanner knows just enough JSON to find where values
// end: strings (with escapes) and bracket depth. Each value it delimits is
// then parsed by nlohmann::json on its own.
#include "tasks/llm/json_answer.h"
#include "util/strings.h"

#include <cstddef>
#include <string>

namespace twinflow {

namespace {

using Json = nlohmann::json;

// Walks JSON text one character at a time, tracking strings and depth.
class Scanner {
 public:
  explicit Scanner(std::string_view text, size_t at = 0) : text_(text), at_(at) {}

  bool done() const { return at_ >= text_.size(); }
  size_t at() const { return at_; }
  char peek() const { return text_[at_]; }
  int depth() const { return depth_; }
  bool in_string() const { return in_string_; }

  // Moves past one character, updating the string and depth state.
  void step() {
    const char c = text_[at_++];
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      return;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '[' || c == '{') {
      ++depth_;
    } else if (c == ']' || c == '}') {
      --depth_;
    }
  }

  void skip_space() {
    while (!done() && is_ascii_space(peek())) ++at_;
  }

 private:
  std::string_view text_;
  size_t at_;
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
};

// The end (one past the closing bracket) of the value that starts with '[' or
// '{' at `begin`; npos when the text ends first.
size_t value_end(std::string_view text, size_t begin) {
  Scanner scanner(text, begin);
  do {
    scanner.step();
  } while (!scanner.done() && (scanner.depth() > 0 || scanner.in_string()));
  return scanner.depth() == 0 && !scanner.in_string() ? scanner.at() : std::string_view::npos;
}

// The elements of the array whose '[' is at `open`, each parsed alone.
void read_array(std::string_view text, size_t open, JsonItems& out) {
  Scanner scanner(text, open + 1);
  while (true) {
    scanner.skip_space();
    if (scanner.done()) {
      out.truncated = true;
      return;
    }
    if (scanner.peek() == ']') return;
    const size_t begin = scanner.at();
    // To the ',' or ']' that ends the element, at the array's own level.
    while (!scanner.done() && (scanner.in_string() || scanner.depth() > 0 ||
                               (scanner.peek() != ',' && scanner.peek() != ']'))) {
      scanner.step();
    }
    const std::string_view element = trim(text.substr(begin, scanner.at() - begin));
    if (scanner.done()) {
      out.truncated = true;
      if (!element.empty()) ++out.unreadable;
      return;
    }
    if (!element.empty()) {
      Json value = Json::parse(element, nullptr, /*allow_exceptions=*/false);
      if (value.is_discarded()) {
        ++out.unreadable;
      } else {
        out.items.push_back(std::move(value));
      }
    }
    if (scanner.peek() == ']') return;
    scanner.step();  // the ','
  }
}

// The '[' of the first array member of the object whose '{' is at `open`
// (an array at the object's own level), or npos if none.
size_t first_member_array(std::string_view text, size_t open) {
  Scanner scanner(text, open);
  scanner.step();  // the '{'
  while (!scanner.done() && scanner.depth() > 0) {
    if (!scanner.in_string() && scanner.depth() == 1 && scanner.peek() == '[') return scanner.at();
    scanner.step();
  }
  return std::string_view::npos;
}

}  // namespace

std::string_view json_start(std::string_view answer) {
  const size_t bracket = answer.find_first_of("[{");
  if (bracket == std::string_view::npos) return {};
  const size_t fence = answer.find("```");
  if (fence != std::string_view::npos && fence < bracket) {
    const size_t line_end = answer.find('\n', fence);
    if (line_end == std::string_view::npos) return {};
    answer.remove_prefix(line_end + 1);
    const size_t inner = answer.find_first_of("[{");
    return inner == std::string_view::npos ? std::string_view() : answer.substr(inner);
  }
  return answer.substr(bracket);
}

JsonItems read_json_items(std::string_view answer, std::string_view list_key) {
  JsonItems out;
  const std::string_view text = json_start(answer);
  if (text.empty()) return out;
  out.found = true;
  if (text.front() == '[') {
    read_array(text, 0, out);
    return out;
  }
  const size_t end = value_end(text, 0);
  if (end != std::string_view::npos) {
    Json object = Json::parse(text.substr(0, end), nullptr, /*allow_exceptions=*/false);
    if (object.is_object()) {
      const auto named = object.find(std::string(list_key));
      const bool named_list = named != object.end() && named->is_array();
      bool has_list = named_list;
      for (const Json& member : object) has_list = has_list || member.is_array();
      if (!has_list) {
        out.items.push_back(std::move(object));
        return out;
      }
      if (named_list) {
        // Parsed whole: every element is complete JSON already.
        for (Json& item : *named) out.items.push_back(std::move(item));
        return out;
      }
    }
  }
  // Cut off, unparseable, or a list under another name: scan the first array
  // member.
  const size_t open = first_member_array(text, 0);
  if (open == std::string_view::npos) {
    out.truncated = end == std::string_view::npos;
    ++out.unreadable;
    return out;
  }
  read_array(text, open, out);
  return out;
}

std::optional<Json> read_json_object(std::string_view answer) {
  std::string_view text = json_start(answer);
  // Skip a stray '[' before the object, as in "[{...}]".
  const size_t brace = text.find('{');
  if (brace == std::string_view::npos) return std::nullopt;
  text.remove_prefix(brace);
  const size_t end = value_end(text, 0);
  if (end == std::string_view::npos) return std::nullopt;
  Json object = Json::parse(text.substr(0, end), nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) return std::nullopt;
  return object;
}

}  // namespace twinflow
