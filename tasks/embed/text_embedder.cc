// The providers behind TextEmbedder. See text_embedder.h.
#include "tasks/embed/text_embedder.h"

#include <nlohmann/json.hpp>

#include "store/blob_store.h"
#include "tasks/embed/tfidf_svd.h"
#include "util/error.h"

namespace twinflow {
namespace fs = std::filesystem;
namespace {

class BuiltinEmbedder : public TextEmbedder {
 public:
  explicit BuiltinEmbedder(TfidfSvdModel model) : model_(std::move(model)) {}
  int dimension() const override { return model_.dimension(); }
  std::vector<float> embed(const std::vector<std::string_view>& texts) override {
    std::vector<float> out(texts.size() * static_cast<size_t>(model_.dimension()));
    model_.embed_batch(texts, out.data());
    return out;
  }

 private:
  TfidfSvdModel model_;
};

class RemoteEmbedder : public TextEmbedder {
 public:
  RemoteEmbedder(OpenAiEmbedderOptions options, int dimension)
      : embedder_(std::move(options)), dimension_(dimension) {}
  int dimension() const override { return dimension_; }
  std::vector<float> embed(const std::vector<std::string_view>& texts) override {
    std::vector<float> out = embedder_.embed(texts);
    // A server that changed its model behind the same name would otherwise
    // mix vectors of two spaces under one model version.
    if (!texts.empty() && embedder_.dimension() != dimension_)
      throw Error("the embeddings server now returns " + std::to_string(embedder_.dimension()) +
                  "-dimensional vectors; the registered model has " + std::to_string(dimension_) +
                  " (register a new model version)");
    return out;
  }

 private:
  OpenAiEmbedder embedder_;
  int dimension_;
};

}  // namespace

nlohmann::json openai_settings(const OpenAiEmbedderOptions& o) {
  return {{"base_url", o.base_url},       {"model", o.model},
          {"api_key_env", o.api_key_env}, {"dimensions", o.dimensions},
          {"batch_size", o.batch_size},   {"concurrency", o.concurrency}};
}

OpenAiEmbedderOptions openai_options_from(const nlohmann::json& settings) {
  OpenAiEmbedderOptions o;
  o.base_url = settings.value("base_url", "");
  o.model = settings.value("model", "");
  o.api_key_env = settings.value("api_key_env", o.api_key_env);
  o.dimensions = settings.value("dimensions", 0);
  o.batch_size = settings.value("batch_size", o.batch_size);
  o.concurrency = settings.value("concurrency", o.concurrency);
  return o;
}

std::string embedding_text(const ChunkText& chunk) {
  if (chunk.title.empty()) return chunk.content;
  std::string text;
  text.reserve(chunk.title.size() + 2 + chunk.content.size());
  text.append(chunk.title).append("\n\n").append(chunk.content);
  return text;
}

std::vector<float> embed_chunks(TextEmbedder& embedder, const std::vector<ChunkText>& chunks) {
  std::vector<std::string> texts;
  texts.reserve(chunks.size());
  for (const ChunkText& chunk : chunks) texts.push_back(embedding_text(chunk));
  return embedder.embed(std::vector<std::string_view>(texts.begin(), texts.end()));
}

std::unique_ptr<TextEmbedder> open_embedder(const EmbeddingModelRecord& model,
                                            const fs::path& artifacts_root) {
  if (model.provider == "openai")
    return std::make_unique<RemoteEmbedder>(openai_options_from(model.settings), model.dimension);
  if (model.provider != "builtin")
    throw Error("embedding model " + model.name + " has unknown provider '" + model.provider + "'");
  const fs::path file = BlobStore(artifacts_root).final_path(model.model_sha256);
  if (!fs::exists(file))
    throw Error("the file of embedding model " + model.name + " v" + std::to_string(model.version) +
                " is missing from the artifact store (" + file.string() +
                "); run the embed step with refit: true");
  return std::make_unique<BuiltinEmbedder>(
      TfidfSvdModel::open_content_addressed(file, model.model_sha256));
}

}  // namespace twinflow
