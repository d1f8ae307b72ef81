// The chunk step: every cleaned latest document without chunks from this
// chunker gets them, and they become its current chunks. See data_steps.h.
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "store/feature_store.h"
#include "store/store.h"
#include "tasks/steps/data_steps.h"
#include "tasks/text/chunk.h"
#include "tasks/text/clean.h"
#include "util/error.h"
#include "util/files.h"
#include "util/sha256.h"

namespace twinflow {
namespace {

// Cleaned documents per page read and per transaction written: memory stays
// bounded and a kill loses at most one page.
constexpr int kPage = 500;

// The options for one kind: the defaults, overridden by params such as
// `article: {target_chars: 800, overlap_chars: 100}`.
ChunkOptions options_for(const StepParams& params, TextKind kind) {
  ChunkOptions options = ChunkOptions::for_kind(kind);
  const auto& overrides = params.raw(chunk_kind_name(kind));
  if (overrides.is_object()) {
    StepParams sub(overrides, std::string("chunk.") + chunk_kind_name(kind));
    options.target_chars = static_cast<size_t>(
        sub.integer_or("target_chars", static_cast<int64_t>(options.target_chars), 1, 1000000));
    options.overlap_chars = static_cast<size_t>(
        sub.integer_or("overlap_chars", static_cast<int64_t>(options.overlap_chars), 0, 999999));
  }
  return options;
}

std::string chunker_fingerprint(const StepParams& params) {
  std::string fp = "chunk-v1";
  for (TextKind kind : {TextKind::kArticle, TextKind::kPost, TextKind::kCode}) {
    ChunkOptions o = options_for(params, kind);
    fp += std::string(" ") + chunk_kind_name(kind) + "=" + std::to_string(o.target_chars) + "/" +
          std::to_string(o.overlap_chars);
  }
  return fp;
}

// The cleaning whose output to chunk: the one the clean step's manifest names
// when it is an input (`cleaned`), else the default cleaning.
std::string cleaner_to_chunk(const StepContext& context) {
  auto it = context.inputs.find("cleaned");
  if (it == context.inputs.end()) return cleaner_fingerprint(CleanOptions{});
  std::ifstream in(it->second.path);
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str()).at("cleaner").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw Error("chunk step: input 'cleaned' (" + it->second.path.string() +
                ") is not a clean step manifest: " + e.what());
  }
}

std::string chunk_key(const CleanedDocumentRecord& doc, const std::string& chunker,
                      const Chunk& chunk) {
  Sha256 h;
  h.field(doc.author).field(doc.url).field(std::to_string(doc.document_version)).field(chunker);
  h.field(std::to_string(chunk.position)).field(chunk.text);
  return h.hex_digest();
}

}  // namespace

int run_chunk_step(StepEnvironment& env) {
  StepParams params(env.context.params, "chunk");
  const std::string author = params.string_or("author", "");
  const std::string chunker = chunker_fingerprint(params);
  const std::string cleaner = cleaner_to_chunk(env.context);

  const auto started = std::chrono::steady_clock::now();
  int64_t documents = 0, chunks_new = 0, chunks_total = 0, bytes = 0;
  std::map<TextKind, ChunkOptions> options;
  for (TextKind kind : {TextKind::kArticle, TextKind::kPost, TextKind::kCode})
    options[kind] = options_for(params, kind);
  std::vector<DocumentChunks> batch;
  for (int64_t after = 0;;) {
    const std::vector<CleanedDocumentRecord> page =
        env.features.documents_to_chunk(author, cleaner, chunker, after, kPage);
    if (page.empty()) break;
    batch.clear();
    for (const CleanedDocumentRecord& doc : page) {
      const TextKind kind = text_kind_of(doc.kind, doc.url);
      DocumentChunks& rows = batch.emplace_back();
      rows.cleaned_document_id = doc.id;
      rows.document_id = doc.document_id;
      rows.author = doc.author;
      rows.url = doc.url;
      rows.kind = chunk_kind_name(kind);
      for (Chunk& chunk : chunk_text(doc.content, options.at(kind)))
        rows.chunks.push_back({chunk_key(doc, chunker, chunk), chunk.position,
                               static_cast<int64_t>(chunk.start), static_cast<int64_t>(chunk.end),
                               std::move(chunk.text)});
      chunks_total += static_cast<int64_t>(rows.chunks.size());
      bytes += static_cast<int64_t>(doc.content.size());
    }
    chunks_new += env.features.replace_current_chunks(batch, chunker, env.step_run_id);
    documents += static_cast<int64_t>(page.size());
    after = page.back().id;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // The state left behind: which chunks are current (their ids are stable).
  Sha256 state;
  // Search plans depend on fresh statistics: after a bulk load, stale ones
  // make PostgreSQL scan every chunk instead of the full-text index.
  if (chunks_new > 0) env.features.refresh_feature_statistics();
  int64_t current = 0;
  for (int64_t id : env.features.current_chunk_ids({author, "", ""})) {
    state.field(std::to_string(id));
    ++current;
  }
  nlohmann::json manifest = {{"author", author},
                             {"cleaner", cleaner},
                             {"chunker", chunker},
                             {"current_chunks", current},
                             {"state_sha256", state.hex_digest()}};
  write_file_atomically(env.context.output_path("chunks"), manifest.dump(2));
  env.report.output_metadata("chunks", {{"current_chunks", current}, {"chunker", chunker}});
  env.report.metrics({{"documents_chunked", documents},
                      {"chunks_written", chunks_total},
                      {"chunks_new", chunks_new},
                      {"current_chunks", current},
                      {"chunk_bytes", bytes},
                      {"chunk_seconds", seconds}});
  return 0;
}

}  // namespace twinflow
