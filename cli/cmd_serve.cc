// `twinflow serve`: the LLM twin's REST API (serve/rag_service.h) on loopback
// until SIGINT or SIGTERM: POST /rag answers a question with retrieval and
// the production model, GET /health says which model answers. The vectors
// are loaded before it listens, so that no request waits for them.
#include <poll.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/http_options.h"
#include "cli/interrupt.h"
#include "serve/rag_service.h"
#include "store/store.h"

namespace twinflow {
namespace {

struct ServeArgs {
  std::string bind = "127.0.0.1:8080", port_file, author, model = "llm_twin";
  std::string embedding_model = "tfidf-svd-256";
  bool no_expand = false;
  bool exact = false;
  std::string llm_url, llm_model, llm_key_env = "OPENAI_API_KEY";
  std::string generator = "extractive";
  int threads = 2, max_tokens = 64;
  double temperature = 0.8, top_p = 0.9, repetition_penalty = 1.3;
  uint64_t seed = 1;
  HttpGuardArgs guards;
};

void write_port_file(const std::string& path, uint16_t port) {
  // Renamed into place, so a reader never sees a half-written port.
  const std::string temp = path + ".tmp";
  std::ofstream(temp) << port << "\n";
  std::filesystem::rename(temp, path);
}

int serve(AppContext& ctx, const ServeArgs& args) {
  InterruptPipe interrupt;
  ctx.store();  // creates the database and applies migrations before the first request
  RagOptions options;
  options.model_name = args.model;
  options.embedding_model = args.embedding_model;
  options.expand = !args.no_expand;
  options.exact = args.exact;
  options.default_author = args.author;
  options.generation.max_tokens = args.max_tokens;
  options.generation.temperature = args.temperature;
  options.generation.top_p = args.top_p;
  options.generation.repetition_penalty = args.repetition_penalty;
  options.generation.seed = args.seed;
  options.generator = parse_rag_generator(args.generator);
  if (!args.llm_url.empty()) {
    OpenAiChatOptions remote;
    remote.base_url = args.llm_url;
    remote.model = args.llm_model;
    remote.api_key_env = args.llm_key_env;
    options.remote = remote;
  }
  RagService service(ctx.database_url(), ctx.home() / "artifacts", options);
  // Before listening: a server that answers is one that answers fast.
  try {
    const auto started = std::chrono::steady_clock::now();
    if (const std::string loaded = service.warm_up(); !loaded.empty())
      std::cerr << "twinflow serve: vectors of " << loaded << " loaded in " << std::fixed
                << std::setprecision(1)
                << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
                << " s" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "twinflow serve: the vectors were not loaded (" << e.what()
              << "); the first request will load them" << std::endl;
  }
  HttpServerOptions http;
  http.bind = args.bind;
  http.threads = args.threads;
  http.max_body_bytes = 64 << 10;
  apply_http_guard_options(args.guards, http);
  HttpServer server([&service](const HttpRequest& r) { return service.handle(r); }, http);
  server.start();
  std::cout << "twinflow serve: POST " << server.base_url() << "/rag, GET " << server.base_url()
            << "/health ("
            << (!args.llm_url.empty()         ? "generator openai, model " + args.llm_model
                : args.generator == "builtin" ? "generator builtin, model " + args.model
                                              : std::string("generator extractive"))
            << ")" << std::endl;
  if (!args.port_file.empty()) write_port_file(args.port_file, server.port());
  pollfd fd{interrupt.read_fd(), POLLIN, 0};
  while (!interrupt.interrupted()) poll(&fd, 1, -1);
  server.stop();
  return kExitOk;
}

}  // namespace

void add_serve_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("serve", "Serve the LLM twin: POST /rag, GET /health");
  auto args = std::make_shared<ServeArgs>();
  cmd->add_option("--bind", args->bind, "host:port to listen on (loopback unless told otherwise)")
      ->capture_default_str();
  add_http_guard_options(cmd, args->guards);
  cmd->add_option("--port-file", args->port_file, "Write the bound port to this file");
  cmd->add_option("--model", args->model, "Registry model whose production version answers")
      ->capture_default_str();
  cmd->add_option("--embedding-model", args->embedding_model, "Embedding model for retrieval")
      ->capture_default_str();
  cmd->add_option("--author", args->author, "Retrieve only this author's chunks by default");
  cmd->add_flag("--no-expand", args->no_expand,
                "Retrieve without query expansion: faster, fewer relevant hits");
  cmd->add_flag(
      "--exact", args->exact,
      "Rank every vector exactly instead of by int8 codes with the best re-scored: slower");
  cmd->add_option("--threads", args->threads, "HTTP threads")->capture_default_str();
  cmd->add_option("--generator", args->generator,
                  "extractive (the author's own sentences from the retrieved chunks, cited) or "
                  "builtin (the registry's production model)")
      ->check(CLI::IsMember({"extractive", "builtin"}))
      ->capture_default_str();
  cmd->add_option("--max-tokens", args->max_tokens, "builtin: tokens to generate")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--temperature", args->temperature, "builtin: sampling temperature (0: greedy)")
      ->check(CLI::Range(0.0, 10.0))
      ->capture_default_str();
  cmd->add_option("--top-p", args->top_p, "builtin: nucleus sampling mass, in (0, 1]")
      ->check(CLI::Range(1e-6, 1.0))
      ->capture_default_str();
  cmd->add_option("--repetition-penalty", args->repetition_penalty,
                  "builtin: how many times less likely a token already generated is (1: off)")
      ->check(CLI::Range(1.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "builtin: sampling seed (same seed, same answer)")
      ->capture_default_str();
  cmd->add_option("--llm-url", args->llm_url,
                  "Generate with this OpenAI-compatible server instead (e.g. http://host/v1)");
  cmd->add_option("--llm-model", args->llm_model, "Model name for --llm-url");
  cmd->add_option("--llm-key-env", args->llm_key_env, "Environment variable holding its key")
      ->capture_default_str();
  cmd->callback([&ctx, exit_code, args] { *exit_code = serve(ctx, *args); });
}

}  // namespace twinflow
