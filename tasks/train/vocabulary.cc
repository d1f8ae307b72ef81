// See vocabulary.h.
#include "tasks/train/vocabulary.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "util/error.h"
#include "util/files.h"

namespace twinflow {
namespace {

constexpr const char* kFormat = "twinflow-vocabulary-1";
const std::vector<std::string> kSpecials = {"<unk>", "<s>", "</s>"};

}  // namespace

Vocabulary::Vocabulary() : tokens_(kSpecials), counts_(kSpecials.size(), 0) {
  index();
}

void Vocabulary::index() {
  ids_.clear();
  ids_.reserve(tokens_.size());
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (!ids_.emplace(tokens_[i], static_cast<int32_t>(i)).second) {
      throw Error("vocabulary: token \"" + tokens_[i] + "\" appears twice");
    }
  }
}

Vocabulary Vocabulary::build(const std::vector<std::vector<std::string>>& sequences,
                             const VocabularyOptions& options) {
  if (options.min_count < 1) throw Error("vocabulary: min_count must be >= 1");
  if (options.max_size < kSpecials.size()) throw Error("vocabulary: max_size must be >= 3");
  std::unordered_map<std::string, int64_t> counts;
  int64_t total = 0;
  for (const auto& sequence : sequences) {
    for (const auto& token : sequence) ++counts[token];
    total += static_cast<int64_t>(sequence.size());
  }
  std::vector<std::pair<std::string, int64_t>> kept;
  for (auto& [token, count] : counts) {
    const bool special = std::find(kSpecials.begin(), kSpecials.end(), token) != kSpecials.end();
    if (count >= options.min_count && !special) kept.emplace_back(token, count);
  }
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (kept.size() > options.max_size - kSpecials.size()) {
    kept.resize(options.max_size - kSpecials.size());
  }
  Vocabulary vocabulary;
  int64_t known = 0;
  for (auto& [token, count] : kept) {
    vocabulary.tokens_.push_back(token);
    vocabulary.counts_.push_back(count);
    known += count;
  }
  vocabulary.counts_[kUnknown] = total - known;
  vocabulary.counts_[kEnd] = static_cast<int64_t>(sequences.size());
  vocabulary.index();
  return vocabulary;
}

int32_t Vocabulary::id(std::string_view token) const {
  const auto found = ids_.find(std::string(token));
  return found == ids_.end() ? kUnknown : found->second;
}

const std::string& Vocabulary::token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= tokens_.size()) {
    throw Error("vocabulary: id " + std::to_string(id) + " out of range (size " +
                std::to_string(tokens_.size()) + ")");
  }
  return tokens_[static_cast<size_t>(id)];
}

int64_t Vocabulary::count(int32_t id) const {
  token(id);  // range check
  return counts_[static_cast<size_t>(id)];
}

std::vector<int32_t> Vocabulary::encode(const std::vector<std::string>& tokens) const {
  std::vector<int32_t> ids;
  ids.reserve(tokens.size());
  for (const auto& token : tokens) ids.push_back(id(token));
  return ids;
}

std::vector<std::string> Vocabulary::decode(const std::vector<int32_t>& ids) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int32_t id : ids) {
    if (id == kUnknown || id == kBegin || id == kEnd) continue;
    tokens.push_back(token(id));
  }
  return tokens;
}

nlohmann::json Vocabulary::to_json() const {
  return {{"format", kFormat}, {"tokens", tokens_}, {"counts", counts_}};
}

Vocabulary Vocabulary::from_json(const nlohmann::json& json) {
  if (!json.is_object() || json.value("format", "") != kFormat) {
    throw Error(std::string("vocabulary: not a ") + kFormat + " object");
  }
  Vocabulary vocabulary;
  try {
    vocabulary.tokens_ = json.at("tokens").get<std::vector<std::string>>();
    vocabulary.counts_ = json.at("counts").get<std::vector<int64_t>>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("vocabulary: ") + e.what());
  }
  if (vocabulary.tokens_.size() != vocabulary.counts_.size()) {
    throw Error("vocabulary: " + std::to_string(vocabulary.tokens_.size()) + " tokens but " +
                std::to_string(vocabulary.counts_.size()) + " counts");
  }
  if (vocabulary.tokens_.size() < kSpecials.size() ||
      !std::equal(kSpecials.begin(), kSpecials.end(), vocabulary.tokens_.begin())) {
    throw Error("vocabulary: must start with <unk>, <s>, </s>");
  }
  for (const int64_t count : vocabulary.counts_) {
    if (count < 0) throw Error("vocabulary: negative count");
  }
  vocabulary.index();
  return vocabulary;
}

void Vocabulary::save(const std::filesystem::path& file) const {
  write_file_atomically(file, to_json().dump() + "\n");
}

Vocabulary Vocabulary::load(const std::filesystem::path& file) {
  const std::string content = read_file(file, "vocabulary file");
  try {
    return from_json(nlohmann::json::parse(content));
  } catch (const nlohmann::json::exception& e) {
    throw Error("corrupt vocabulary file " + file.string() + ": " + e.what());
  } catch (const Error& e) {
    throw Error("corrupt vocabulary file " + file.string() + ": " + e.what());
  }
}

}  // namespace twinflow
