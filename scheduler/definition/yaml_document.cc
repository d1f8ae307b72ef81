// Building a YamlDocument from libyaml's event stream.
//
// libyaml's event parser reports a document as a flat sequence of events
// (scalar, start and end of sequences and mappings, alias). The builder keeps
// the children of every open container on one shared stack; when a container
// ends, its children are copied into the arena in one block, so a container
// costs one allocation from the arena and nothing has to be freed one by one.
#include "scheduler/definition/yaml_document.h"
#include "util/strings.h"

#include <yaml.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace twinflow {

static_assert(sizeof(YamlNode) <= 24, "nodes are kept small on purpose, see yaml_document.h");

namespace {

constexpr size_t kMaxDepth = YamlLimits::kMaxDepth;

// What a walk of a node visits once its aliases are expanded.
struct Extent {
  uint64_t nodes = 1;   // the node and everything below it
  uint64_t bytes = 0;   // scalar text in it
  uint32_t height = 0;  // containers nested in it, itself included
};

std::string mib(uint64_t bytes) {
  return std::to_string(bytes / (1024 * 1024)) + " MiB";
}

size_t utf8_width(char lead) {
  unsigned char c = static_cast<unsigned char>(lead);
  if (c < 0xC0) return 1;
  if (c < 0xE0) return 2;
  if (c < 0xF0) return 3;
  return 4;
}

bool is_ascii(std::string_view text) {
  unsigned char any = 0;
  for (char c : text) any |= static_cast<unsigned char>(c);
  return any < 0x80;
}

// libyaml counts columns in characters, twinflow's diagnostics in bytes (so
// that diagnostic.cc can put the caret under UTF-8 text). For pure ASCII the
// two agree; otherwise a cursor that maps libyaml's character index to a byte
// offset follows the marks, which mostly move forward.
class MarkConverter {
 public:
  explicit MarkConverter(std::string_view text) : text_(text), ascii_(is_ascii(text)) {
    // libyaml skips a byte order mark without counting it.
    if (text.starts_with("\xEF\xBB\xBF")) cursor_byte_ = base_ = 3;
    for (size_t i = base_; i < text.size(); ++i) characters_ += !is_utf8_continuation(text[i]);
    ends_in_break_ = text.size() == base_ || text.back() == '\n' || text.back() == '\r';
  }

  // For UTF-16 input, whose bytes libyaml's characters do not map onto.
  void count_characters() { ascii_ = utf16_ = true; }

  YamlMark convert(const yaml_mark_t& mark) {
    // libyaml ends a text that lacks a final line break with one of its own,
    // so the end of the stream lies on a line past the last; point at the end
    // of the last line instead.
    if (!utf16_ && !ends_in_break_ && mark.index >= characters_ && mark.column == 0 &&
        mark.line > 0) {
      const size_t last_break = text_.find_last_of("\r\n");
      const size_t start = last_break == std::string_view::npos ? base_ : last_break + 1;
      return {static_cast<int>(mark.line), static_cast<int>(text_.size() - start) + 1};
    }
    int line = static_cast<int>(mark.line) + 1;
    if (ascii_) return {line, static_cast<int>(mark.column) + 1};
    size_t offset = byte_offset(mark.index);
    return {line, static_cast<int>(bytes_back(offset, mark.column)) + 1};
  }

  // A mark from a byte offset, for reader errors, which come without one.
  YamlMark at_offset(size_t offset) const {
    std::string_view before = text_.substr(0, std::min(offset, text_.size()));
    size_t newline = before.rfind('\n');
    size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
    int line = 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
    return {line, static_cast<int>(before.size() - line_start) + 1};
  }

 private:
  size_t byte_offset(size_t index) {
    while (cursor_char_ < index && cursor_byte_ < text_.size()) {
      cursor_byte_ = std::min(text_.size(), cursor_byte_ + utf8_width(text_[cursor_byte_]));
      ++cursor_char_;
    }
    while (cursor_char_ > index && cursor_byte_ > base_) {
      cursor_byte_ = previous_character(cursor_byte_);
      --cursor_char_;
    }
    return cursor_byte_;
  }

  // The bytes taken by the `characters` characters before `offset`.
  size_t bytes_back(size_t offset, size_t characters) const {
    size_t start = offset;
    for (size_t i = 0; i < characters && start > base_; ++i) start = previous_character(start);
    return offset - start;
  }

  size_t previous_character(size_t offset) const {
    do {
      --offset;
    } while (offset > base_ && is_utf8_continuation(text_[offset]));
    return offset;
  }

  std::string_view text_;
  bool ascii_;
  bool utf16_ = false;
  size_t characters_ = 0;      // in the text, as libyaml counts them (UTF-8)
  bool ends_in_break_ = true;  // the text ends with a line break, or is empty
  size_t base_ = 0;            // where libyaml's character 0 is
  size_t cursor_char_ = 0;
  size_t cursor_byte_ = 0;
};

// Owns a libyaml parser reading from `text`.
class EventParser {
 public:
  explicit EventParser(std::string_view text) {
    yaml_parser_initialize(&parser_);
    // libyaml asserts on a null pointer, which an empty string_view may hold.
    const char* data = text.data() ? text.data() : "";
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(data),
                                 text.size());
  }
  ~EventParser() { yaml_parser_delete(&parser_); }
  EventParser(const EventParser&) = delete;
  EventParser& operator=(const EventParser&) = delete;

  bool next(yaml_event_t& event) { return yaml_parser_parse(&parser_, &event) != 0; }
  const yaml_parser_t& state() const { return parser_; }

 private:
  yaml_parser_t parser_;
};

// Owns one event.
struct Event {
  yaml_event_t raw;
  Event() { std::memset(&raw, 0, sizeof raw); }
  ~Event() { yaml_event_delete(&raw); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
};

const char* as_chars(const yaml_char_t* text) {
  return reinterpret_cast<const char*>(text);
}

// libyaml hands out tags resolved: `!!str` arrives as "tag:yaml.org,2002:str".
YamlNode::Tag classify(const yaml_char_t* tag) {
  if (!tag) return YamlNode::Tag::kNone;
  std::string_view text = as_chars(tag);
  if (text == "!" || text == "tag:yaml.org,2002:str") return YamlNode::Tag::kString;
  return YamlNode::Tag::kOther;
}

}  // namespace

// Turns events into nodes. Friend of YamlNode and YamlDocument.
class YamlTreeBuilder {
 public:
  explicit YamlTreeBuilder(std::string_view text)
      : text_(text),
        marks_(text),
        arena_(std::make_unique<std::pmr::monotonic_buffer_resource>(text.size() + 1024)) {}

  YamlParseResult build() {
    YamlParseResult result;
    if (text_.size() > YamlLimits::kMaxBytes) {
      result.error = "the text is " + std::to_string(text_.size()) + " bytes, more than the " +
                     mib(YamlLimits::kMaxBytes) + " allowed";
      result.limit_exceeded = true;
      return result;
    }
    EventParser parser(text_);
    for (;;) {
      Event event;
      if (!parser.next(event.raw)) {
        fail(parser.state());
        break;
      }
      if (!handle(event.raw) || !error_.empty()) break;
    }
    result.error = std::move(error_);
    result.error_mark = error_mark_;
    result.limit_exceeded = limit_exceeded_;
    if (result.ok()) {
      result.document.arena_ = std::move(arena_);
      result.document.root_ = root_;
    }
    return result;
  }

 private:
  // A container whose end event has not come yet.
  struct Open {
    YamlNode node;
    size_t first_child;  // index in pending_
    std::string anchor;
    Extent extent;  // grows as children arrive
  };

  struct Anchored {
    YamlNode node;
    Extent extent;
  };

  // False once the first document is complete.
  bool handle(const yaml_event_t& event) {
    switch (event.type) {
      case YAML_STREAM_START_EVENT:
        if (event.data.stream_start.encoding != YAML_UTF8_ENCODING) marks_.count_characters();
        return true;
      case YAML_SCALAR_EVENT:
        add_scalar(event);
        return true;
      case YAML_ALIAS_EVENT:
        add_alias(event);
        return true;
      case YAML_SEQUENCE_START_EVENT:
        open(event, YamlNode::Kind::kSequence, event.data.sequence_start.anchor,
             event.data.sequence_start.tag);
        return true;
      case YAML_MAPPING_START_EVENT:
        open(event, YamlNode::Kind::kMapping, event.data.mapping_start.anchor,
             event.data.mapping_start.tag);
        return true;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        close();
        return true;
      case YAML_DOCUMENT_END_EVENT:
      case YAML_STREAM_END_EVENT:
        return false;
      default:  // document start, nothing to do
        return true;
    }
  }

  void add_scalar(const yaml_event_t& event) {
    const auto& scalar = event.data.scalar;
    YamlNode node = node_at(event.start_mark, YamlNode::Kind::kScalar, scalar.tag);
    node.plain_ = scalar.style == YAML_PLAIN_SCALAR_STYLE;
    node.text_ = copy(as_chars(scalar.value), scalar.length);
    node.size_ = static_cast<uint32_t>(scalar.length);
    // `key:` alone is no value at all; `key: ""` and `key: !!str` are strings.
    if (node.plain_ && node.tag_ == YamlNode::Tag::kNone && scalar.length == 0) {
      node.kind_ = YamlNode::Kind::kNull;
    }
    Extent extent{1, scalar.length, 0};
    remember(scalar.anchor, node, extent);
    add(node, extent);
  }

  void add_alias(const yaml_event_t& event) {
    const char* name = as_chars(event.data.alias.anchor);
    auto anchored = anchors_.find(name);
    if (anchored == anchors_.end()) {
      // A node that contains itself would make every walk of the tree endless.
      bool inside = std::any_of(open_.begin(), open_.end(),
                                [&](const Open& open) { return open.anchor == name; });
      fail(inside ? std::string("found alias '") + name + "' inside the node it refers to"
                  : std::string("found undefined alias '") + name + "'",
           event.start_mark);
      return;
    }
    const Extent& extent = anchored->second.extent;
    if (!within_alias_limits(name, extent, event.start_mark)) return;
    YamlNode node = anchored->second.node;
    YamlMark mark = marks_.convert(event.start_mark);
    node.line_ = static_cast<uint32_t>(mark.line);
    node.column_ = static_cast<uint32_t>(mark.column);
    add(node, extent);
  }

  // Counts one alias of a node of `extent`; false (and an error) when that
  // goes past a limit.
  bool within_alias_limits(const char* name, const Extent& extent, const yaml_mark_t& mark) {
    ++aliases_;
    alias_nodes_ += extent.nodes;
    alias_bytes_ += extent.bytes;
    const std::string alias = std::string("alias '*") + name + "'";
    if (aliases_ > YamlLimits::kMaxAliases) {
      limit(alias + " is one too many: at most " + std::to_string(YamlLimits::kMaxAliases) +
                " aliases per file",
            mark);
    } else if (alias_nodes_ > YamlLimits::kMaxAliasNodes) {
      limit(alias + " brings the nodes that aliases expand to past " +
                std::to_string(YamlLimits::kMaxAliasNodes) +
                " (aliases of aliases multiply; write the values out instead)",
            mark);
    } else if (alias_bytes_ > YamlLimits::kMaxAliasBytes) {
      limit(alias + " brings the text that aliases expand to past " +
                mib(YamlLimits::kMaxAliasBytes) + " (write the values out instead)",
            mark);
    } else if (open_.size() + extent.height > kMaxDepth) {
      limit(alias + " nests its node more than " + std::to_string(kMaxDepth) + " levels deep",
            mark);
    }
    return error_.empty();
  }

  void open(const yaml_event_t& event, YamlNode::Kind kind, const yaml_char_t* anchor,
            const yaml_char_t* tag) {
    if (open_.size() >= kMaxDepth) {
      limit("nested more than " + std::to_string(kMaxDepth) + " levels deep", event.start_mark);
      return;
    }
    open_.push_back({node_at(event.start_mark, kind, tag), pending_.size(),
                     anchor ? as_chars(anchor) : "", Extent{1, 0, 1}});
  }

  // Moves the children of the innermost container into the arena.
  void close() {
    Open& open = open_.back();
    YamlNode node = open.node;
    const YamlNode* children = pending_.data() + open.first_child;
    size_t count = pending_.size() - open.first_child;
    if (node.kind_ == YamlNode::Kind::kSequence) {
      node.items_ = copy_items(children, count);
      node.size_ = static_cast<uint32_t>(count);
    } else {
      node.entries_ = copy_entries(children, count / 2);  // libyaml pairs every key
      node.size_ = static_cast<uint32_t>(count / 2);
    }
    pending_.resize(open.first_child);
    const Extent extent = open.extent;
    if (!open.anchor.empty()) anchors_[open.anchor] = {node, extent};
    open_.pop_back();
    add(node, extent);
  }

  // Adds a finished node to the innermost open container, or makes it the root.
  void add(const YamlNode& node, const Extent& extent) {
    if (open_.empty()) {
      root_ = node;
      return;
    }
    pending_.push_back(node);
    Extent& parent = open_.back().extent;
    parent.nodes += extent.nodes;
    parent.bytes += extent.bytes;
    parent.height = std::max(parent.height, extent.height + 1);
  }

  void remember(const yaml_char_t* anchor, const YamlNode& node, const Extent& extent) {
    if (anchor) anchors_[as_chars(anchor)] = {node, extent};
  }

  YamlNode node_at(const yaml_mark_t& start, YamlNode::Kind kind, const yaml_char_t* tag) {
    YamlNode node;
    YamlMark mark = marks_.convert(start);
    node.line_ = static_cast<uint32_t>(mark.line);
    node.column_ = static_cast<uint32_t>(mark.column);
    node.kind_ = kind;
    node.tag_ = classify(tag);
    return node;
  }

  const char* copy(const char* text, size_t length) {
    if (length == 0) return nullptr;
    char* copied = static_cast<char*>(arena_->allocate(length, 1));
    std::memcpy(copied, text, length);
    return copied;
  }

  const YamlNode* copy_items(const YamlNode* items, size_t count) {
    if (count == 0) return nullptr;
    auto* copied =
        static_cast<YamlNode*>(arena_->allocate(count * sizeof(YamlNode), alignof(YamlNode)));
    std::uninitialized_copy_n(items, count, copied);
    return copied;
  }

  // `nodes` holds key, value, key, value...
  const YamlEntry* copy_entries(const YamlNode* nodes, size_t count) {
    if (count == 0) return nullptr;
    auto* copied =
        static_cast<YamlEntry*>(arena_->allocate(count * sizeof(YamlEntry), alignof(YamlEntry)));
    for (size_t i = 0; i < count; ++i) new (&copied[i]) YamlEntry{nodes[2 * i], nodes[2 * i + 1]};
    return copied;
  }

  void fail(std::string message, const yaml_mark_t& mark) {
    error_ = std::move(message);
    error_mark_ = marks_.convert(mark);
  }

  void limit(std::string message, const yaml_mark_t& mark) {
    fail(std::move(message), mark);
    limit_exceeded_ = true;
  }

  // Records libyaml's error: its problem, and the construct it was reading.
  void fail(const yaml_parser_t& parser) {
    if (parser.error == YAML_READER_ERROR) {
      error_ = parser.problem ? parser.problem : "cannot read the text";
      error_mark_ = marks_.at_offset(parser.problem_offset);
      return;
    }
    error_ = parser.problem                      ? parser.problem
             : parser.error == YAML_MEMORY_ERROR ? "out of memory"
                                                 : "unknown error";
    error_mark_ = parser.problem ? marks_.convert(parser.problem_mark) : YamlMark{};
    if (!parser.context) return;
    YamlMark context = marks_.convert(parser.context_mark);
    error_ += std::string(" (") + parser.context;
    if (context.line != error_mark_.line || context.column != error_mark_.column) {
      error_ += " started at line " + std::to_string(context.line) + ", column " +
                std::to_string(context.column);
    }
    error_ += ")";
  }

  std::string_view text_;
  MarkConverter marks_;
  std::unique_ptr<std::pmr::monotonic_buffer_resource> arena_;
  YamlNode root_;  // null until the document's top node ends
  std::vector<Open> open_;
  std::vector<YamlNode> pending_;  // finished children of open_, innermost last
  std::unordered_map<std::string, Anchored> anchors_;
  size_t aliases_ = 0;
  uint64_t alias_nodes_ = 0;  // what the aliases so far add to a walk
  uint64_t alias_bytes_ = 0;
  std::string error_;
  YamlMark error_mark_;
  bool limit_exceeded_ = false;
};

YamlParseResult parse_yaml(std::string_view text) {
  return YamlTreeBuilder(text).build();
}

}  // namespace twinflow
