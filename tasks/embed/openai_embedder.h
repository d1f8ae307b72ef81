// OpenAiEmbedder: embeds texts through an OpenAI-compatible /embeddings API.
//
// The embed step's `provider: openai` and the retriever's query embedding use
// it to reach OpenAI itself or a local server speaking the same protocol
// (vLLM, llama.cpp, Ollama, text-embeddings-inference). Texts go in batches of
// `batch_size`, several batches in flight at once on libcurl's multi interface
// from the calling thread (no threads of its own). Transient failures (429,
// 5xx, transport errors) are retried with exponential backoff, honouring
// Retry-After; anything else fails the whole call.
//
// Every response is checked before it is trusted: a server that returns too
// few vectors, duplicate indexes or vectors of varying size would otherwise
// silently put the wrong vector next to a chunk. Vectors come back L2
// normalised, in the order of the texts, because the feature store compares
// them by dot product and checks they are unit length.
//
// The API key is read from the environment once, at construction, and is never
// logged nor put into an error message (not even when a server echoes it).
//
// Not thread-safe: one thread uses an embedder at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace twinflow {

struct OpenAiEmbedderOptions {
  // E.g. "http://127.0.0.1:8000/v1"; requests go to base_url + "/embeddings".
  std::string base_url;
  // Sent as "model".
  std::string model;
  // Name of the environment variable holding the API key; empty: send no key
  // (local servers).
  std::string api_key_env = "OPENAI_API_KEY";
  // > 0: sent as "dimensions" (models that can shorten their vectors), and
  // every returned vector must have exactly this many numbers.
  int dimensions = 0;
  // Texts per request. At least 1.
  size_t batch_size = 64;
  // Requests in flight at once. At least 1.
  int concurrency = 4;
  // Retries after the first attempt of a batch, for 429, 5xx and transport
  // errors. Wait before retry n (1-based): retry_backoff * 2^(n-1), at most
  // max_backoff; a Retry-After header replaces it (also capped).
  int max_retries = 4;
  std::chrono::milliseconds retry_backoff{500};
  std::chrono::milliseconds max_backoff{20000};
  // Per request (per attempt), connecting included.
  std::chrono::milliseconds timeout{60000};
};

class OpenAiEmbedder {
 public:
  // Throws Error for impossible options, or when api_key_env names a variable
  // that is unset or empty.
  explicit OpenAiEmbedder(OpenAiEmbedderOptions options);
  ~OpenAiEmbedder();
  OpenAiEmbedder(OpenAiEmbedder&&) noexcept;
  OpenAiEmbedder& operator=(OpenAiEmbedder&&) noexcept;
  OpenAiEmbedder(const OpenAiEmbedder&) = delete;
  OpenAiEmbedder& operator=(const OpenAiEmbedder&) = delete;

  // Embeds all texts: texts.size() * dimension() floats, row-major, row i the
  // unit-length embedding of texts[i]. Empty input returns empty without a
  // request. Throws Error naming the batch, the URL and the problem when a
  // batch fails for good; no partial result is returned. Text that is not
  // valid UTF-8 is sent with U+FFFD in place of the bad bytes.
  std::vector<float> embed(const std::vector<std::string_view>& texts);

  // Numbers per vector: options.dimensions when set, else what the first
  // successful response had; 0 before that. Later responses must agree.
  int dimension() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace twinflow
