// RagService: the LLM twin's REST API, what `twinflow serve` puts on an
// HttpServer.
//
//   POST /rag  {"query": "...", "k": 5, "author": "..."}  ->
//              {"answer", "model": {"name", "version"}, "sources": [...],
//               "prompt_id", "timings_ms": {...}}
//   GET /health -> {"status": "ok", "model": ...}
//
// A request retrieves the k best chunks with the hybrid search (retriever.h),
// fills the prompt template with them and the query, and answers with one of
// three generators, named in every response's "model.generator":
//   extractive  the most relevant sentences of the retrieved chunks, each cited
//               with its source number, in the author's own words
//               (extractive_answer.h); needs no model
//   builtin     the production version of the registry's model
//               (ProductionModel: a newly promoted version is picked up
//               without a restart), sampled with `generation`
//   openai      an OpenAI-compatible server, when `remote` is set (it then
//               answers whatever `generator` says) Every /rag request, good
// or refused, is logged in the prompt log (`twinflow prompts`).
//
// Bad requests get 400 with a JSON error: a body that is not a JSON object, a
// query that is empty, longer than max_query_bytes or not valid UTF-8, a k
// outside 1..max_k. The builtin generator with no production model: 503.
//
// Each HTTP I/O thread borrows a Session (a database connection and a
// Retriever with its in-memory vectors) from a small pool, because neither is
// thread-safe.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "http/http_server.h"
#include "tasks/llm/openai_chat.h"
#include "tasks/train/neural_lm.h"

namespace twinflow {

enum class RagGenerator { kExtractive, kBuiltin };

// "extractive" or "builtin"; throws Error otherwise.
RagGenerator parse_rag_generator(const std::string& name);

struct RagOptions {
  RagGenerator generator = RagGenerator::kExtractive;
  std::string model_name = "llm_twin";  // the registry model whose production version answers
  std::string embedding_model = "tfidf-svd-256";  // for retrieval
  bool expand = true;  // query expansion (tasks/search/query_expansion.h): better hits, slower
  // Rank every vector by its exact score instead of by its int8 code with the
  // best re-scored (tasks/search/vector_index.h: top_k_coded): slower.
  bool exact = false;
  std::string default_author;  // used when a request names none ("" = every author)
  size_t max_query_bytes = 2000;
  int default_k = 5;
  int max_k = 50;
  size_t max_context_chars = 4000;  // of retrieved text in the prompt
  GenerateOptions generation;       // the built-in model's sampling
  std::chrono::milliseconds model_check_interval{1000};
  // How often a session asks whether the embeddings changed (a scan of their
  // index: a tenth of a second at 100k chunks); new chunks answer after this.
  std::chrono::milliseconds vectors_check_interval{10000};
  // When set, answers come from this OpenAI-compatible server instead of the
  // registry's model.
  std::optional<OpenAiChatOptions> remote;
};

class RagService {
 public:
  // `conninfo`: the database; `artifacts_root`: $TWINFLOW_HOME/artifacts.
  RagService(std::string conninfo, std::filesystem::path artifacts_root, RagOptions options);
  ~RagService();
  RagService(const RagService&) = delete;
  RagService& operator=(const RagService&) = delete;

  HttpResponse handle(const HttpRequest& request);

  // Loads what a first request would otherwise wait for: the embedding
  // model and the vectors of `default_author`'s chunks, which every session
  // then shares (26-30 s at 1M chunks). `twinflow serve` calls it before it
  // listens. Returns the model version loaded ("tfidf-svd-256 v1"), or ""
  // when there is none yet. Throws Error when the database cannot be read.
  std::string warm_up();
  // How many times the vectors were loaded, for tests.
  size_t vector_loads() const;

  // The prompt the model sees for a query and the retrieved passages.
  static std::string build_prompt(const std::string& author, const std::string& query,
                                  const std::vector<std::string>& passages,
                                  size_t max_context_chars);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace twinflow
