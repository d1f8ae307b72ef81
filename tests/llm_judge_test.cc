// Tests of LlmJudge: reading judgements directly, and judging against a stub
// OpenAI-compatible server on HttpServer whose judgements are good, fenced,
// unreadable, out of range, failed or too slow: each is counted, none is
// fatal, and the means are over the judgements that were read.
#include "tasks/llm/llm_judge.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/http_server.h"

namespace twinflow {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

TEST(ParseJudgementTest, ReadsScoresAndReasons) {
  const JudgeScore score = parse_judgement(
      R"({"accuracy": {"analysis": "Correct.", "score": 3}, "style": {"analysis": "Stiff.", "score": 1}})");
  ASSERT_TRUE(score.ok) << score.error;
  EXPECT_EQ(score.accuracy, 3);
  EXPECT_EQ(score.style, 1);
  EXPECT_EQ(score.accuracy_reason, "Correct.");
  EXPECT_EQ(score.style_reason, "Stiff.");
}

TEST(ParseJudgementTest, IsLenientWhereItIsSafe) {
  const JudgeScore fenced = parse_judgement(
      "```json\n{\"accuracy\": {\"reason\": \"ok\", \"score\": 2.0}, \"style\": {\"score\": "
      "\"3\"}}\n```");
  ASSERT_TRUE(fenced.ok) << fenced.error;
  EXPECT_EQ(fenced.accuracy, 2);
  EXPECT_EQ(fenced.accuracy_reason, "ok");
  EXPECT_EQ(fenced.style, 3);
  EXPECT_EQ(fenced.style_reason, "");
  const JudgeScore bare = parse_judgement(R"(Scores: {"accuracy": 1, "style": 2})");
  ASSERT_TRUE(bare.ok) << bare.error;
  EXPECT_EQ(bare.accuracy, 1);
  EXPECT_EQ(bare.style, 2);
}

TEST(ParseJudgementTest, SaysWhyAJudgementCannotBeRead) {
  const auto error_of = [](const char* answer) {
    const JudgeScore score = parse_judgement(answer);
    EXPECT_FALSE(score.ok) << answer;
    EXPECT_EQ(score.accuracy, 0);
    return score.error;
  };
  EXPECT_NE(error_of("Great answer!").find("no complete JSON object"), std::string::npos);
  EXPECT_NE(error_of(R"({"accuracy": {"score": 2}, "style": {"ana)").find("no complete"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"accuracy": {"score": 2}})").find("no \"style\""), std::string::npos);
  EXPECT_NE(error_of(R"({"accuracy": {"analysis": "x"}, "style": 2})").find("\"accuracy\".score"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"accuracy": 4, "style": 2})").find("from 1 to 3: 4"), std::string::npos);
  EXPECT_NE(error_of(R"({"accuracy": 2.5, "style": 2})").find("from 1 to 3"), std::string::npos);
  EXPECT_NE(error_of(R"({"accuracy": 2, "style": "good"})").find("\"style\" score"),
            std::string::npos);
}

TEST(JudgeRequestTest, AsksAboutTheItemForJson) {
  const ChatRequest request =
      judge_request({"Explain RAG.", "RAG retrieves, then generates."}, LlmJudgeOptions{});
  ASSERT_EQ(request.messages.size(), 2u);
  const std::string& prompt = request.messages[1].content;
  EXPECT_NE(prompt.find("Instruction:\nExplain RAG."), std::string::npos);
  EXPECT_NE(prompt.find("Answer:\nRAG retrieves, then generates."), std::string::npos);
  EXPECT_NE(prompt.find("\"accuracy\""), std::string::npos);
  EXPECT_TRUE(request.json_mode);
  EXPECT_DOUBLE_EQ(request.temperature, 0.0);
}

HttpResponse chat_answer(const std::string& content) {
  const Json body = {
      {"choices",
       {{{"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", "stop"}}}}};
  return HttpResponse::text(200, body.dump()).header("Content-Type", "application/json");
}

// The stub judge: the answer under judgement says what to do.
HttpResponse stub_judge(const HttpRequest& request) {
  const std::string prompt = Json::parse(request.body).at("messages").back().at("content");
  const auto has = [&](const char* word) { return prompt.find(word) != std::string::npos; };
  if (has("Answer:\ngood")) {
    return chat_answer(R"({"accuracy": {"analysis": "Right.", "score": 3},
                           "style": {"analysis": "Fine.", "score": 2}})");
  }
  if (has("Answer:\nfenced")) {
    return chat_answer(
        "```json\n{\"accuracy\": {\"analysis\": \"Half.\", \"score\": 1}, "
        "\"style\": {\"analysis\": \"Plain.\", \"score\": 3}}\n```");
  }
  if (has("Answer:\nprose")) return chat_answer("I'd give it a solid three.");
  if (has("Answer:\nrange")) return chat_answer(R"({"accuracy": 5, "style": 1})");
  if (has("Answer:\nfail")) return HttpResponse::text(400, "bad request");
  HttpResponse slow = chat_answer(R"({"accuracy": 3, "style": 3})");
  slow.delay = 3s;
  return slow;
}

class LlmJudgeTest : public testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(stub_judge);
    server_->start();
  }

  OpenAiChatOptions chat_options() const {
    OpenAiChatOptions options;
    options.base_url = server_->base_url() + "/v1";
    options.model = "stub-judge";
    options.api_key_env = "";
    options.concurrency = 3;
    options.max_retries = 0;
    options.timeout = 500ms;  // the slow judgement takes 3 s
    return options;
  }

  std::unique_ptr<HttpServer> server_;
};

TEST_F(LlmJudgeTest, ScoresEachItemAndCountsTheRest) {
  OpenAiChat chat(chat_options());
  LlmJudge judge(chat, LlmJudgeOptions{});
  const JudgeReport report = judge.judge({{"q1", "good"},
                                          {"q2", "prose"},
                                          {"q3", "fenced"},
                                          {"q4", "range"},
                                          {"q5", "fail"},
                                          {"q6", "slow"},
                                          {"q7", "good"}});
  ASSERT_EQ(report.scores.size(), 7u);
  EXPECT_EQ(report.scored, 3);
  EXPECT_EQ(report.unparseable, 2);
  EXPECT_EQ(report.failed_requests, 2);
  EXPECT_DOUBLE_EQ(report.mean_accuracy, (3 + 1 + 3) / 3.0);
  EXPECT_DOUBLE_EQ(report.mean_style, (2 + 3 + 2) / 3.0);

  EXPECT_TRUE(report.scores[0].ok);
  EXPECT_EQ(report.scores[0].accuracy_reason, "Right.");
  EXPECT_FALSE(report.scores[1].ok);
  EXPECT_NE(report.scores[1].error.find("no complete JSON object"), std::string::npos);
  EXPECT_TRUE(report.scores[2].ok);
  EXPECT_EQ(report.scores[2].style, 3);
  EXPECT_FALSE(report.scores[3].ok);
  EXPECT_NE(report.scores[4].error.find("HTTP 400"), std::string::npos) << report.scores[4].error;
  EXPECT_NE(report.scores[5].error.find("timed out"), std::string::npos) << report.scores[5].error;
  EXPECT_TRUE(report.scores[6].ok);
}

TEST_F(LlmJudgeTest, ReportsZeroMeansWhenNothingWasScored) {
  OpenAiChat chat(chat_options());
  const JudgeReport report = LlmJudge(chat, LlmJudgeOptions{}).judge({{"q", "prose"}});
  EXPECT_EQ(report.scored, 0);
  EXPECT_EQ(report.unparseable, 1);
  EXPECT_EQ(report.mean_accuracy, 0);
  EXPECT_TRUE(LlmJudge(chat, LlmJudgeOptions{}).judge({}).scores.empty());
}

}  // namespace
}  // namespace twinflow
