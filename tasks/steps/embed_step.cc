// The embed step: embeds every current chunk that has no vector for the
// current version of the embedding model. With the built-in provider the model
// (TF-IDF reduced by truncated SVD, tasks/embed/tfidf_svd.h) is fitted on the
// current chunks when there is none yet or when `refit: true`, stored in the
// artifact store and registered as the model name's next version; every later
// run reuses it, so a second run over an unchanged corpus embeds nothing. The
// chunks to embed are those waiting in the model's queue (migration 0026), not
// found by looking at every chunk.
// With `provider: openai` the vectors come from an OpenAI-compatible
// /embeddings server; its settings (URL, model, dimensions, the name of the
// key's variable) are registered as a model version the first time, and a new
// version whenever they change. See data_steps.h and docs/STEPS.md.
#include <chrono>

#include "store/blob_store.h"
#include "store/feature_store.h"
#include "store/store.h"
#include "tasks/embed/text_embedder.h"
#include "tasks/embed/tfidf_svd.h"
#include "tasks/steps/batch_pipeline.h"
#include "tasks/steps/data_steps.h"
#include "util/error.h"
#include "util/files.h"

namespace twinflow {
namespace fs = std::filesystem;
namespace {

struct EmbedSettings {
  std::string provider;
  std::string model_name;
  OpenAiEmbedderOptions remote;  // provider openai
  int dimension = 256;
  uint64_t seed = 42;
  bool refit = false;
  int batch_chunks = 2000;         // chunks per page and per COPY: bounded memory, few round trips
  int64_t fit_max_chunks = 50000;  // a fit reads at most this many chunks, evenly spread
  ChunkFilter filter;
};

EmbedSettings read_embed_settings(const StepParams& params) {
  EmbedSettings s;
  s.provider = params.choice_or("provider", "builtin", {"builtin", "openai"});
  s.seed = static_cast<uint64_t>(params.integer_or("seed", 42, 0, INT64_MAX));
  s.refit = params.boolean_or("refit", false);
  s.filter.author = params.string_or("author", "");
  s.batch_chunks = static_cast<int>(params.integer_or("batch_chunks", 2000, 1, 100000));
  s.fit_max_chunks = params.integer_or("fit_max_chunks", 50000, 10, 10000000);
  if (s.provider == "builtin") {
    s.dimension = static_cast<int>(params.integer_or("dimension", 256, 2, 4096));
    s.model_name = params.string_or("model", "tfidf-svd-" + std::to_string(s.dimension));
    return s;
  }
  s.remote.base_url = params.string("url");
  s.remote.model = params.string("model");
  s.remote.api_key_env = params.string_or("api_key_env", "OPENAI_API_KEY");
  s.remote.dimensions = static_cast<int>(params.integer_or("dimension", 0, 0, 16000));
  s.remote.batch_size = static_cast<size_t>(params.integer_or("batch_size", 64, 1, 4096));
  s.remote.concurrency = static_cast<int>(params.integer_or("concurrency", 4, 1, 64));
  s.model_name = params.string_or("model_name", s.remote.model);
  return s;
}

// Fits a new model on the current chunks, stores it in the artifact store and
// registers it. The model file is also left at `output` for the step's output.
EmbeddingModelRecord fit_and_register(StepEnvironment& env, const EmbedSettings& s,
                                      const fs::path& output) {
  std::vector<std::string> corpus;
  for (ChunkText& chunk : env.features.current_chunks_sample(s.filter, s.fit_max_chunks))
    corpus.push_back(embedding_text(chunk));
  if (corpus.empty())
    throw Error("embed step: there are no chunks to fit a model on (run chunk first)");
  TfidfSvdOptions options;
  options.dimension = s.dimension;
  options.seed = s.seed;
  const auto started = std::chrono::steady_clock::now();
  TfidfSvdModel model = TfidfSvdModel::fit(corpus, options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  model.save(output);
  // The artifact store is content-addressed: storing a copy now makes the
  // model findable by search even before the executor records the output.
  BlobStore blobs(env.context.home / "artifacts");
  fs::path copy = output;
  copy += ".store";
  fs::copy_file(output, copy, fs::copy_options::overwrite_existing);
  const std::string sha = blobs.put(copy).content_hash;
  env.report.metrics({{"fit_chunks", corpus.size()},
                      {"fit_seconds", seconds},
                      {"vocabulary_size", model.vocabulary_size()}});
  nlohmann::json settings = {{"seed", s.seed},
                             {"fitted_on_chunks", corpus.size()},
                             {"vocabulary_size", model.vocabulary_size()}};
  return env.features.register_embedding_model(s.model_name, "builtin", s.dimension, sha, settings,
                                               env.step_run_id);
}

// The registered version of a remote model with these settings: the current
// one when its settings match, else a new version. The server is asked for one
// vector first, because only its answer tells the dimension to register.
EmbeddingModelRecord remote_model(StepEnvironment& env, const EmbedSettings& s) {
  const nlohmann::json settings = openai_settings(s.remote);
  std::optional<EmbeddingModelRecord> current = env.features.current_embedding_model(s.model_name);
  if (current && current->provider == "openai" && current->settings == settings && !s.refit)
    return *current;
  OpenAiEmbedder probe(s.remote);
  probe.embed({"dimension probe"});
  return env.features.register_embedding_model(s.model_name, "openai", probe.dimension(), "",
                                               settings, env.step_run_id);
}

// The model the step embeds with: reused, fitted or registered. Leaves the
// model's description (builtin: the model file itself) at `model_path`.
EmbeddingModelRecord model_for(StepEnvironment& env, const EmbedSettings& s,
                               const fs::path& model_path, bool& registered) {
  std::optional<EmbeddingModelRecord> record = env.features.current_embedding_model(s.model_name);
  if (s.provider == "openai") {
    EmbeddingModelRecord remote = remote_model(env, s);
    registered = !record || record->id != remote.id;
    nlohmann::json description = remote.settings;
    description["provider"] = "openai";
    description["dimension"] = remote.dimension;
    write_file_atomically(model_path, description.dump(2));
    return remote;
  }
  registered =
      !record || s.refit || record->dimension != s.dimension || record->provider != "builtin";
  if (registered) return fit_and_register(env, s, model_path);
  const fs::path stored =
      BlobStore(env.context.home / "artifacts").final_path(record->model_sha256);
  if (!fs::exists(stored))
    throw Error("embed step: the file of model " + s.model_name + " v" +
                std::to_string(record->version) + " (" + stored.string() +
                ") is missing from the artifact store; run with refit: true");
  fs::copy_file(stored, model_path, fs::copy_options::overwrite_existing);
  return *record;
}

struct EmbedBatch {
  std::vector<int64_t> ids;
  std::vector<float> vectors;
};

struct EmbedTimes {
  double read = 0, work = 0, write = 0;
};

int64_t embed_missing(StepEnvironment& env, const EmbeddingModelRecord& record, TextEmbedder& model,
                      const EmbedSettings& s, EmbedTimes& times) {
  using Clock = std::chrono::steady_clock;
  auto since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  const size_t dim = static_cast<size_t>(record.dimension);
  int64_t embedded = 0;
  // A page of chunks at a time: memory stays bounded at any corpus size, and
  // each page's vectors are one COPY in one transaction. Pages are read and
  // embedded on the pipeline's thread (its own connection) while the page
  // before is written here.
  Store reader_connection(env.context.database_url);
  FeatureStore reader(reader_connection);
  int64_t after = 0;
  BatchPipeline<EmbedBatch>::run(
      [&](EmbedBatch& batch) {
        auto t = Clock::now();
        const EmbedPage page = reader.chunks_to_embed(record, s.filter, after, s.batch_chunks);
        times.read += since(t);
        if (page.last_queued == 0) return false;
        after = page.last_queued;
        const std::vector<ChunkText>& chunks = page.chunks;
        if (chunks.empty()) return true;  // the filter left the whole page out
        t = Clock::now();
        for (const ChunkText& chunk : chunks) batch.ids.push_back(chunk.id);
        batch.vectors = embed_chunks(model, chunks);
        if (batch.vectors.size() != chunks.size() * dim)
          throw Error("embed step: the model returned " + std::to_string(batch.vectors.size()) +
                      " floats for " + std::to_string(chunks.size()) + " chunks of dimension " +
                      std::to_string(dim));
        times.work += since(t);
        return true;
      },
      [&](EmbedBatch& batch) {
        const auto t = Clock::now();
        env.features.insert_embeddings(record, batch.ids, batch.vectors, env.step_run_id);
        times.write += since(t);
        embedded += static_cast<int64_t>(batch.ids.size());
      });
  return embedded;
}

}  // namespace

int run_embed_step(StepEnvironment& env) {
  StepParams params(env.context.params, "embed");
  const EmbedSettings s = read_embed_settings(params);
  const fs::path model_path = env.context.output_path("model");

  bool refit = false;
  const std::optional<EmbeddingModelRecord> record = model_for(env, s, model_path, refit);
  std::unique_ptr<TextEmbedder> model = open_embedder(*record, env.context.home / "artifacts");

  const auto started = std::chrono::steady_clock::now();
  EmbedTimes times;
  const int64_t embedded = embed_missing(env, *record, *model, s, times);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // Chunks that stopped being current while they waited.
  const int64_t swept = env.features.sweep_embedding_queue(*record);

  const IdDigest state = env.features.embedded_chunks_digest(*record, s.filter);
  nlohmann::json manifest = {{"model", record->name},
                             {"queue_swept", swept},
                             {"model_version", record->version},
                             {"dimension", record->dimension},
                             {"embedded_chunks", state.count},
                             {"state_sha256", state.sha256}};
  write_file_atomically(env.context.output_path("embeddings"), manifest.dump(2));
  env.report.output_metadata("embeddings", manifest);
  env.report.output_metadata(
      "model",
      {{"name", record->name}, {"version", record->version}, {"dimension", record->dimension}});
  if (embedded > 0)  // see the chunk step
    env.features.refresh_feature_statistics(FeatureStore::Statistics::kEmbeddings);
  env.report.metrics({{"chunks_embedded", embedded},
                      {"embed_seconds", seconds},
                      {"chunks_per_second", seconds > 0 ? embedded / seconds : 0.0},
                      {"read_seconds", times.read},
                      {"work_seconds", times.work},
                      {"write_seconds", times.write},
                      {"queue_swept", swept},
                      {"model_version", record->version},
                      {"refit", refit ? 1 : 0}});
  return 0;
}

}  // namespace twinflow
