// The finetune step: an instruct dataset -> a model directory (output
// `model`). See training_steps.h and docs/TRAINERS.md.
//
// trainer: builtin (default) trains the built-in neural language model
// (tasks/train/) on the train split, streams loss and learning rate per step
// and test perplexity per epoch, and checkpoints every epoch under
// $TWINFLOW_HOME/checkpoints/, keyed by the dataset and the hyperparameters,
// so an attempt that crashed or was killed resumes from its last epoch.
//
// trainer: {command: [...]} runs any program instead (a Python TRL or Unsloth
// script, say) with the dataset files, the model directory to fill and the
// hyperparameters; JSON lines it prints are recorded as metrics as they come.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "store/store.h"
#include "tasks/dataset/jsonl.h"
#include "tasks/steps/training_steps.h"
#include "tasks/train/instruct_format.h"
#include "tasks/train/lm_trainer.h"
#include "util/error.h"
#include "util/sha256.h"
#include "util/strings.h"

extern char** environ;

namespace twinflow {
namespace fs = std::filesystem;

std::vector<std::string> instruct_texts(const fs::path& dataset_dir, const std::string& split) {
  std::vector<std::string> texts;
  for (const auto& sample : read_instruct_jsonl(dataset_dir / (split + ".jsonl")))
    texts.push_back(instruct_text(sample.instruction, sample.answer));
  return texts;
}

namespace {

const StepInput& dataset_input(const StepContext& context) {
  auto it = context.inputs.find("dataset");
  if (it == context.inputs.end())
    throw Error("step type " + context.step_type + ": needs an input named 'dataset'");
  return it->second;
}

// --- built-in trainer ---------------------------------------------------------

struct BuiltinSettings {
  NeuralLmConfig config;
  TrainOptions options;
};

BuiltinSettings builtin_settings(const StepParams& p) {
  BuiltinSettings s;
  s.config.context = static_cast<int>(p.integer_or("context", s.config.context, 1, 64));
  s.config.embedding_dim =
      static_cast<int>(p.integer_or("embedding_dim", s.config.embedding_dim, 2, 4096));
  s.config.hidden_dim = static_cast<int>(p.integer_or("hidden_dim", s.config.hidden_dim, 2, 8192));
  s.config.seed = static_cast<uint64_t>(p.integer_or("seed", 42, 0, INT64_MAX));
  TrainOptions& o = s.options;
  o.epochs = static_cast<int>(p.integer_or("epochs", o.epochs, 1, 10000));
  o.batch_size = static_cast<int>(p.integer_or("batch_size", o.batch_size, 1, 65536));
  o.learning_rate = p.number_or("learning_rate", o.learning_rate, 1e-7, 10);
  o.lr_decay = p.number_or("lr_decay", o.lr_decay, 0.01, 1);
  o.warmup_steps = static_cast<int>(p.integer_or("warmup_steps", o.warmup_steps, 0, 1000000));
  o.weight_decay = p.number_or("weight_decay", o.weight_decay, 0, 1);
  o.seed = s.config.seed;
  o.vocabulary.min_count = p.integer_or("min_count", o.vocabulary.min_count, 1, 1000000);
  o.vocabulary.max_size = static_cast<size_t>(p.integer_or("max_vocabulary", 5000, 3, 10000000));
  return s;
}

// Where this dataset + these hyperparameters checkpoint: the same across the
// attempts and reruns that train the same thing, different otherwise.
fs::path checkpoint_dir(const StepContext& context, const StepInput& dataset) {
  const std::string key =
      sha256_hex(dataset.path.string() + "\n" + context.params.dump()).substr(0, 16);
  return context.home / "checkpoints" / context.pipeline / context.step_id / key;
}

int train_builtin(StepEnvironment& env, const StepInput& dataset) {
  BuiltinSettings s = builtin_settings(StepParams(env.context.params, "finetune"));
  s.options.checkpoint_dir = checkpoint_dir(env.context, dataset);
  const auto train = instruct_texts(dataset.path, "train");
  const auto test = instruct_texts(dataset.path, "test");
  TrainCallbacks callbacks;
  callbacks.on_step = [&](const TrainStep& t) {
    env.report.metrics({{"loss", t.loss}, {"learning_rate", t.learning_rate}, {"epoch", t.epoch}},
                       t.step);
  };
  callbacks.on_epoch = [&](const TrainEpoch& e) {
    env.report.metrics({{"epoch_train_loss", e.train_loss}, {"test_perplexity", e.test_perplexity}},
                       e.epoch);
  };
  std::printf("finetune: %zu train / %zu test examples, checkpoints in %s\n", train.size(),
              test.size(), s.options.checkpoint_dir.c_str());
  std::fflush(stdout);
  TrainResult result = train_language_model(train, test, s.config, s.options, callbacks);
  result.model.save(env.context.output_path("model"));
  nlohmann::json figures = {{"trainer", "builtin"},
                            {"base_perplexity", result.base_test_perplexity},
                            {"unigram_perplexity", result.unigram_test_perplexity},
                            {"perplexity", result.final_test_perplexity},
                            {"train_loss", result.final_train_loss},
                            {"tokens_trained", result.tokens_trained},
                            {"tokens_per_second", result.tokens_per_second},
                            {"resumed_from_epoch", result.resumed_from_epoch},
                            {"epochs", result.epochs},
                            {"parameters", result.model.parameter_count()},
                            {"vocabulary", result.model.vocabulary().size()}};
  env.report.metrics({{"base_perplexity", result.base_test_perplexity},
                      {"unigram_perplexity", result.unigram_test_perplexity},
                      {"final_perplexity", result.final_test_perplexity},
                      {"tokens_per_second", result.tokens_per_second},
                      {"resumed_from_epoch", result.resumed_from_epoch}});
  env.report.output_metadata("model", figures);
  std::printf("finetune: test perplexity %.2f (untrained base %.2f, unigram %.2f)%s\n",
              result.final_test_perplexity, result.base_test_perplexity,
              result.unigram_test_perplexity,
              result.resumed_from_epoch ? ", resumed from a checkpoint" : "");
  return 0;
}

// --- command trainer ----------------------------------------------------------

std::vector<std::string> trainer_argv(const nlohmann::json& trainer,
                                      const std::map<std::string, std::string>& vars) {
  const auto& command = trainer.at("command");
  std::vector<std::string> argv;
  if (command.is_string()) {
    argv = {"/bin/sh", "-c", command.get<std::string>()};
  } else if (command.is_array() && !command.empty()) {
    for (const auto& a : command) {
      if (!a.is_string()) throw Error("finetune: trainer.command items must be strings");
      argv.push_back(a.get<std::string>());
    }
  } else {
    throw Error("finetune: trainer.command must be a string or a non-empty list of strings");
  }
  for (auto& arg : argv)
    for (const auto& [name, value] : vars) replace_all(arg, "{" + name + "}", value);
  return argv;
}

// A line the trainer printed: a JSON object of numbers (or {"metrics": {...},
// "step": N}) is recorded; anything else goes to the log as it is.
void relay_line(StepReport& report, const std::string& line) {
  auto doc = nlohmann::json::parse(line, nullptr, false);
  if (!doc.is_object()) {
    std::printf("%s\n", line.c_str());
    return;
  }
  const nlohmann::json& source = doc.contains("metrics") ? doc["metrics"] : doc;
  nlohmann::json values = nlohmann::json::object();
  if (source.is_object())
    for (const auto& [key, value] : source.items())
      if (value.is_number() && key != "step") values[key] = value;
  if (values.empty()) {
    std::printf("%s\n", line.c_str());
  } else if (doc.contains("step") && doc["step"].is_number_integer()) {
    report.metrics(values, doc["step"].get<int64_t>());
  } else {
    report.metrics(values);
  }
}

// Runs argv with `extra_env` added, relaying its stdout; returns its exit status.
int run_trainer(const std::vector<std::string>& argv,
                const std::map<std::string, std::string>& extra_env, StepReport& report) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  for (const auto& [k, v] : extra_env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);
  int fds[2];
  if (pipe(fds) != 0) throw SystemError("finetune: pipe", errno);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw SystemError("finetune: cannot start trainer '" + argv[0] + "'", rc);
  }
  FILE* out = fdopen(fds[0], "r");
  char* line = nullptr;
  size_t capacity = 0;
  for (ssize_t n; (n = getline(&line, &capacity, out)) >= 0;) {
    std::string text(line, static_cast<size_t>(n));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    relay_line(report, text);
    std::fflush(stdout);
  }
  free(line);
  fclose(out);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

int train_with_command(StepEnvironment& env, const StepInput& dataset,
                       const nlohmann::json& trainer) {
  const fs::path model_dir = env.context.output_path("model");
  fs::create_directories(model_dir);
  const fs::path ckpt = checkpoint_dir(env.context, dataset);
  fs::create_directories(ckpt);
  nlohmann::json hyper = env.context.params;
  hyper.erase("trainer");
  const std::map<std::string, std::string> vars = {
      {"train", (dataset.path / "train.jsonl").string()},
      {"test", (dataset.path / "test.jsonl").string()},
      {"model_dir", model_dir.string()},
      {"checkpoint_dir", ckpt.string()},
      {"hyperparameters", hyper.dump()}};
  std::map<std::string, std::string> env_vars;
  for (const auto& [name, value] : vars) {
    std::string upper = "TWINFLOW_";
    for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    env_vars[upper] = value;
  }
  const int code = run_trainer(trainer_argv(trainer, vars), env_vars, env.report);
  if (code != 0) {
    std::fprintf(stderr, "finetune: the trainer exited with status %d\n", code);
    return code;
  }
  if (fs::is_empty(model_dir))
    throw Error("finetune: the trainer succeeded but wrote nothing into " + model_dir.string());
  env.report.output_metadata("model", {{"trainer", "command"}});
  return 0;
}

}  // namespace

int run_finetune_step(StepEnvironment& env) {
  const StepInput& dataset = dataset_input(env.context);
  const auto& trainer = env.context.params.contains("trainer") ? env.context.params["trainer"]
                                                               : nlohmann::json("builtin");
  if (trainer.is_string() && trainer.get<std::string>() == "builtin")
    return train_builtin(env, dataset);
  if (trainer.is_object() && trainer.contains("command"))
    return train_with_command(env, dataset, trainer);
  throw Error("finetune: params.trainer must be 'builtin' or {command: ...}, got " +
              trainer.dump());
}

}  // namespace twinflow
