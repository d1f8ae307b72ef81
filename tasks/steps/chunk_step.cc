// The chunk step: every cleaned latest document without chunks from this
// chunker gets them, and they become its current chunks. See data_steps.h.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "store/feature_store.h"
#include "store/store.h"
#include "tasks/steps/batch_pipeline.h"
#include "tasks/steps/data_steps.h"
#include "tasks/text/chunk.h"
#include "tasks/text/clean.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/files.h"
#include "util/sha256.h"

namespace twinflow {
namespace {

using Clock = std::chrono::steady_clock;

// A page of cleaned documents with their chunks: one transaction.
struct ChunkBatch {
  std::vector<DocumentChunks> documents;
  int64_t chunks = 0, bytes = 0;
};

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
  const std::string text = read_file(it->second.path, "the chunk step's input 'cleaned'");
  try {
    return nlohmann::json::parse(text).at("cleaner").get<std::string>();
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

  const auto started = Clock::now();
  int64_t documents = 0, chunks_new = 0, chunks_total = 0, bytes = 0;
  double read_seconds = 0, work_seconds = 0, write_seconds = 0;
  std::map<TextKind, ChunkOptions> options;
  for (TextKind kind : {TextKind::kArticle, TextKind::kPost, TextKind::kCode})
    options[kind] = options_for(params, kind);
  // Pages are read, chunked and analysed for search on the pipeline's thread,
  // over a connection of its own, while the page before is written here.
  Store reader_connection(env.context.database_url);
  FeatureStore reader(reader_connection);
  // At most this many documents per page and transaction. Pages also stop at
  // about 8 MB of text, twice the clean step's: a page's new chunks are one
  // block of the BM25 postings (store/bm25_batch.cc), and larger blocks mean
  // fewer rows to write. A page of articles then holds some 12,000 chunks,
  // and the step's peak RSS is about 160 MB instead of 90 (docs/STEPS.md).
  const int max_page = static_cast<int>(params.integer_or("batch_documents", 2000, 1, 100000));
  PageSize page_size = PageSize::of_documents(max_page, int64_t{8} << 20);
  int64_t after = 0;
  BatchPipeline<ChunkBatch>::run(
      [&](ChunkBatch& batch) {
        auto t = Clock::now();
        const std::vector<CleanedDocumentRecord> page =
            reader.documents_to_chunk(author, cleaner, chunker, after, page_size.next());
        read_seconds += seconds_since(t);
        if (page.empty()) return false;
        after = page.back().id;
        t = Clock::now();
        for (const CleanedDocumentRecord& doc : page) {
          const TextKind kind = text_kind_of(doc.kind, doc.url);
          DocumentChunks& rows = batch.documents.emplace_back();
          rows.cleaned_document_id = doc.id;
          rows.document_id = doc.document_id;
          rows.author = doc.author;
          rows.url = doc.url;
          rows.kind = chunk_kind_name(kind);
          for (Chunk& chunk : chunk_text(doc.content, options.at(kind))) {
            SearchTerms terms = search_terms(chunk.text);
            rows.chunks.push_back(
                {chunk_key(doc, chunker, chunk), chunk.position, static_cast<int64_t>(chunk.start),
                 static_cast<int64_t>(chunk.end), std::move(chunk.text), std::move(terms)});
          }
          batch.chunks += static_cast<int64_t>(rows.chunks.size());
          batch.bytes += static_cast<int64_t>(doc.content.size());
        }
        page_size.saw(page.size(), batch.bytes);
        work_seconds += seconds_since(t);
        return true;
      },
      [&](ChunkBatch& batch) {
        const auto t = Clock::now();
        chunks_new +=
            env.features.replace_current_chunks(batch.documents, chunker, env.step_run_id);
        write_seconds += seconds_since(t);
        documents += static_cast<int64_t>(batch.documents.size());
        chunks_total += batch.chunks;
        bytes += batch.bytes;
      });
  const double seconds = seconds_since(started);

  // Search plans depend on fresh statistics: after a bulk load, stale ones
  // make PostgreSQL scan every chunk instead of the full-text index.
  if (chunks_new > 0) env.features.refresh_feature_statistics(FeatureStore::Statistics::kChunks);
  // Chunks that stopped being current (here, or when a re-crawl recorded new
  // versions) left their postings in their BM25 blocks (migration 0025):
  // blocks with many such chunks are written again without them, so a search
  // reads few postings it must skip.
  const auto compaction_started = Clock::now();
  const int blocks_compacted = env.features.compact_bm25_blocks();
  const double compact_seconds = seconds_since(compaction_started);
  // The state left behind: which chunks are current (their ids are stable).
  const IdDigest state = env.features.current_chunks_digest({author, "", ""});
  const int64_t current = state.count;
  nlohmann::json manifest = {{"author", author},
                             {"cleaner", cleaner},
                             {"chunker", chunker},
                             {"current_chunks", current},
                             {"state_sha256", state.sha256}};
  write_file_atomically(env.context.output_path("chunks"), manifest.dump(2));
  env.report.output_metadata("chunks", {{"current_chunks", current}, {"chunker", chunker}});
  env.report.metrics({{"documents_chunked", documents},
                      {"chunks_written", chunks_total},
                      {"chunks_new", chunks_new},
                      {"current_chunks", current},
                      {"chunk_bytes", bytes},
                      {"chunk_seconds", seconds},
                      {"read_seconds", read_seconds},
                      {"work_seconds", work_seconds},
                      {"write_seconds", write_seconds},
                      {"bm25_blocks_compacted", blocks_compacted},
                      {"compact_seconds", compact_seconds}});
  return 0;
}

}  // namespace twinflow
