// The training side of the LLM twin end to end, as the main job runs it:
// dags/llm_twin.yaml crawls the bundled sample from a real HTTP server on
// 127.0.0.1, builds the feature store and the datasets, trains the built-in
// model, evaluates it against production and deploys it, all through real
// `twinflow step` subprocesses and a real PostgreSQL. Then the registry's
// promotion rules, a failing gate, and a trainer killed mid-training.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "http/http_server.h"
#include "http/static_files.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "store/feature_store.h"
#include "store/model_registry.h"
#include "store/run_ledger.h"
#include "tasks/dataset/jsonl.h"
#include "tasks/steps/training_steps.h"
#include "tasks/train/lm_trainer.h"
#include "tests/support/twinflow_fixture.h"
#include "util/sha256.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

const fs::path kSource = TWINFLOW_SOURCE_DIR;

class TrainingPipelineTest : public TwinflowTest {
 protected:
  void SetUp() override {
    TwinflowTest::SetUp();
    server_ = std::make_unique<HttpServer>(static_files_handler(kSource / "sample" / "site"));
    server_->start();
    repo_ = home / "sample-repo";
    const std::string cmd = "bash '" + (kSource / "sample" / "make_repo.sh").string() + "' '" +
                            repo_.string() + "' >/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }

  std::map<std::string, std::string> site_params() const {
    return {{"site", server_->base_url()}, {"repo", "file://" + repo_.string()}};
  }

  Outcome run_llm_twin(std::map<std::string, std::string> params = {}) {
    for (const auto& [k, v] : site_params()) params[k] = v;
    auto outcome =
        execute(prepare_fresh_run(load((kSource / "dags" / "llm_twin.yaml").string(), params)));
    if (outcome.status != "succeeded") dump_logs(outcome.run_id);
    return outcome;
  }

  // A training DAG like dags/training.yaml, with the gate's margin given.
  Outcome run_training(int epochs, double margin, int seed = 42) {
    std::string yaml = read_file(kSource / "dags" / "training.yaml");
    const std::string gate = "gate: {metric: perplexity, direction: lower, margin: 0}";
    yaml.replace(
        yaml.find(gate), gate.size(),
        "gate: {metric: perplexity, direction: lower, margin: " + std::to_string(margin) + "}");
    auto outcome = execute(
        prepare_fresh_run(load(write_dag("training", yaml), {{"epochs", std::to_string(epochs)},
                                                             {"seed", std::to_string(seed)}})));
    if (outcome.status != "succeeded") dump_logs(outcome.run_id);
    return outcome;
  }

  void dump_logs(int64_t run_id) {
    for (const auto& entry : fs::directory_iterator(home / "logs" / std::to_string(run_id)))
      std::cerr << "--- " << entry.path().filename().string() << "\n"
                << read_file(entry.path()) << "\n";
  }

  // The last value of a metric in a run.
  int points(int64_t run_id, const std::string& key) {
    int n = 0;
    for (const auto& m : store->runs().metrics_of_run(run_id)) n += m.key == key;
    return n;
  }

  std::unique_ptr<HttpServer> server_;
  fs::path repo_;
};

TEST_F(TrainingPipelineTest, TheWholePipelineDeploysAModelThatBeatsItsUntrainedBase) {
  auto run = run_llm_twin();
  ASSERT_EQ(run.status, "succeeded");

  // Datasets: versioned directories with a non-empty split on both sides.
  auto dataset = store->runs().artifact_versions("instruct_dataset");
  ASSERT_EQ(dataset.size(), 1u);
  const auto train = read_instruct_jsonl(fs::path(dataset[0].uri) / "train.jsonl");
  const auto test = read_instruct_jsonl(fs::path(dataset[0].uri) / "test.jsonl");
  EXPECT_GT(train.size(), 40u);
  EXPECT_GT(test.size(), 2u);
  EXPECT_EQ(metric(run.run_id, "kept"), metric(run.run_id, "train") + metric(run.run_id, "test"));
  ASSERT_EQ(store->runs().artifact_versions("preference_dataset").size(), 1u);
  for (const auto& s : read_preference_jsonl(
           fs::path(store->runs().artifact_versions("preference_dataset")[0].uri) / "train.jsonl"))
    EXPECT_NE(s.chosen, s.rejected);

  // Training streamed its loss per step and beat the untrained base.
  EXPECT_GT(points(run.run_id, "loss"), 8);
  EXPECT_EQ(points(run.run_id, "test_perplexity"), 8);  // one per epoch
  const double candidate = metric(run.run_id, "candidate_perplexity");
  const double base = metric(run.run_id, "baseline_perplexity");
  EXPECT_LT(candidate, base / 3) << "the trained model must clearly beat the untrained base";
  std::cout << "test perplexity: trained " << candidate << ", untrained base " << base
            << ", unigram " << metric(run.run_id, "unigram_perplexity") << "\n";

  // The registry: v1 in production, made by this run, with its figures.
  auto production = store->models().production_model("llm_twin");
  ASSERT_TRUE(production.has_value());
  EXPECT_EQ(production->version, 1);
  EXPECT_EQ(production->run_id, run.run_id);
  EXPECT_EQ(production->artifact, "llm_twin_model");
  EXPECT_DOUBLE_EQ(production->metrics["perplexity"].get<double>(), candidate);
  auto history = store->models().stage_history("llm_twin");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].to_stage, "production");
  EXPECT_EQ(history[0].actor, "deploy step");
  EXPECT_TRUE(history[0].evaluation["gate"]["passed"].get<bool>());
}

TEST_F(TrainingPipelineTest, AFailingGateLeavesProductionUntouched) {
  ASSERT_EQ(run_llm_twin().status, "succeeded");
  // Retrained with another seed, but asked to beat production by an
  // impossible margin.
  auto run = run_training(2, 1e9, 7);
  ASSERT_EQ(run.status, "succeeded");
  EXPECT_EQ(metric(run.run_id, "gate_passed"), 0);
  EXPECT_EQ(metric(run.run_id, "deployed"), 0);
  auto versions = store->models().model_versions("llm_twin");
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].version, 2);
  EXPECT_EQ(versions[0].stage, "none");
  EXPECT_EQ(versions[1].stage, "production");
  EXPECT_EQ(store->models().production_model("llm_twin")->version, 1);
  EXPECT_EQ(store->models().stage_history("llm_twin").size(), 1u);
  auto deployment = store->runs().artifact_versions("llm_twin_deployment");
  ASSERT_FALSE(deployment.empty());
  EXPECT_NE(deployment[0].metadata["reason"].get<std::string>().find("is not below"),
            std::string::npos)
      << deployment[0].metadata.dump();
}

TEST_F(TrainingPipelineTest, ABetterModelReplacesProductionAndRollbackPutsTheOldOneBack) {
  ASSERT_EQ(run_llm_twin({{"epochs", "1"}}).status, "succeeded");
  ASSERT_EQ(store->models().production_model("llm_twin")->version, 1);
  auto better = run_training(6, 0);
  ASSERT_EQ(better.status, "succeeded");
  EXPECT_EQ(metric(better.run_id, "gate_passed"), 1);
  EXPECT_EQ(store->models().production_model("llm_twin")->version, 2);
  EXPECT_EQ(store->models().find_model_version("llm_twin", 1)->stage, "archived");

  auto shown = twinflow({"models", "show", "llm_twin", "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  auto doc = nlohmann::json::parse(shown.out);
  EXPECT_EQ(doc["versions"][0]["stage"], "production");
  EXPECT_EQ(doc["history"].size(), 3u);  // v1 -> production, v1 -> archived, v2 -> production

  auto rolled = twinflow({"models", "rollback", "llm_twin", "--reason", "v2 answers worse"});
  ASSERT_EQ(rolled.exit_code, 0) << rolled.err;
  EXPECT_EQ(store->models().production_model("llm_twin")->version, 1);
  EXPECT_EQ(store->models().find_model_version("llm_twin", 2)->stage, "archived");
  // Rolling back again puts back v2, the production version before v1 returned.
  auto again = twinflow({"models", "rollback", "llm_twin"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(store->models().production_model("llm_twin")->version, 2);

  auto promoted = twinflow({"models", "promote", "llm_twin", "1", "--stage", "staging"});
  ASSERT_EQ(promoted.exit_code, 0) << promoted.err;
  EXPECT_EQ(store->models().find_model_version("llm_twin", 1)->stage, "staging");
  EXPECT_EQ(store->models().production_model("llm_twin")->version, 2);
  auto bad = twinflow({"models", "promote", "llm_twin", "9"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("has no version 9"), std::string::npos) << bad.err;
  auto listed = twinflow({"models"});
  EXPECT_NE(listed.out.find("llm_twin"), std::string::npos);
}

TEST_F(TrainingPipelineTest, AnLlmJudgeScoresBothModelsAndCanGateTheDeploy) {
  ASSERT_EQ(run_llm_twin({{"epochs", "1"}}).status, "succeeded");
  std::atomic<int> judged{0};
  HttpServer judge([&](const HttpRequest& request) {
    if (request.path != "/v1/chat/completions") return HttpResponse::text(404, "no");
    ++judged;
    const nlohmann::json verdict = {{"accuracy", {{"analysis", "on topic"}, {"score", 3}}},
                                    {"style", {{"analysis", "stiff"}, {"score", 2}}}};
    const nlohmann::json body = {
        {"choices",
         {{{"index", 0},
           {"finish_reason", "stop"},
           {"message", {{"role", "assistant"}, {"content", verdict.dump()}}}}}}};
    return HttpResponse::text(200, body.dump()).header("Content-Type", "application/json");
  });
  judge.start();
  std::string yaml = read_file(kSource / "dags" / "training.yaml");
  const std::string gate = "gate: {metric: perplexity, direction: lower, margin: 0}";
  yaml.replace(yaml.find(gate), gate.size(),
               "gate: {metric: judge_accuracy, direction: higher, margin: 0}\n"
               "      judge: {base_url: '" +
                   judge.base_url() + "/v1', model: stub-judge, api_key_env: '', samples: 4}");
  auto run = execute(prepare_fresh_run(load(write_dag("judged", yaml), {{"epochs", "2"}})));
  ASSERT_EQ(run.status, "succeeded");
  EXPECT_EQ(judged.load(), 8);  // 4 answers of the candidate, 4 of production
  EXPECT_EQ(metric(run.run_id, "candidate_judge_accuracy"), 3);
  EXPECT_EQ(metric(run.run_id, "candidate_judge_style"), 2);
  EXPECT_EQ(metric(run.run_id, "baseline_judge_accuracy"), 3);
  // A tie is no improvement: production stays.
  EXPECT_EQ(metric(run.run_id, "gate_passed"), 0);
  EXPECT_EQ(store->models().production_model("llm_twin")->version, 1);
  const auto evaluation = store->runs().artifact_versions("llm_twin_evaluation")[0].metadata;
  EXPECT_EQ(evaluation["gate"]["reason"], "judge_accuracy 3 is not above production v1 3")
      << evaluation.dump(2);
}

TEST_F(TrainingPipelineTest, AKilledTrainerResumesFromItsLastCheckpointWithTheSameResult) {
  ASSERT_EQ(run_llm_twin({{"epochs", "1"}}).status, "succeeded");
  const int epochs = 14;
  const std::string dag = (kSource / "dags" / "training.yaml").string();
  const std::vector<std::string> args = {"run", dag, "-p", "epochs=" + std::to_string(epochs)};
  pid_t pid = spawn_twinflow(args, (home / "killed.log").string());
  // Wait for the second epoch's checkpoint, then kill the scheduler and the
  // trainer with SIGKILL: nothing gets to clean up.
  const fs::path checkpoints = home / "checkpoints" / "training" / "finetune";
  bool checkpointed = false;
  for (int i = 0; i < 6000 && !checkpointed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(checkpoints, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->path().filename() == "epoch-0002") checkpointed = true;
  }
  ASSERT_TRUE(checkpointed) << read_file(home / "killed.log");
  auto runs = store->runs().list_runs({});
  const int64_t killed_run = runs.front().id;
  auto attempt = store->runs().find_step_run(killed_run, "finetune", 1);
  ASSERT_TRUE(attempt && attempt->pid > 0);
  kill(attempt->pid, SIGKILL);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);

  auto again = twinflow(args);
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  const int64_t resumed_run = store->runs().list_runs({}).front().id;
  ASSERT_NE(resumed_run, killed_run);
  EXPECT_GE(metric(resumed_run, "resumed_from_epoch"), 2);
  EXPECT_LT(metric(resumed_run, "resumed_from_epoch"), epochs);

  // The same weights as training without interruption, in this process.
  const fs::path dataset = store->runs().artifact_versions("instruct_dataset")[0].uri;
  NeuralLmConfig config;
  TrainOptions options;
  options.epochs = epochs;
  TrainResult straight = train_language_model(instruct_texts(dataset, "train"),
                                              instruct_texts(dataset, "test"), config, options);
  straight.model.save(home / "straight");
  const auto model = store->runs().artifact_versions("llm_twin_model").front();
  EXPECT_EQ(sha256_hex(read_file(fs::path(model.uri) / "weights.bin")),
            sha256_hex(read_file(home / "straight" / "weights.bin")));
}

}  // namespace
}  // namespace twinflow

namespace twinflow {
namespace {

// The dataset step with `generator: openai` against a stub chat server that
// answers according to which document an extract comes from: well, with one
// malformed sample among good ones, cut off mid-sample, slowly, or with a
// transient 500 first. Every good sample must be kept and the rest counted.
class LlmDatasetStepTest : public TwinflowTest {
 protected:
  // A sample whose words are its own, so no two are near-duplicates.
  static std::string good(const std::string& topic, int n) {
    const std::string id = topic + std::to_string(n);
    std::string answer = "In my experience " + id + ":";
    for (int i = 0; i < 16; ++i) answer += " " + id + "w" + std::to_string(i);
    return nlohmann::json{{"instruction", "Describe the practice " + id + " in your own words."},
                          {"answer", answer}}
        .dump();
  }

  HttpResponse answer(const HttpRequest& request) {
    const std::string prompt = request.body;
    std::string content;
    HttpResponse response;
    if (prompt.find("alphamarker") != std::string::npos) {
      content = "{\"samples\": [" + good("alpha", 1) + "," + good("alpha", 2) + "]}";
    } else if (prompt.find("betamarker") != std::string::npos) {
      content = "{\"samples\": [" + good("beta", 1) + ", {\"instruction\": \"no answer here\"}]}";
    } else if (prompt.find("gammamarker") != std::string::npos) {
      content = "{\"samples\": [" + good("gamma", 1) + ", {\"instruction\": \"Describe the ga";
    } else if (prompt.find("deltamarker") != std::string::npos) {
      content = "{\"samples\": [" + good("delta", 1) + "]}";
      response.delay = std::chrono::milliseconds(300);
    } else if (prompt.find("epsilonmarker") != std::string::npos) {
      if (epsilon_calls_++ == 0) return HttpResponse::text(500, "overloaded");
      content = "{\"samples\": [" + good("epsilon", 1) + "]}";
    } else {
      return HttpResponse::text(400, "unexpected prompt");
    }
    const bool cut = prompt.find("gammamarker") != std::string::npos;
    response.body = nlohmann::json{{"choices",
                                    {{{"index", 0},
                                      {"finish_reason", cut ? "length" : "stop"},
                                      {"message", {{"role", "assistant"}, {"content", content}}}}}}}
                        .dump();
    response.header("Content-Type", "application/json");
    return response;
  }

  std::atomic<int> epsilon_calls_{0};
};

TEST_F(LlmDatasetStepTest, KeepsEveryGoodSampleAndCountsTheRest) {
  HttpServer llm([this](const HttpRequest& r) { return answer(r); });
  llm.start();
  for (const std::string topic : {"alpha", "beta", "gamma", "delta", "epsilon"}) {
    DocumentToStore doc;
    doc.author = "Test Author";
    doc.platform = "medium";
    doc.kind = "article";
    doc.url = "http://127.0.0.1/" + topic;
    doc.title = "On " + topic;
    doc.content = "An article about " + topic +
                  "marker practices.\n\nIt has two paragraphs, "
                  "long enough to be an extract of its own for the generator.";
    auto stored = store->features().upsert_document(doc);
    store->features().insert_cleaned_document(stored.id, "test", doc.content, 0);
  }
  const std::string dag =
      "name: llm_dataset\nsteps:\n  - id: instruct\n    type: dataset\n    params:\n"
      "      author: Test Author\n      generator: openai\n      test_fraction: 0.2\n"
      "      openai: {base_url: '" +
      llm.base_url() + "/v1', model: stub, api_key_env: '', retry_backoff: 10ms}\n" +
      "    outputs: [{name: dataset, artifact: llm_instruct}]\n";
  auto run = execute(prepare_fresh_run(load(write_dag("llm_dataset", dag))));
  ASSERT_EQ(run.status, "succeeded")
      << read_file(home / "logs" / std::to_string(run.run_id) / "instruct.1.log");
  auto value = [&](const std::string& key) {
    for (const auto& m : store->runs().metrics_of_run(run.run_id))
      if (m.key == key) return m.value;
    return -1.0;
  };
  EXPECT_EQ(value("generated"), 6);  // alpha 2, beta 1, gamma 1, delta 1, epsilon 1
  EXPECT_EQ(value("malformed"), 2);  // beta's answerless sample, gamma's cut-off one
  EXPECT_EQ(value("failed_requests"), 0);
  EXPECT_EQ(value("kept"), 6);
  EXPECT_EQ(epsilon_calls_.load(), 2);  // the 500 was retried
  const fs::path dir = store->runs().artifact_versions("llm_instruct")[0].uri;
  auto samples = read_instruct_jsonl(dir / "train.jsonl");
  auto test = read_instruct_jsonl(dir / "test.jsonl");
  samples.insert(samples.end(), test.begin(), test.end());
  EXPECT_EQ(samples.size(), 6u);
  EXPECT_FALSE(test.empty());
  for (const auto& s : samples) EXPECT_GT(s.document_id, 0);
}

}  // namespace
}  // namespace twinflow

namespace twinflow {
namespace {

// `trainer: {command}`: any program trains, gets the dataset and a model
// directory, and its JSON lines become metrics as they come.
class CommandTrainerTest : public TwinflowTest {
 protected:
  Outcome run_with_trainer(const std::string& command) {
    const std::string dag =
        "name: byo\nsteps:\n"
        "  - id: data\n"
        "    outputs: [dataset]\n"
        "    command: |\n"
        "      mkdir -p \"$TWINFLOW_OUTPUT_DIR/dataset\"\n"
        "      printf '{\"instruction\": \"Say hi\", \"answer\": \"Hi there\"}\\n' > "
        "\"$TWINFLOW_OUTPUT_DIR/dataset/train.jsonl\"\n"
        "      cp \"$TWINFLOW_OUTPUT_DIR/dataset/train.jsonl\" "
        "\"$TWINFLOW_OUTPUT_DIR/dataset/test.jsonl\"\n"
        "  - id: finetune\n"
        "    type: finetune\n"
        "    inputs: {dataset: data.dataset}\n"
        "    params:\n"
        "      epochs: 3\n"
        "      trainer: {command: '" +
        command +
        "'}\n"
        "    outputs: [model]\n";
    return execute(prepare_fresh_run(load(write_dag("byo", dag))));
  }
};

TEST_F(CommandTrainerTest, ItsMetricsAreRecordedAndItsModelBecomesTheOutput) {
  auto run = run_with_trainer(
      "echo \"{\\\"loss\\\": 2.5, \\\"learning_rate\\\": 0.1, \\\"step\\\": 1}\"; "
      "echo \"{\\\"metrics\\\": {\\\"loss\\\": 1.5}, \\\"step\\\": 2}\"; echo just a log line; "
      "echo \"$TWINFLOW_HYPERPARAMETERS\" > \"$TWINFLOW_MODEL_DIR/hyper.json\"; "
      "cp \"$TWINFLOW_TRAIN\" \"$TWINFLOW_MODEL_DIR/weights\"");
  ASSERT_EQ(run.status, "succeeded")
      << read_file(home / "logs" / std::to_string(run.run_id) / "finetune.1.log");
  std::vector<std::pair<int64_t, double>> losses;
  for (const auto& m : store->runs().metrics_of_run(run.run_id))
    if (m.key == "loss") losses.emplace_back(m.step.value_or(-1), m.value);
  EXPECT_EQ(losses, (std::vector<std::pair<int64_t, double>>{{1, 2.5}, {2, 1.5}}));
  const fs::path model = store->runs().artifact_versions("byo.finetune.model")[0].uri;
  EXPECT_EQ(read_file(model / "weights"),
            "{\"instruction\": \"Say hi\", \"answer\": \"Hi there\"}\n");
  EXPECT_EQ(nlohmann::json::parse(read_file(model / "hyper.json"))["epochs"], 3);
  EXPECT_NE(read_file(home / "logs" / std::to_string(run.run_id) / "finetune.1.log")
                .find("just a log line"),
            std::string::npos);
}

TEST_F(CommandTrainerTest, AFailingTrainerFailsTheStepWithItsStatus) {
  auto run = run_with_trainer("echo giving up >&2; exit 3");
  EXPECT_EQ(run.status, "failed");
  auto attempt = store->runs().find_step_run(run.run_id, "finetune", 1);
  ASSERT_TRUE(attempt.has_value());
  EXPECT_EQ(attempt->exit_code, 3);
  EXPECT_NE(read_file(attempt->log_path).find("giving up"), std::string::npos);
  EXPECT_TRUE(store->runs().artifact_versions("byo.finetune.model").empty());
}

}  // namespace
}  // namespace twinflow
