// Reading YAML mappings and values for the DAG loader: entries with their
// positions, unknown and repeated keys, and how messages name a value.
// Internal to scheduler/definition/.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "scheduler/definition/dag_loader.h"
#include "scheduler/definition/yaml_document.h"

namespace twinflow::dag_loader_internal {

// The keys a kind of mapping accepts, in the order suggestions prefer.
using KeyList = std::vector<std::string>;

// --- YAML values ----------------------------------------------------------------

SourcePos position_of(const YamlNode& node);

// No value, or a plain untagged `~` or `null`. Tagged or quoted, it is text.
bool is_null(const YamlNode& node);

ScalarType scalar_type(const YamlNode& node);

std::string kind_of(const YamlNode& node);

// Where a string is expected any non-null scalar will do: numbers and
// booleans are taken as written (`name: 2024` names the DAG "2024").
bool is_text(const YamlNode& node);

std::optional<long long> integer_value(const YamlNode& node);

// Any YAML value as JSON, for -p values: no positions, no substitution, and
// of repeated keys the first wins. A key that is not text counts as "".
nlohmann::json plain_json_of(const YamlNode& node);

// A -p value. Plain text is typed like an unquoted YAML scalar ("3" is a
// number, "no" a string); a quoted string or a flow sequence or mapping is
// read as YAML. Reruns pass recorded params back as JSON text, which is such
// YAML, so they come back with the same values and types.
nlohmann::json override_value(const std::string& text);

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
std::vector<Entry> read_entries(const YamlNode& mapping, const Place& place, DiagnosticSink& sink);

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

}  // namespace twinflow::dag_loader_internal
