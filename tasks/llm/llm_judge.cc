// See llm_judge.h. The prompt follows the reference's judge: two criteria,
// each on a 1-3 scale with its levels spelled out, and a JSON answer.
#include "tasks/llm/llm_judge.h"

#include <cmath>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "tasks/llm/json_answer.h"

namespace twinflow {

namespace {

using Json = nlohmann::json;

constexpr const char* kSystem =
    "You are an expert judge of answers written for technical blogs and social media. You "
    "answer with JSON only.";

// An integer score from 1 to 3: 2, 2.0 or "2".
std::optional<int> read_score(const Json& value) {
  double number = 0;
  if (value.is_number()) {
    number = value.get<double>();
  } else if (value.is_string() && value.get_ref<const std::string&>().size() == 1) {
    number = value.get_ref<const std::string&>()[0] - '0';
  } else {
    return std::nullopt;
  }
  if (number != std::floor(number) || number < 1 || number > 3) return std::nullopt;
  return static_cast<int>(number);
}

// One criterion: its score and reason, or the problem with it.
bool read_criterion(const Json& judgement, const char* name, int& score, std::string& reason,
                    std::string& error) {
  const auto it = judgement.find(name);
  if (it == judgement.end()) {
    error = std::string("no \"") + name + "\"";
    return false;
  }
  const Json* value = &*it;
  if (it->is_object()) {
    const auto score_it = it->find("score");
    if (score_it == it->end()) {
      error = std::string("no \"") + name + "\".score";
      return false;
    }
    for (const char* key : {"analysis", "reason"}) {
      if (const auto text = it->find(key); text != it->end() && text->is_string()) {
        reason = text->get<std::string>();
        break;
      }
    }
    value = &*score_it;
  }
  const std::optional<int> read = read_score(*value);
  if (!read) {
    error = std::string("\"") + name + "\" score is not an integer from 1 to 3: " + value->dump();
    return false;
  }
  score = *read;
  return true;
}

}  // namespace

ChatRequest judge_request(const JudgeItem& item, const LlmJudgeOptions& options) {
  std::string prompt =
      "Evaluate the answer to the instruction below on two criteria.\n"
      "1. Accuracy: how factually correct and complete is the answer? Judge it as a technical "
      "expert in its topic.\n"
      "2. Style: does it read like a blog post or a social media post: simple but precise "
      "technical words, no formal or academic language?\n\n"
      "Accuracy scale:\n"
      "1 (poor): factual errors or misleading information\n"
      "2 (good): mostly accurate, with minor errors or omissions\n"
      "3 (excellent): accurate and comprehensive\n\n"
      "Style scale:\n"
      "1 (poor): too formal, needlessly complex words\n"
      "2 (good): technical yet accessible, with some formal words or expressions\n"
      "3 (excellent): accessible blog or social media language, precise technical terms only "
      "where needed\n\n"
      "Instruction:\n" +
      item.instruction + "\n\nAnswer:\n" + item.answer +
      "\n\nAnswer with JSON only, in exactly this structure, each analysis one or two "
      "sentences:\n"
      "{\"accuracy\": {\"analysis\": \"...\", \"score\": 1}, \"style\": {\"analysis\": \"...\", "
      "\"score\": 1}}";
  ChatRequest request;
  request.messages = {{"system", kSystem}, {"user", std::move(prompt)}};
  request.temperature = options.temperature;
  request.max_tokens = options.max_tokens;
  request.json_mode = options.json_mode;
  return request;
}

JudgeScore parse_judgement(std::string_view answer) {
  JudgeScore score;
  const std::optional<Json> judgement = read_json_object(answer);
  if (!judgement) {
    score.error = "the judgement holds no complete JSON object";
    return score;
  }
  if (!read_criterion(*judgement, "accuracy", score.accuracy, score.accuracy_reason, score.error) ||
      !read_criterion(*judgement, "style", score.style, score.style_reason, score.error)) {
    score.accuracy = score.style = 0;
    return score;
  }
  score.ok = true;
  return score;
}

LlmJudge::LlmJudge(OpenAiChat& chat, LlmJudgeOptions options)
    : chat_(chat), options_(std::move(options)) {}

JudgeReport LlmJudge::judge(const std::vector<JudgeItem>& items) {
  std::vector<ChatRequest> requests;
  for (const JudgeItem& item : items) requests.push_back(judge_request(item, options_));
  const std::vector<ChatResult> results = chat_.complete(requests);
  JudgeReport report;
  double accuracy = 0, style = 0;
  for (const ChatResult& result : results) {
    JudgeScore score;
    if (!result.ok) {
      ++report.failed_requests;
      score.error = result.error;
    } else {
      score = parse_judgement(result.content);
      if (score.ok) {
        ++report.scored;
        accuracy += score.accuracy;
        style += score.style;
      } else {
        ++report.unparseable;
      }
    }
    report.scores.push_back(std::move(score));
  }
  if (report.scored > 0) {
    report.mean_accuracy = accuracy / static_cast<double>(report.scored);
    report.mean_style = style / static_cast<double>(report.scored);
  }
  return report;
}

}  // namespace twinflow
