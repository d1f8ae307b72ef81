// LlmDatasetGenerator: instruct and preference samples written by an LLM from
// an author's documents, the way the public LLM-twin reference builds its
// datasets, but without losing good samples to bad ones.
//
// Each source's content is split into extracts of bounded size; per extract
// the model is asked (through OpenAiChat, requests in parallel) for N
// instruction-answer pairs in the author's style, or for N preference triples
// (an instruction, a generic answer that becomes `rejected`, and a verbatim
// excerpt of the author that becomes `chosen`), as JSON. Every sample of an
// answer is read and validated on its own: a malformed one is dropped and
// counted, its neighbours are kept; a cut-off answer yields every sample
// before the cut (tasks/llm/json_answer.h). A request that fails for good is
// counted and costs only its extract.
//
// The parsing and prompt functions are pure and declared here for the tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasks/dataset/samples.h"
#include "tasks/llm/openai_chat.h"

namespace twinflow {

struct LlmGeneratorOptions {
  // Extracts hold whole paragraphs (sentences, for a paragraph too long) up to
  // max_extract_chars; a last extract shorter than min_extract_chars takes
  // paragraphs from the one before it while that one stays the longer. Short
  // documents make one short extract: unlike the reference, they are not
  // dropped. 1 <= min <= max.
  size_t min_extract_chars = 1000;
  size_t max_extract_chars = 2000;
  int samples_per_extract = 5;  // asked of the model, at least 1
  double temperature = 0.7;
  int max_tokens = 2048;  // per answer; <= 0: the server's default
  bool json_mode = true;  // ask for response_format json_object
  // Preference: `chosen` must occur in the extract (whitespace runs aside);
  // a sample whose "extracted" answer the model made up counts as malformed.
  bool verbatim_chosen = true;
};

// A bounded piece of a source's content.
struct Extract {
  int64_t document_id = 0;
  std::string text;
};

// The extracts of a source, in order, per the options' sizes. None for a
// source without content.
std::vector<Extract> split_into_extracts(const DatasetSource& source, size_t min_chars,
                                         size_t max_chars);

// The chat requests for one extract.
ChatRequest instruct_request(const Extract& extract, const LlmGeneratorOptions& options);
ChatRequest preference_request(const Extract& extract, const LlmGeneratorOptions& options);

// One sample from one JSON item, or nullopt when it is not an object with
// non-empty strings "instruction" and "answer" (instruct) or "instruction",
// "rejected" and "chosen" (preference). Strings are trimmed. A preference
// sample whose chosen equals its rejected is invalid; with `verbatim_chosen`,
// one whose chosen is not in `extract_text` too.
std::optional<InstructSample> instruct_sample_from_json(const nlohmann::json& item,
                                                        int64_t document_id);
std::optional<PreferenceSample> preference_sample_from_json(const nlohmann::json& item,
                                                            const Extract& extract,
                                                            bool verbatim_chosen);

// The valid samples of one answer, and how many were dropped: each invalid or
// unparseable item, a cut-off last item, and an answer with no JSON at all
// (counted as one, since its samples cannot be counted).
template <typename Sample>
struct ParsedAnswer {
  std::vector<Sample> samples;
  int64_t malformed = 0;
  bool truncated = false;
};
ParsedAnswer<InstructSample> parse_instruct_answer(std::string_view answer, int64_t document_id);
ParsedAnswer<PreferenceSample> parse_preference_answer(std::string_view answer,
                                                       const Extract& extract,
                                                       bool verbatim_chosen);

class LlmDatasetGenerator {
 public:
  // `chat` must outlive the generator. Throws Error for impossible options.
  LlmDatasetGenerator(OpenAiChat& chat, LlmGeneratorOptions options);

  // The samples of all sources, in source then extract then answer order.
  // Adds to counts.generated (valid samples), counts.malformed and
  // counts.failed_requests. Throws only for what OpenAiChat throws for.
  std::vector<InstructSample> instruct(const std::vector<DatasetSource>& sources,
                                       DatasetCounts& counts);
  std::vector<PreferenceSample> preference(const std::vector<DatasetSource>& sources,
                                           DatasetCounts& counts);

 private:
  std::vector<Extract> extracts(const std::vector<DatasetSource>& sources) const;
  // One request per extract, all at once; each answer parsed on its own.
  template <typename Sample, typename MakeRequest, typename Parse>
  std::vector<Sample> generate(const std::vector<Extract>& extracts, DatasetCounts& counts,
                               MakeRequest make_request, Parse parse);

  OpenAiChat& chat_;
  LlmGeneratorOptions options_;
};

}  // namespace twinflow
