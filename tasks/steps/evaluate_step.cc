// The evaluate step: registers the candidate model (input `model`) in the
// registry, measures it and the current production version on the same test
// split (input `dataset`), and decides the gate. See training_steps.h.
//
// Perplexity is measured for built-in models; with `judge: {base_url, model}`
// an OpenAI-compatible LLM also scores answers each model generates for the
// test instructions on accuracy and style (1-3), as the reference system does.
// When no version is in production, the candidate is compared with the
// untrained base of its own architecture, so a first model must still learn
// something to deploy. The decision and every figure go into the `evaluation`
// output, which the deploy step reads; a failed gate is not a failed step.
//
// Retrieval is measured too, so a change to search shows in the registry's
// history: for each test instruction whose source document is known, does a
// search with the instruction find a chunk of that document among the top k
// (retrieval_recall_at_k, recorded with the candidate's figures)?
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "store/model_registry.h"
#include "store/store.h"
#include "tasks/dataset/jsonl.h"
#include "tasks/llm/llm_judge.h"
#include "tasks/search/retriever.h"
#include "tasks/steps/training_steps.h"
#include "tasks/train/instruct_format.h"
#include "tasks/train/neural_lm.h"
#include "util/error.h"
#include "util/files.h"

namespace twinflow {
namespace {

namespace fs = std::filesystem;

struct Gate {
  std::string metric = "perplexity";
  std::string direction = "lower";  // lower or higher is better
  double margin = 0;                // the candidate must beat the baseline by more than this
};

struct EvaluateSettings {
  std::string model_name;
  Gate gate;
  bool judge = false;
  OpenAiChatOptions chat;
  int judge_samples = 20;
  GenerateOptions generation;
  bool retrieval = true;
  int retrieval_k = 5;
  std::string retrieval_mode = "hybrid";
  std::string embedding_model = "tfidf-svd-256";
};

EvaluateSettings read_evaluate_settings(const StepContext& context) {
  StepParams params(context.params, "evaluate");
  EvaluateSettings s;
  s.model_name = params.string_or("model_name", "llm_twin");
  if (params.raw("gate").is_object()) {
    StepParams gate(params.raw("gate"), "evaluate.gate");
    s.gate.metric =
        gate.choice_or("metric", "perplexity", {"perplexity", "judge_accuracy", "judge_style"});
    s.gate.direction = gate.choice_or(
        "direction", s.gate.metric == "perplexity" ? "lower" : "higher", {"lower", "higher"});
    s.gate.margin = gate.number_or("margin", 0, 0, 1e9);
  }
  s.generation.max_tokens = static_cast<int>(params.integer_or("max_new_tokens", 48, 1, 4096));
  s.generation.temperature = 0;  // greedy: the same model gives the same answers
  if (params.raw("retrieval").is_boolean()) {
    s.retrieval = params.raw("retrieval").get<bool>();
  } else if (params.raw("retrieval").is_object()) {
    StepParams retrieval(params.raw("retrieval"), "evaluate.retrieval");
    s.retrieval_k = static_cast<int>(retrieval.integer_or("k", 5, 1, 100));
    s.retrieval_mode = retrieval.choice_or("mode", "hybrid", {"hybrid", "text", "vector"});
    s.embedding_model = retrieval.string_or("embedding_model", "tfidf-svd-256");
  }
  if (params.raw("judge").is_object()) {
    StepParams judge(params.raw("judge"), "evaluate.judge");
    s.judge = true;
    s.chat.base_url = judge.string("base_url");
    s.chat.model = judge.string("model");
    s.chat.api_key_env = judge.string_or("api_key_env", "OPENAI_API_KEY");
    s.chat.concurrency = static_cast<int>(judge.integer_or("concurrency", 4, 1, 256));
    s.judge_samples = static_cast<int>(judge.integer_or("samples", 20, 1, 100000));
  }
  return s;
}

const StepInput& input(const StepContext& context, const std::string& name) {
  auto it = context.inputs.find(name);
  if (it == context.inputs.end()) throw Error("evaluate: needs an input named '" + name + "'");
  return it->second;
}

bool is_builtin_model(const fs::path& dir) {
  return fs::exists(dir / "config.json") && fs::exists(dir / "weights.bin");
}

// The figures of one model on the test split.
nlohmann::json measure(const NeuralLm& model, const std::vector<std::string>& test_texts,
                       const std::vector<InstructSample>& test, const EvaluateSettings& s,
                       LlmJudge* judge) {
  nlohmann::json m = {{"perplexity", model.perplexity(test_texts)}};
  if (!judge) return m;
  std::vector<JudgeItem> items;
  for (size_t i = 0; i < test.size() && static_cast<int>(i) < s.judge_samples; ++i)
    items.push_back(
        {test[i].instruction,
         response_only(model.generate(instruct_prompt(test[i].instruction), s.generation))});
  JudgeReport report = judge->judge(items);
  m["judge_accuracy"] = report.mean_accuracy;
  m["judge_style"] = report.mean_style;
  m["judge_scored"] = report.scored;
  m["judge_unparseable"] = report.unparseable + report.failed_requests;
  return m;
}

struct Decision {
  bool passed = false;
  std::string reason;
};

Decision decide(const Gate& gate, const nlohmann::json& candidate, const nlohmann::json& baseline,
                const std::string& baseline_name) {
  if (!candidate.contains(gate.metric) || !baseline.contains(gate.metric))
    return {false, "the gate's metric '" + gate.metric + "' was not measured"};
  const double c = candidate[gate.metric].get<double>();
  const double b = baseline[gate.metric].get<double>();
  const bool lower = gate.direction == "lower";
  const bool passed = std::isfinite(c) && (lower ? c < b - gate.margin : c > b + gate.margin);
  char text[256];
  std::snprintf(text, sizeof text, "%s %.4g %s %s %.4g%s", gate.metric.c_str(), c,
                passed ? (lower ? "<" : ">") : (lower ? "is not below" : "is not above"),
                baseline_name.c_str(), b,
                gate.margin > 0 ? (" by more than " + std::to_string(gate.margin)).c_str() : "");
  return {passed, text};
}

// Recall@k of each test instruction's source document, or nothing when no
// sample names its document or there is nothing to search.
std::optional<nlohmann::json> measure_retrieval(StepEnvironment& env,
                                                const std::vector<InstructSample>& test,
                                                const EvaluateSettings& s) {
  Retriever retriever(env.features, env.context.home / "artifacts");
  int64_t asked = 0, found = 0;
  try {
    for (const auto& sample : test) {
      if (sample.document_id <= 0) continue;
      SearchQuery query;
      query.text = sample.instruction;
      query.k = static_cast<size_t>(s.retrieval_k);
      query.mode = parse_search_mode(s.retrieval_mode);
      query.model_name = s.embedding_model;
      ++asked;
      for (const auto& hit : retriever.search(query)) {
        if (hit.chunk.document_id == sample.document_id) {
          ++found;
          break;
        }
      }
    }
  } catch (const Error& e) {
    std::printf("evaluate: retrieval not measured: %s\n", e.what());
    return std::nullopt;
  }
  if (asked == 0) return std::nullopt;
  return nlohmann::json{{"k", s.retrieval_k},
                        {"mode", s.retrieval_mode},
                        {"queries", asked},
                        {"found", found},
                        {"recall", static_cast<double>(found) / static_cast<double>(asked)}};
}

}  // namespace

int run_evaluate_step(StepEnvironment& env) {
  const EvaluateSettings s = read_evaluate_settings(env.context);
  const StepInput& model_input = input(env.context, "model");
  const StepInput& dataset = input(env.context, "dataset");
  const auto step_run = env.step_run_id ? std::optional<int64_t>(env.step_run_id) : std::nullopt;
  ModelVersionRecord candidate = env.models.register_model_version(
      s.model_name, model_input.artifact_version_id, step_run, nlohmann::json::object());
  const auto test = read_instruct_jsonl(dataset.path / "test.jsonl");
  const auto test_texts = instruct_texts(dataset.path, "test");
  if (test_texts.empty()) throw Error("evaluate: the dataset's test split is empty");
  if (!is_builtin_model(model_input.path) && s.gate.metric == "perplexity")
    throw Error("evaluate: " + model_input.path.string() +
                " is not a built-in model, so its perplexity cannot be measured here; gate on "
                "judge_accuracy or judge_style with a judge");

  std::unique_ptr<OpenAiChat> chat;
  std::unique_ptr<LlmJudge> judge;
  if (s.judge) {
    chat = std::make_unique<OpenAiChat>(s.chat);
    judge = std::make_unique<LlmJudge>(*chat, LlmJudgeOptions{});
  }
  const NeuralLm model = NeuralLm::load(model_input.path);
  nlohmann::json candidate_figures = measure(model, test_texts, test, s, judge.get());
  std::optional<nlohmann::json> retrieval;
  if (s.retrieval && (retrieval = measure_retrieval(env, test, s)))
    candidate_figures["retrieval_recall_at_" + std::to_string(s.retrieval_k)] =
        (*retrieval)["recall"];

  auto production = env.models.production_model(s.model_name);
  nlohmann::json evaluation = {
      {"model", s.model_name},
      {"candidate_version", candidate.version},
      {"candidate", candidate_figures},
      {"gate",
       {{"metric", s.gate.metric}, {"direction", s.gate.direction}, {"margin", s.gate.margin}}},
      {"test_samples", test_texts.size()}};
  if (retrieval) evaluation["retrieval"] = *retrieval;
  Decision decision;
  if (production && production->id == candidate.id) {
    decision = {false, "v" + std::to_string(candidate.version) + " is already in production"};
  } else {
    const NeuralLm baseline = production ? NeuralLm::load(production->uri)
                                         : NeuralLm::create(model.vocabulary(), model.config());
    const std::string baseline_name =
        production ? "production v" + std::to_string(production->version) : "the untrained base";
    if (production) evaluation["production_version"] = production->version;
    nlohmann::json baseline_figures = measure(baseline, test_texts, test, s, judge.get());
    evaluation["baseline"] = baseline_figures;
    evaluation["baseline_kind"] = production ? "production" : "untrained_base";
    decision = decide(s.gate, candidate_figures, baseline_figures, baseline_name);
  }
  evaluation["gate"]["passed"] = decision.passed;
  evaluation["gate"]["reason"] = decision.reason;
  env.models.register_model_version(s.model_name, model_input.artifact_version_id, step_run,
                                    candidate_figures);
  write_file_atomically(env.context.output_path("evaluation"), evaluation.dump(2) + "\n");
  nlohmann::json metrics = {{"gate_passed", decision.passed ? 1 : 0}};
  for (const auto& [key, value] : candidate_figures.items()) metrics["candidate_" + key] = value;
  if (evaluation.contains("baseline"))
    for (const auto& [key, value] : evaluation["baseline"].items())
      metrics["baseline_" + key] = value;
  env.report.metrics(metrics);
  env.report.output_metadata("evaluation", evaluation);
  std::printf("evaluate: %s v%d: gate %s: %s\n", s.model_name.c_str(), candidate.version,
              decision.passed ? "passed" : "failed", decision.reason.c_str());
  return 0;
}

}  // namespace twinflow
