// A parsed YAML document as a small read-only tree, built with libyaml.
//
// DAG files are read once and walked once, so the tree is made cheap to build
// and to free rather than convenient to edit: parse_yaml() turns libyaml's
// events into nodes in a single pass and puts every node and every scalar's
// text in one arena owned by the YamlDocument, which is released in a few
// frees. Nodes are small values; a container points at its children, which
// lie next to each other in the arena.
//
// The tree keeps what diagnostics and scalar typing need: where each node was
// written, and whether a scalar was plain (`3`, `true`, `~`) or quoted. It does
// not resolve types: the loader decides what a plain scalar means.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <span>
#include <string>
#include <string_view>

namespace twinflow {

struct YamlMark {
  int line = 0;    // 1-based; 0 when unknown, as for the root of an empty stream
  int column = 0;  // 1-based, counted in bytes like the rest of twinflow's columns
};

struct YamlEntry;

class YamlNode {
 public:
  enum class Kind : uint8_t {
    kNull,  // no value at all: `key:` with nothing after it, or an empty stream
    kScalar,
    kSequence,
    kMapping,
  };

  // What an explicit tag says about the node's type. The tag's text is not
  // kept: nothing reads it, and it would make every node bigger.
  enum class Tag : uint8_t {
    kNone,    // no tag
    kString,  // `!` or `!!str`: a string, whatever the text looks like
    kOther,   // any other tag, such as `!!int` or `!custom`
  };

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_scalar() const { return kind_ == Kind::kScalar; }
  bool is_sequence() const { return kind_ == Kind::kSequence; }
  bool is_mapping() const { return kind_ == Kind::kMapping; }

  // Where the node starts, including its anchor or tag if it has one.
  YamlMark mark() const { return {static_cast<int>(line_), static_cast<int>(column_)}; }

  // The scalar's value with escapes and folding applied; empty for other kinds.
  std::string_view scalar() const {
    return kind_ == Kind::kScalar ? std::string_view(text_, size_) : std::string_view();
  }
  // False for quoted ('x', "x") and block (|, >) scalars, whose text is a
  // string whatever it looks like.
  bool is_plain() const { return plain_; }
  Tag tag() const { return tag_; }

  // The items of a sequence in order; empty for other kinds.
  std::span<const YamlNode> items() const {
    return kind_ == Kind::kSequence ? std::span<const YamlNode>(items_, size_)
                                    : std::span<const YamlNode>();
  }
  // The entries of a mapping in file order, repeated keys included; empty
  // for other kinds.
  std::span<const YamlEntry> entries() const;

  // The number of items or entries of a container; 0 for other kinds.
  size_t size() const { return kind_ == Kind::kSequence || kind_ == Kind::kMapping ? size_ : 0; }

 private:
  friend class YamlTreeBuilder;

  // 24 bytes: a big DAG file has hundreds of thousands of nodes, and on a
  // first load every fresh page of the arena costs a page fault.
  union {
    const char* text_ = nullptr;  // kScalar: not NUL-terminated, size_ bytes
    const YamlNode* items_;       // kSequence: size_ nodes
    const YamlEntry* entries_;    // kMapping: size_ entries
  };
  uint32_t size_ = 0;
  uint32_t line_ = 0;
  uint32_t column_ = 0;
  Kind kind_ = Kind::kNull;
  Tag tag_ = Tag::kNone;
  bool plain_ = true;
};

// One `key: value` of a mapping. Keys are nodes too: YAML allows any node as
// a key, and the key's mark is where a problem with the entry is shown.
struct YamlEntry {
  YamlNode key;
  YamlNode value;
};

inline std::span<const YamlEntry> YamlNode::entries() const {
  return kind_ == Kind::kMapping ? std::span<const YamlEntry>(entries_, size_)
                                 : std::span<const YamlEntry>();
}

// Owns the nodes of one parsed document. Nodes and the views they hand out
// stay valid as long as the document, and across moves of it.
class YamlDocument {
 public:
  YamlDocument() = default;

  const YamlNode& root() const { return root_; }

 private:
  friend class YamlTreeBuilder;

  std::unique_ptr<std::pmr::monotonic_buffer_resource> arena_;
  YamlNode root_;
};

struct YamlParseResult {
  // On error, the document is empty: its root is a null node.
  YamlDocument document;
  // Empty on success; else libyaml's description of the problem, such as
  // "did not find expected key (while parsing a block mapping started at
  // line 2, column 1)".
  std::string error;
  YamlMark error_mark;  // where parsing stopped; line 0 when unknown
  // True when the text is well-formed YAML but goes past one of the limits
  // below; `error` then says which, without libyaml's wording.
  bool limit_exceeded = false;
  bool ok() const { return error.empty(); }
};

// Limits on what a stranger's file may make the parser and its walkers do.
// An alias costs nothing to parse (the tree shares the anchored node), but
// whoever walks the tree visits the anchored node once per alias, so nested
// aliases ("billion laughs": ten aliases of ten aliases of ...) would make a
// 500-byte file a walk of billions of nodes. The limits are counted as the
// document is read, so a hostile file fails in microseconds.
struct YamlLimits {
  static constexpr size_t kMaxBytes = 4 * 1024 * 1024;  // the text, BOM included
  static constexpr size_t kMaxDepth = 1000;             // nesting, aliases expanded
  static constexpr size_t kMaxAliases = 10'000;         // alias occurrences (`*name`)
  // What the aliases add to a walk of the tree: nodes, and bytes of scalar text.
  static constexpr uint64_t kMaxAliasNodes = 100'000;
  static constexpr uint64_t kMaxAliasBytes = 16 * 1024 * 1024;
};

// Parses the first document of `text` (any later documents are ignored, not
// even checked). Aliases become copies of the node their anchor names, marked
// where the alias is written; merge keys (`<<`) get no special meaning.
// Going past a YamlLimits limit is an error (limit_exceeded, marked at the
// node or alias that crossed it; line 0 for the text's size): nesting deeper
// than a thousand levels, counting what aliases bring in, so that whoever
// walks the tree recursively cannot run out of stack, and aliases that would
// make a walk of the tree visit more than kMaxAliasNodes extra nodes or
// kMaxAliasBytes extra bytes of text.
YamlParseResult parse_yaml(std::string_view text);

}  // namespace twinflow
