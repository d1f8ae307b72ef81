// TextEmbedder: the one face of every embedder an embedding model record can
// name, so the embed step and the retriever never ask which provider it is.
//
// A record in embedding_models says how its vectors were made: `builtin` (a
// TF-IDF + SVD model file in the artifact store, tfidf_svd.h) or `openai` (an
// OpenAI-compatible /embeddings server whose URL, model and key variable are
// in the record's settings, openai_embedder.h). open_embedder() turns a record
// into something that embeds texts the same way, so query vectors and chunk
// vectors always come from the same model.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "store/feature_records.h"
#include "tasks/embed/openai_embedder.h"

namespace twinflow {

class TextEmbedder {
 public:
  virtual ~TextEmbedder() = default;
  virtual int dimension() const = 0;
  // texts.size() * dimension() floats, row-major, each row unit length (or
  // zero for a text the model has nothing to say about).
  virtual std::vector<float> embed(const std::vector<std::string_view>& texts) = 0;
};

// The text a chunk is embedded by, whatever the embedder: its document's
// title, a blank line and its content (the content alone when the document
// has no title), so that every chunk of a post says what the post is about,
// not only its first one (BEIR embeds passages the same way).
std::string embedding_text(const ChunkText& chunk);

// embedder.embed() of the embedding_text of each chunk.
std::vector<float> embed_chunks(TextEmbedder& embedder, const std::vector<ChunkText>& chunks);

// Opens the embedder of a registered model. `artifacts_root` is
// $TWINFLOW_HOME/artifacts, where a builtin model's file lives. Throws Error
// when the model file is missing or the provider is unknown.
std::unique_ptr<TextEmbedder> open_embedder(const EmbeddingModelRecord& model,
                                            const std::filesystem::path& artifacts_root);

// The settings an `openai` model record keeps (never the key itself, only the
// name of the variable that holds it), and back.
nlohmann::json openai_settings(const OpenAiEmbedderOptions& options);
OpenAiEmbedderOptions openai_options_from(const nlohmann::json& settings);

}  // namespace twinflow
