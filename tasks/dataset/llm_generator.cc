// See llm_generator.h. Three parts: cutting sources into extracts, the
// prompts, and reading answers one sample at a time.
#include "tasks/dataset/llm_generator.h"

#include <utility>

#include "tasks/llm/json_answer.h"
#include "tasks/text/utf8.h"
#include "util/error.h"
#include "util/strings.h"

namespace twinflow {

namespace {

using Json = nlohmann::json;

// The list member the prompts ask for.
constexpr std::string_view kListKey = "samples";

// Runs of whitespace as one space, none at the ends.
std::string collapse_space(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : trim(text)) {
    if (is_ascii_space(c)) {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Where to cut `text` to keep at most `max` bytes: after the last space that
// fits, else at `max`, moved back to the start of a UTF-8 sequence.
size_t hard_cut(std::string_view text, size_t max) {
  const size_t space = text.substr(0, max + 1).find_last_of(" \t\n");
  if (space != std::string_view::npos && space > 0) return space;
  const size_t end = utf8_floor(text, max);
  return end > 0 ? end : max;
}

// A paragraph longer than `max`, as pieces of whole sentences of at most
// `max` bytes (a sentence longer than that is cut at spaces).
std::vector<std::string> split_paragraph(std::string_view paragraph, size_t max) {
  std::vector<std::string_view> sentences;
  size_t begin = 0;
  for (size_t i = 0; i < paragraph.size(); ++i) {
    const char c = paragraph[i];
    if ((c == '.' || c == '!' || c == '?') &&
        (i + 1 == paragraph.size() || is_ascii_space(paragraph[i + 1]))) {
      sentences.push_back(trim(paragraph.substr(begin, i + 1 - begin)));
      begin = i + 1;
    }
  }
  if (begin < paragraph.size()) sentences.push_back(trim(paragraph.substr(begin)));

  std::vector<std::string> pieces;
  std::string current;
  const auto add = [&](std::string_view sentence) {
    if (sentence.empty()) return;
    if (!current.empty() && current.size() + 1 + sentence.size() > max) {
      pieces.push_back(std::move(current));
      current.clear();
    }
    if (!current.empty()) current += ' ';
    current.append(sentence);
  };
  for (std::string_view sentence : sentences) {
    while (sentence.size() > max) {
      const size_t cut = hard_cut(sentence, max);
      add(trim(sentence.substr(0, cut)));
      sentence = trim(sentence.substr(cut));
    }
    add(sentence);
  }
  if (!current.empty()) pieces.push_back(std::move(current));
  return pieces;
}

// The answer's samples, each read by `read` (nullopt: malformed).
template <typename Sample, typename Read>
ParsedAnswer<Sample> parse_answer(std::string_view answer, Read read) {
  ParsedAnswer<Sample> out;
  const JsonItems items = read_json_items(answer, kListKey);
  out.truncated = items.truncated;
  out.malformed = items.found ? items.unreadable : 1;
  for (const Json& item : items.items) {
    if (std::optional<Sample> sample = read(item)) {
      out.samples.push_back(std::move(*sample));
    } else {
      ++out.malformed;
    }
  }
  return out;
}

// The trimmed, non-empty string member `key` of `item`, or nullopt.
std::optional<std::string> text_field(const Json& item, const char* key) {
  const auto it = item.find(key);
  if (it == item.end() || !it->is_string()) return std::nullopt;
  const std::string_view text = trim(it->get_ref<const std::string&>());
  if (text.empty()) return std::nullopt;
  return std::string(text);
}

constexpr const char* kInstructSystem =
    "You are a helpful assistant who writes instruction-answer pairs based on "
    "a given extract "
    "of an author's writing. You answer with JSON only.";

constexpr const char* kPreferenceSystem =
    "You are a helpful assistant who writes instruction-answer triples based "
    "on a given extract "
    "of an author's writing. You answer with JSON only.";

ChatRequest make_request(const char* system, std::string prompt,
                         const LlmGeneratorOptions& options) {
  ChatRequest request;
  request.messages = {{"system", system}, {"user", std::move(prompt)}};
  request.temperature = options.temperature;
  request.max_tokens = options.max_tokens;
  request.json_mode = options.json_mode;
  return request;
}

void check_options(const LlmGeneratorOptions& options) {
  const auto fail = [](const std::string& what) { throw Error("LlmDatasetGenerator: " + what); };
  if (options.min_extract_chars < 1) fail("min_extract_chars must be at least 1");
  if (options.max_extract_chars < options.min_extract_chars) {
    fail("max_extract_chars must be at least min_extract_chars");
  }
  if (options.samples_per_extract < 1) fail("samples_per_extract must be at least 1");
}

}  // namespace

std::vector<Extract> split_into_extracts(const DatasetSource& source, size_t min_chars,
                                         size_t max_chars) {
  // Paragraphs, the long ones split into sentence pieces.
  std::vector<std::string> units;
  std::string_view content = source.content;
  while (!content.empty()) {
    const size_t end = content.find("\n\n");
    const std::string_view paragraph = trim(content.substr(0, end));
    content = end == std::string_view::npos ? std::string_view() : content.substr(end + 2);
    if (paragraph.empty()) continue;
    if (paragraph.size() <= max_chars) {
      units.emplace_back(paragraph);
    } else {
      for (std::string& piece : split_paragraph(paragraph, max_chars)) {
        units.push_back(std::move(piece));
      }
    }
  }
  // Packed greedily into groups of whole units.
  std::vector<std::vector<std::string>> groups;
  std::vector<size_t> sizes;  // of each group joined
  for (std::string& unit : units) {
    if (groups.empty() || sizes.back() + 2 + unit.size() > max_chars) {
      groups.emplace_back();
      sizes.push_back(unit.size());
    } else {
      sizes.back() += 2 + unit.size();
    }
    groups.back().push_back(std::move(unit));
  }
  // A short last group takes units from the end of the one before while that
  // one stays the longer of the two.
  if (groups.size() >= 2 && sizes.back() < min_chars) {
    std::vector<std::string>& before = groups[groups.size() - 2];
    std::vector<std::string>& last = groups.back();
    size_t& before_size = sizes[sizes.size() - 2];
    size_t& last_size = sizes.back();
    while (before.size() > 1 && last_size < min_chars) {
      const size_t moved = before.back().size() + 2;
      if (last_size + moved > max_chars || before_size - moved < last_size + moved) break;
      last.insert(last.begin(), std::move(before.back()));
      before.pop_back();
      before_size -= moved;
      last_size += moved;
    }
  }
  std::vector<Extract> extracts;
  for (const std::vector<std::string>& group : groups) {
    std::string text;
    for (const std::string& unit : group) text += (text.empty() ? "" : "\n\n") + unit;
    extracts.push_back({source.document_id, std::move(text)});
  }
  return extracts;
}

ChatRequest instruct_request(const Extract& extract, const LlmGeneratorOptions& options) {
  const std::string count = std::to_string(options.samples_per_extract);
  std::string prompt = "Based on the extract below, write " + count +
                       " instruction-answer pairs. Each instruction asks to write about a "
                       "specific topic of the "
                       "extract. Each answer is a relevant paragraph built only on what the "
                       "extract says, written "
                       "in the style of the extract's author. Use only concepts from the "
                       "extract. Instructions "
                       "must be self-contained and general: never mention an extract, a "
                       "context, an author, a "
                       "course or a system.\n\n"
                       "Example instruction: Explain the concept of an LLM twin.\n"
                       "Example answer: An LLM twin is an AI character that writes like you: it "
                       "takes on your "
                       "style, your personality and your voice, so that what it writes reads as "
                       "if you had "
                       "written it.\n\n"
                       "Answer with JSON only, in exactly this structure:\n"
                       "{\"samples\": [{\"instruction\": \"...\", \"answer\": \"...\"}, "
                       "...]}\n\n"
                       "Extract:\n" +
                       extract.text;
  return make_request(kInstructSystem, std::move(prompt), options);
}

ChatRequest preference_request(const Extract& extract, const LlmGeneratorOptions& options) {
  const std::string count = std::to_string(options.samples_per_extract);
  std::string prompt = "Based on the extract below, write " + count +
                       " instruction-answer triples. Each triple holds:\n"
                       "1. \"instruction\": an instruction asking about a "
                       "specific topic of the extract;\n"
                       "2. \"rejected\": a generic answer to the instruction, "
                       "as an assistant would write it;\n"
                       "3. \"chosen\": a relevant passage copied from the "
                       "extract that answers the instruction.\n"
                       "Instructions must be self-contained and general: never "
                       "mention an extract, a context, an "
                       "author, a course or a system.\n"
                       "Important: \"chosen\" is a verbatim copy of the "
                       "extract, punctuation and apostrophes "
                       "included. Never shorten it with an ellipsis or [...]; "
                       "if the relevant text is not "
                       "continuous, use one continuous passage instead.\n\n"
                       "Answer with JSON only, in exactly this structure:\n"
                       "{\"samples\": [{\"instruction\": \"...\", "
                       "\"rejected\": \"...\", \"chosen\": \"...\"}, "
                       "...]}\n\n"
                       "Extract:\n" +
                       extract.text;
  return make_request(kPreferenceSystem, std::move(prompt), options);
}

std::optional<InstructSample> instruct_sample_from_json(const Json& item, int64_t document_id) {
  if (!item.is_object()) return std::nullopt;
  std::optional<std::string> instruction = text_field(item, "instruction");
  std::optional<std::string> answer = text_field(item, "answer");
  if (!instruction || !answer) return std::nullopt;
  return InstructSample{std::move(*instruction), std::move(*answer), document_id};
}

std::optional<PreferenceSample> preference_sample_from_json(const Json& item,
                                                            const Extract& extract,
                                                            bool verbatim_chosen) {
  if (!item.is_object()) return std::nullopt;
  std::optional<std::string> instruction = text_field(item, "instruction");
  std::optional<std::string> rejected = text_field(item, "rejected");
  std::optional<std::string> chosen = text_field(item, "chosen");
  if (!instruction || !rejected || !chosen || *rejected == *chosen) return std::nullopt;
  if (verbatim_chosen &&
      collapse_space(extract.text).find(collapse_space(*chosen)) == std::string::npos) {
    return std::nullopt;
  }
  return PreferenceSample{std::move(*instruction), std::move(*chosen), std::move(*rejected),
                          extract.document_id};
}

ParsedAnswer<InstructSample> parse_instruct_answer(std::string_view answer, int64_t document_id) {
  return parse_answer<InstructSample>(
      answer, [&](const Json& item) { return instruct_sample_from_json(item, document_id); });
}

ParsedAnswer<PreferenceSample> parse_preference_answer(std::string_view answer,
                                                       const Extract& extract,
                                                       bool verbatim_chosen) {
  return parse_answer<PreferenceSample>(answer, [&](const Json& item) {
    return preference_sample_from_json(item, extract, verbatim_chosen);
  });
}

LlmDatasetGenerator::LlmDatasetGenerator(OpenAiChat& chat, LlmGeneratorOptions options)
    : chat_(chat), options_(std::move(options)) {
  check_options(options_);
}

std::vector<Extract> LlmDatasetGenerator::extracts(
    const std::vector<DatasetSource>& sources) const {
  std::vector<Extract> all;
  for (const DatasetSource& source : sources) {
    for (Extract& extract :
         split_into_extracts(source, options_.min_extract_chars, options_.max_extract_chars)) {
      all.push_back(std::move(extract));
    }
  }
  return all;
}

std::vector<InstructSample> LlmDatasetGenerator::instruct(const std::vector<DatasetSource>& sources,
                                                          DatasetCounts& counts) {
  return generate<InstructSample>(
      extracts(sources), counts,
      [this](const Extract& extract) { return instruct_request(extract, options_); },
      [](std::string_view answer, const Extract& extract) {
        return parse_instruct_answer(answer, extract.document_id);
      });
}

std::vector<PreferenceSample> LlmDatasetGenerator::preference(
    const std::vector<DatasetSource>& sources, DatasetCounts& counts) {
  return generate<PreferenceSample>(
      extracts(sources), counts,
      [this](const Extract& extract) { return preference_request(extract, options_); },
      [this](std::string_view answer, const Extract& extract) {
        return parse_preference_answer(answer, extract, options_.verbatim_chosen);
      });
}

template <typename Sample, typename MakeRequest, typename Parse>
std::vector<Sample> LlmDatasetGenerator::generate(const std::vector<Extract>& extracts,
                                                  DatasetCounts& counts, MakeRequest make_request,
                                                  Parse parse) {
  std::vector<ChatRequest> requests;
  for (const Extract& extract : extracts) requests.push_back(make_request(extract));
  const std::vector<ChatResult> results = chat_.complete(requests);
  std::vector<Sample> samples;
  for (size_t i = 0; i < extracts.size(); ++i) {
    if (!results[i].ok) {
      ++counts.failed_requests;
      continue;
    }
    ParsedAnswer<Sample> parsed = parse(results[i].content, extracts[i]);
    counts.malformed += parsed.malformed;
    counts.generated += static_cast<int64_t>(parsed.samples.size());
    for (Sample& sample : parsed.samples) samples.push_back(std::move(sample));
  }
  return samples;
}

}  // namespace twinflow
