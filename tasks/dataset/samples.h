// The values of the dataset step: where samples come from (an author's cleaned
// documents) and what it makes of them (instruct and preference samples).
//
// The dataset step reads DatasetSource values from the feature store, turns
// them into samples with a generator (the built-in offline one, or an
// OpenAI-compatible LLM), filters and deduplicates them, splits them into train
// and test with a seed, and writes them as JSONL artifacts. See docs/STEPS.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace twinflow {

// One cleaned document of the author.
struct DatasetSource {
  int64_t document_id = 0;  // documents.id (0 in tests that build sources by hand)
  std::string platform;     // medium, substack, linkedin, github, web
  std::string kind;         // article, post, repository
  std::string url;
  std::string title;
  // Cleaned text: paragraphs separated by one blank line ("\n\n").
  std::string content;
  // The extracted block structure when known: [{"kind": "heading"|"paragraph"|
  // "list_item"|"quote"|"code", "level": N, "text": "..."}]; may be empty.
  nlohmann::json blocks = nlohmann::json::array();
};

// An instruction and the answer the author would give.
struct InstructSample {
  std::string instruction;
  std::string answer;
  int64_t document_id = 0;  // the source document, for lineage
};

// A prompt, the author's answer (chosen) and a worse one (rejected).
struct PreferenceSample {
  std::string prompt;
  std::string chosen;
  std::string rejected;
  int64_t document_id = 0;
};

// What happened to generated samples, recorded as the step's metrics.
struct DatasetCounts {
  int64_t generated = 0;        // samples produced by the generator
  int64_t malformed = 0;        // LLM samples that failed to parse or validate, dropped
  int64_t failed_requests = 0;  // LLM requests that failed for good (their samples are lost)
  int64_t too_short = 0;        // dropped by the length filters
  int64_t too_long = 0;
  int64_t duplicates = 0;  // dropped as near-duplicates of a kept sample
  int64_t kept = 0;
};

}  // namespace twinflow
