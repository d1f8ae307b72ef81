// Vocabulary: the token ↔ id table of the built-in neural language model.
//
// Built from the training texts' token sequences: the three special tokens
// first (<unk> = 0, <s> = 1, </s> = 2), then every token seen at least
// `min_count` times, most frequent first (ties by byte order), cut at
// `max_size` entries in all. Building is deterministic. Tokens outside the
// table map to <unk>. Each entry keeps its training count (the specials: <s>
// 0, </s> the number of sequences, <unk> the occurrences of dropped tokens),
// which the unigram baseline (unigram_lm.h) needs.
//
// Saved as JSON: {"format": "twinflow-vocabulary-1", "tokens": [...],
// "counts": [...]}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace twinflow {

struct VocabularyOptions {
  // A token must occur this many times to get its own id. >= 1.
  int64_t min_count = 2;
  // At most this many entries, the three specials included. >= 3.
  size_t max_size = 5000;
};

class Vocabulary {
 public:
  static constexpr int32_t kUnknown = 0;  // <unk>
  static constexpr int32_t kBegin = 1;    // <s>: pads the context before a text
  static constexpr int32_t kEnd = 2;      // </s>: ends a text

  // Only the three special tokens.
  Vocabulary();

  // Throws Error when the options are out of range.
  static Vocabulary build(const std::vector<std::vector<std::string>>& sequences,
                          const VocabularyOptions& options);

  size_t size() const { return tokens_.size(); }
  // kUnknown when the token is not in the table.
  int32_t id(std::string_view token) const;
  // Throws Error when id is out of range.
  const std::string& token(int32_t id) const;
  int64_t count(int32_t id) const;

  std::vector<int32_t> encode(const std::vector<std::string>& tokens) const;
  // The special tokens are left out.
  std::vector<std::string> decode(const std::vector<int32_t>& ids) const;

  nlohmann::json to_json() const;
  // Throws Error saying what is wrong (duplicates, missing specials, ...).
  static Vocabulary from_json(const nlohmann::json& json);

  // Atomic write. Throws Error naming the file.
  void save(const std::filesystem::path& file) const;
  // Throws Error naming the file when it is missing, unreadable or invalid.
  static Vocabulary load(const std::filesystem::path& file);

  bool operator==(const Vocabulary& other) const {
    return tokens_ == other.tokens_ && counts_ == other.counts_;
  }

 private:
  void index();

  std::vector<std::string> tokens_;
  std::vector<int64_t> counts_;
  std::unordered_map<std::string, int32_t> ids_;
};

}  // namespace twinflow
