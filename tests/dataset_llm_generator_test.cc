// Tests of the LLM dataset generator: the pure pieces (JSON answers read one
// item at a time, sample validation, extracts, prompts) directly, and the
// whole generator against a stub OpenAI-compatible server on HttpServer whose
// answers are good, partly malformed, not JSON, cut off or too slow. Every
// good sample must come out; every bad one must be counted.
#include "tasks/dataset/llm_generator.h"

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/http_server.h"
#include "tasks/llm/json_answer.h"
#include "util/error.h"

namespace twinflow {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

std::vector<std::string> instructions(const std::vector<InstructSample>& samples) {
  std::vector<std::string> out;
  for (const InstructSample& sample : samples) out.push_back(sample.instruction);
  return out;
}

// --- read_json_items -------------------------------------------------------

TEST(JsonAnswerTest, ReadsABareArrayAndASamplesObject) {
  const JsonItems bare = read_json_items(R"([{"a": 1}, {"a": 2}])", "samples");
  EXPECT_TRUE(bare.found);
  EXPECT_FALSE(bare.truncated);
  EXPECT_EQ(bare.unreadable, 0);
  EXPECT_EQ(Json(bare.items), Json::parse(R"([{"a": 1}, {"a": 2}])"));

  const JsonItems object =
      read_json_items(R"({"count": [9], "samples": [{"a": 1}, {"a": 2}]})", "samples");
  EXPECT_EQ(Json(object.items), Json::parse(R"([{"a": 1}, {"a": 2}])"));

  const JsonItems other_name = read_json_items(R"({"pairs": [{"a": 3}]})", "samples");
  EXPECT_EQ(Json(other_name.items), Json::parse(R"([{"a": 3}])"));
}

TEST(JsonAnswerTest, ReadsFencedJsonAndSkipsProse) {
  const JsonItems fenced =
      read_json_items("```json\n{\"samples\": [{\"a\": 1}]}\n```\nHope this helps!", "samples");
  EXPECT_EQ(Json(fenced.items), Json::parse(R"([{"a": 1}])"));
  const JsonItems prose = read_json_items("Here you go:\n[{\"a\": 1}] Enjoy.", "samples");
  EXPECT_EQ(Json(prose.items), Json::parse(R"([{"a": 1}])"));
  // Fences inside strings are text, not fences.
  const JsonItems code =
      read_json_items(R"([{"a": "use ```python\nx = [1, {2}]\n``` here"}])", "samples");
  ASSERT_EQ(code.items.size(), 1u);
  EXPECT_EQ(code.items[0]["a"], "use ```python\nx = [1, {2}]\n``` here");
}

TEST(JsonAnswerTest, KeepsTheGoodItemsAroundABrokenOne) {
  const JsonItems items =
      read_json_items(R"([{"a": 1}, {"a": 2 "b": 3}, {"a": "]},{"}, , {"a": 4},])", "samples");
  EXPECT_FALSE(items.truncated);
  EXPECT_EQ(items.unreadable, 1);
  EXPECT_EQ(Json(items.items), Json::parse(R"([{"a": 1}, {"a": "]},{"}, {"a": 4}])"));
}

TEST(JsonAnswerTest, ReadsEveryCompleteItemBeforeACut) {
  const JsonItems in_string =
      read_json_items(R"({"samples": [{"a": 1}, {"a": 2}, {"a": "cu)", "samples");
  EXPECT_TRUE(in_string.truncated);
  EXPECT_EQ(in_string.unreadable, 1);
  EXPECT_EQ(Json(in_string.items), Json::parse(R"([{"a": 1}, {"a": 2}])"));

  const JsonItems after_comma = read_json_items("[{\"a\": 1},\n  ", "samples");
  EXPECT_TRUE(after_comma.truncated);
  EXPECT_EQ(after_comma.unreadable, 0);
  EXPECT_EQ(after_comma.items.size(), 1u);

  const JsonItems before_list = read_json_items(R"({"sam)", "samples");
  EXPECT_TRUE(before_list.found);
  EXPECT_EQ(before_list.unreadable, 1);
  EXPECT_TRUE(before_list.items.empty());
}

TEST(JsonAnswerTest, TakesAnObjectWithoutAListAsOneItem) {
  const JsonItems one = read_json_items(R"({"instruction": "i", "answer": "a"})", "samples");
  ASSERT_EQ(one.items.size(), 1u);
  EXPECT_EQ(one.items[0]["answer"], "a");
}

TEST(JsonAnswerTest, FindsNothingInProse) {
  const JsonItems none = read_json_items("I cannot help with that.", "samples");
  EXPECT_FALSE(none.found);
  EXPECT_TRUE(none.items.empty());
  EXPECT_FALSE(read_json_object("no json here").has_value());
}

TEST(JsonAnswerTest, ReadsAnObject) {
  EXPECT_EQ(read_json_object("```json\n{\"x\": {\"y\": [1]}}\n```").value(),
            Json::parse(R"({"x": {"y": [1]}})"));
  EXPECT_EQ(read_json_object("Result: {\"x\": 1} (done)").value(), Json::parse(R"({"x": 1})"));
  EXPECT_FALSE(read_json_object(R"({"x": 1, "y": )").has_value());
}

// --- samples ---------------------------------------------------------------

TEST(LlmGeneratorParseTest, ValidatesEachInstructSample) {
  const auto valid = [](const char* text) {
    return instruct_sample_from_json(Json::parse(text), 7).has_value();
  };
  EXPECT_TRUE(valid(R"({"instruction": " Explain X. ", "answer": "X is...", "extra": 1})"));
  EXPECT_FALSE(valid(R"({"instruction": "Explain X."})"));
  EXPECT_FALSE(valid(R"({"instruction": 5, "answer": "a"})"));
  EXPECT_FALSE(valid(R"({"instruction": "i", "answer": null})"));
  EXPECT_FALSE(valid(R"({"instruction": "", "answer": "a"})"));
  EXPECT_FALSE(valid(R"({"instruction": "i", "answer": " \n "})"));
  EXPECT_FALSE(valid(R"(["i", "a"])"));
  const InstructSample sample =
      instruct_sample_from_json(Json::parse(R"({"instruction": " i ", "answer": "a\n"})"), 7)
          .value();
  EXPECT_EQ(sample.instruction, "i");
  EXPECT_EQ(sample.answer, "a");
  EXPECT_EQ(sample.document_id, 7);
}

TEST(LlmGeneratorParseTest, ValidatesEachPreferenceSample) {
  const Extract extract{3, "Rust is fast.\n\nIt has no   garbage collector, which helps."};
  const auto read = [&](const char* text, bool verbatim = true) {
    return preference_sample_from_json(Json::parse(text), extract, verbatim);
  };
  const std::optional<PreferenceSample> good =
      read(R"({"instruction": "Why Rust?", "rejected": "It is popular.",
               "chosen": "It has no garbage\ncollector, which helps."})");
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(good->prompt, "Why Rust?");
  EXPECT_EQ(good->chosen, "It has no garbage\ncollector, which helps.");
  EXPECT_EQ(good->rejected, "It is popular.");
  EXPECT_EQ(good->document_id, 3);
  const char* invented = R"({"instruction": "i", "rejected": "r", "chosen": "Rust is slow."})";
  EXPECT_FALSE(read(invented).has_value());
  EXPECT_TRUE(read(invented, /*verbatim=*/false).has_value());
  EXPECT_FALSE(read(R"({"instruction": "i", "rejected": "Rust is fast.",
                        "chosen": "Rust is fast."})")
                   .has_value());
  EXPECT_FALSE(read(R"({"instruction": "i", "chosen": "Rust is fast."})").has_value());
}

TEST(LlmGeneratorParseTest, KeepsTheGoodSamplesOfAnAnswer) {
  const ParsedAnswer<InstructSample> parsed = parse_instruct_answer(
      "```json\n[{\"instruction\": \"one\", \"answer\": \"1\"},\n"
      " {\"instruction\": \"two\"},\n"
      " {\"instruction\": \"three\", \"answer\": \"3\"},\n"
      " {\"instruction\": \"four\" \"answer\": \"4\"},\n"
      " {\"instruction\": \"five\", \"answer\": \"5\"}]\n```",
      1);
  EXPECT_EQ(instructions(parsed.samples), (std::vector<std::string>{"one", "three", "five"}));
  EXPECT_EQ(parsed.malformed, 2);
  EXPECT_FALSE(parsed.truncated);
}

TEST(LlmGeneratorParseTest, CountsAnAnswerWithoutJsonAsOneMalformed) {
  const ParsedAnswer<InstructSample> parsed = parse_instruct_answer("As an AI, I cannot.", 1);
  EXPECT_TRUE(parsed.samples.empty());
  EXPECT_EQ(parsed.malformed, 1);
}

TEST(LlmGeneratorParseTest, KeepsTheSamplesBeforeACut) {
  const ParsedAnswer<InstructSample> parsed = parse_instruct_answer(
      R"({"samples": [{"instruction": "one", "answer": "1"}, {"instruction": "two", "ans)", 1);
  EXPECT_EQ(instructions(parsed.samples), (std::vector<std::string>{"one"}));
  EXPECT_EQ(parsed.malformed, 1);
  EXPECT_TRUE(parsed.truncated);
}

// --- extracts and prompts --------------------------------------------------

std::string collapse(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

TEST(LlmGeneratorExtractTest, PacksParagraphsUpToTheMaximum) {
  DatasetSource source;
  source.document_id = 4;
  for (int i = 0; i < 30; ++i) {
    source.content += (i ? "\n\n" : "") + std::string("Paragraph ") + std::to_string(i) + " " +
                      std::string(90, 'a' + i % 26) + ".";
  }
  const std::vector<Extract> extracts = split_into_extracts(source, 300, 500);
  ASSERT_GT(extracts.size(), 5u);
  std::string joined;
  for (const Extract& extract : extracts) {
    EXPECT_LE(extract.text.size(), 500u);
    EXPECT_GE(extract.text.size(), 300u);
    EXPECT_EQ(extract.document_id, 4);
    EXPECT_EQ(extract.text.rfind("Paragraph ", 0), 0u) << "starts with a whole paragraph";
    joined += extract.text + "\n\n";
  }
  EXPECT_EQ(collapse(joined), collapse(source.content));
}

TEST(LlmGeneratorExtractTest, SplitsLongParagraphsAtSentencesAndLongSentencesAtSpaces) {
  DatasetSource source;
  for (int i = 0; i < 20; ++i)
    source.content += "This is sentence number " + std::to_string(i) + ". ";
  source.content += "\n\n";
  for (int i = 0; i < 80; ++i) source.content += "word ";
  const std::vector<Extract> extracts = split_into_extracts(source, 50, 120);
  std::string joined;
  for (const Extract& extract : extracts) {
    EXPECT_LE(extract.text.size(), 120u) << extract.text;
    joined += extract.text + " ";
  }
  EXPECT_EQ(collapse(joined), collapse(source.content));
  EXPECT_EQ(extracts[0].text.rfind("This is sentence number 0.", 0), 0u);
  EXPECT_EQ(extracts[0].text.back(), '.');
}

TEST(LlmGeneratorExtractTest, KeepsShortDocumentsAndJoinsAShortTail) {
  DatasetSource source;
  source.content = "Short post.";
  const std::vector<Extract> one = split_into_extracts(source, 1000, 2000);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].text, "Short post.");

  // Greedy: [a a a a] [b]; balanced: [a a a] [a b].
  const std::string a(300, 'a'), b(200, 'b');
  source.content = a + "\n\n" + a + "\n\n" + a + "\n\n" + a + "\n\n" + b;
  const std::vector<Extract> balanced = split_into_extracts(source, 400, 1300);
  ASSERT_EQ(balanced.size(), 2u);
  EXPECT_EQ(balanced[0].text, a + "\n\n" + a + "\n\n" + a);
  EXPECT_EQ(balanced[1].text, a + "\n\n" + b);

  source.content = "  \n\n \n\n";
  EXPECT_TRUE(split_into_extracts(source, 1000, 2000).empty());
}

TEST(LlmGeneratorPromptTest, AsksForTheSamplesOfTheExtractAsJson) {
  LlmGeneratorOptions options;
  options.samples_per_extract = 3;
  options.temperature = 0.2;
  const Extract extract{1, "The extract's own text."};
  const ChatRequest instruct = instruct_request(extract, options);
  ASSERT_EQ(instruct.messages.size(), 2u);
  EXPECT_EQ(instruct.messages[0].role, "system");
  EXPECT_EQ(instruct.messages[1].role, "user");
  EXPECT_NE(instruct.messages[1].content.find("write 3 instruction-answer pairs"),
            std::string::npos);
  EXPECT_NE(instruct.messages[1].content.find("Extract:\nThe extract's own text."),
            std::string::npos);
  EXPECT_TRUE(instruct.json_mode);
  EXPECT_DOUBLE_EQ(instruct.temperature, 0.2);
  const ChatRequest preference = preference_request(extract, options);
  EXPECT_NE(preference.messages[1].content.find("\"chosen\""), std::string::npos);
  EXPECT_NE(preference.messages[1].content.find("verbatim"), std::string::npos);
}

// --- the generator against a stub server ----------------------------------

HttpResponse chat_answer(const std::string& content, const std::string& finish = "stop") {
  const Json body = {
      {"choices",
       {{{"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", finish}}}}};
  return HttpResponse::text(200, body.dump()).header("Content-Type", "application/json");
}

std::string pair(const std::string& instruction, const std::string& answer) {
  return Json{{"instruction", instruction}, {"answer", answer}}.dump();
}

// The stub model: the extract names how to behave ("[good:NAME]", ...).
HttpResponse stub_model(const HttpRequest& request) {
  const Json body = Json::parse(request.body);
  const std::string prompt = body.at("messages").back().at("content");
  const std::string extract = prompt.substr(prompt.find("Extract:\n") + 9);
  const std::string name =
      extract.substr(extract.find(':') + 1, extract.find(']') - extract.find(':') - 1);
  if (extract.rfind("[good:", 0) == 0) {
    return chat_answer("{\"samples\": [" + pair(name + " 1", "a") + ", " + pair(name + " 2", "b") +
                       ", " + pair(name + " 3", "c") + "]}");
  }
  if (extract.rfind("[onebad:", 0) == 0) {
    return chat_answer("```json\n[" + pair(name + " 1", "a") +
                       R"(, {"instruction": 5, "answer": "x"}, {"instruction": "", "answer": "x"},)"
                       R"( {"answer": "only"}, {"instruction": "x" "answer": "y"}, )" +
                       pair(name + " 2", "b") + "]\n```");
  }
  if (extract.rfind("[invalid:", 0) == 0) return chat_answer("Sorry, I can't help with that.");
  if (extract.rfind("[truncated:", 0) == 0) {
    return chat_answer("{\"samples\": [" + pair(name + " 1", "a") + ", " + pair(name + " 2", "b") +
                           ", {\"instruction\": \"" + name + " 3\", \"answ",
                       "length");
  }
  if (extract.rfind("[slow:", 0) == 0) {
    HttpResponse response = chat_answer("{\"samples\": [" + pair(name + " 1", "a") + "]}");
    response.delay = 3s;
    return response;
  }
  if (extract.rfind("[preference:", 0) == 0) {
    const std::string sentence = extract.substr(extract.find(']') + 2);
    const Json samples = {
        {{"instruction", "What about " + name + "?"},
         {"rejected", "Generic."},
         {"chosen", sentence}},
        {{"instruction", "Invented?"}, {"rejected", "Generic."}, {"chosen", "Not in the text."}},
        {{"instruction", "Missing?"}, {"rejected", "Generic."}}};
    return chat_answer(Json{{"samples", samples}}.dump());
  }
  return HttpResponse::text(400, "unexpected extract: " + extract);
}

class LlmGeneratorTest : public testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>([this](const HttpRequest& request) {
      ++requests_;
      return stub_model(request);
    });
    server_->start();
  }

  OpenAiChatOptions chat_options() const {
    OpenAiChatOptions options;
    options.base_url = server_->base_url() + "/v1";
    options.model = "stub";
    options.api_key_env = "";
    options.concurrency = 3;
    options.max_retries = 0;
    options.timeout = 500ms;  // the slow answer takes 3 s
    return options;
  }

  static DatasetSource source(int64_t id, const std::string& content) {
    DatasetSource source;
    source.document_id = id;
    source.content = content;
    return source;
  }

  std::atomic<int> requests_{0};
  std::unique_ptr<HttpServer> server_;  // last: stopped before what its handler uses
};

TEST_F(LlmGeneratorTest, KeepsEveryGoodSampleAndCountsTheRest) {
  OpenAiChat chat(chat_options());
  LlmDatasetGenerator generator(chat, LlmGeneratorOptions{});
  const std::vector<DatasetSource> sources = {
      source(1, "[good:alpha] text"),    source(2, "[onebad:beta] text"),
      source(3, "[invalid:gamma] text"), source(4, "[truncated:delta] text"),
      source(5, "[slow:epsilon] text"),  source(6, "[good:zeta] text")};
  DatasetCounts counts;
  const std::vector<InstructSample> samples = generator.instruct(sources, counts);
  EXPECT_EQ(instructions(samples),
            (std::vector<std::string>{"alpha 1", "alpha 2", "alpha 3", "beta 1", "beta 2",
                                      "delta 1", "delta 2", "zeta 1", "zeta 2", "zeta 3"}));
  EXPECT_EQ(samples[3].document_id, 2);
  EXPECT_EQ(samples[5].document_id, 4);
  EXPECT_EQ(counts.generated, 10);
  // beta: 4 bad samples; gamma: an answer without JSON; delta: the cut sample.
  EXPECT_EQ(counts.malformed, 6);
  EXPECT_EQ(counts.failed_requests, 1);  // epsilon timed out
  EXPECT_EQ(requests_.load(), 6);
}

TEST_F(LlmGeneratorTest, BuildsPreferenceSamplesFromTheAuthorsText) {
  OpenAiChat chat(chat_options());
  LlmDatasetGenerator generator(chat, LlmGeneratorOptions{});
  DatasetCounts counts;
  const std::vector<PreferenceSample> samples =
      generator.preference({source(8, "[preference:tea] Tea is best brewed at 80 degrees."),
                            source(9, "[preference:coffee] Coffee wants water just off the boil.")},
                           counts);
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].prompt, "What about tea?");
  EXPECT_EQ(samples[0].chosen, "Tea is best brewed at 80 degrees.");
  EXPECT_EQ(samples[0].rejected, "Generic.");
  EXPECT_EQ(samples[0].document_id, 8);
  EXPECT_EQ(samples[1].chosen, "Coffee wants water just off the boil.");
  EXPECT_EQ(counts.generated, 2);
  EXPECT_EQ(counts.malformed,
            4);  // per answer: an invented chosen, a missing one
  EXPECT_EQ(counts.failed_requests, 0);
}

TEST_F(LlmGeneratorTest, SendsOneRequestPerExtract) {
  OpenAiChat chat(chat_options());
  LlmGeneratorOptions options;
  options.min_extract_chars = 10;
  options.max_extract_chars = 40;
  LlmDatasetGenerator generator(chat, options);
  DatasetCounts counts;
  const std::vector<InstructSample> samples =
      generator.instruct({source(1,
                                 "[good:one] first paragraph here\n\n[good:two] second "
                                 "paragraph here")},
                         counts);
  EXPECT_EQ(requests_.load(), 2);
  EXPECT_EQ(samples.size(), 6u);
  EXPECT_EQ(samples[3].instruction, "two 1");
}

TEST_F(LlmGeneratorTest, RejectsImpossibleOptions) {
  OpenAiChat chat(chat_options());
  LlmGeneratorOptions options;
  options.max_extract_chars = 10;
  EXPECT_THROW(LlmDatasetGenerator(chat, options), Error);
  options = {};
  options.samples_per_extract = 0;
  EXPECT_THROW(LlmDatasetGenerator(chat, options), Error);
}

}  // namespace
}  // namespace twinflow
