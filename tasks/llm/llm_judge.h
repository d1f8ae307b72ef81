// LlmJudge: an LLM scores (instruction, answer) pairs for accuracy and style,
// 1 to 3 each with a short reason, like the reference system's evaluation.
//
// The evaluate step generates answers on the test split with the trained
// model and asks the judge about each. Requests go out in parallel through
// OpenAiChat; each judgement is read on its own (tasks/llm/json_answer.h), so
// an unparseable one or a failed request is counted and leaves a hole, never
// an exception, and the means are over the judgements that were read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tasks/llm/openai_chat.h"

namespace twinflow {

struct LlmJudgeOptions {
  double temperature = 0.0;  // the same answer should get the same scores
  int max_tokens = 512;      // <= 0: the server's default
  bool json_mode = true;     // ask for response_format json_object
};

struct JudgeItem {
  std::string instruction;
  std::string answer;
};

struct JudgeScore {
  bool ok = false;   // scores read; else `error` says why not
  int accuracy = 0;  // 1 (poor) .. 3 (excellent)
  int style = 0;
  std::string accuracy_reason;  // the judge's analysis, may be empty
  std::string style_reason;
  std::string error;
};

struct JudgeReport {
  std::vector<JudgeScore> scores;  // one per item, in order
  int64_t scored = 0;              // judgements read
  int64_t unparseable = 0;         // answers without valid scores
  int64_t failed_requests = 0;     // requests that failed for good
  double mean_accuracy = 0;        // over the scored items; 0 when none
  double mean_style = 0;
};

// The chat request judging one item.
ChatRequest judge_request(const JudgeItem& item, const LlmJudgeOptions& options);

// Reads {"accuracy": {"analysis": "...", "score": 2}, "style": {...}}, also
// with "reason" for "analysis", or a criterion given as a bare score. A score
// must be an integer (or a string of one) from 1 to 3. Never throws: a
// judgement that cannot be read comes back !ok with the reason.
JudgeScore parse_judgement(std::string_view answer);

class LlmJudge {
 public:
  // `chat` must outlive the judge.
  LlmJudge(OpenAiChat& chat, LlmJudgeOptions options);

  // Judges every item; throws only for what OpenAiChat throws for.
  JudgeReport judge(const std::vector<JudgeItem>& items);

 private:
  OpenAiChat& chat_;
  LlmJudgeOptions options_;
};

}  // namespace twinflow
