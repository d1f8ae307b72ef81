// Records of the feature store: the documents, cleaned documents, chunks and
// embeddings that the data steps write and retrieval reads (migration 0003).
//
// Kept apart from records.h (runs, steps, artifacts) because only the data
// steps, search and the RAG server need them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/english_analyzer.h"

namespace twinflow {

// A fetched document to record (see Store::upsert_document).
struct DocumentToStore {
  std::string author;    // whose twin it feeds (the DAG's author, not the byline)
  std::string platform;  // medium, substack, linkedin, github, web
  std::string kind;      // article, post, repository
  std::string url;
  std::string title, subtitle, byline;
  std::string published_at;  // ISO-8601 date or timestamp, or "" when unknown
  std::string canonical_url, language;
  std::string content;                              // the body text
  nlohmann::json blocks = nlohmann::json::array();  // [{"kind", "level", "text"}]
  std::string etag, last_modified;                  // HTTP validators, "" when none
  int64_t step_run_id = 0;                          // 0: not written by a step
};

struct StoredDocument {
  int64_t id = 0;
  int version = 0;
  std::string change;  // "new", "changed" or "unchanged"
  std::string content_sha256;
};

struct HttpValidators {
  std::string etag, last_modified;
};

// The latest version of a document.
struct DocumentRecord {
  int64_t id = 0;
  std::string author, platform, kind, url;
  int version = 0;
  std::string title, subtitle, byline, published_at, canonical_url;
  std::string content, content_sha256;
  std::string fetched_at, checked_at;
  int64_t step_run_id = 0;
};

// A cleaned document with what chunking needs to know of its source.
struct CleanedDocumentRecord {
  int64_t id = 0;
  int64_t document_id = 0;
  std::string author, platform, kind, url;
  int document_version = 0;
  std::string content;
};

// A latest document version with its most recently cleaned text: what the
// dataset step builds samples from.
struct CleanedSourceRecord {
  int64_t document_id = 0;
  std::string platform, kind, url, title;
  std::string content;  // cleaned
  nlohmann::json blocks = nlohmann::json::array();
};

// A cleaned document to store (Store::insert_cleaned_documents).
struct CleanedDocumentToStore {
  int64_t document_id = 0;
  std::string content;
};

struct ChunkToStore {
  std::string chunk_key;
  int position = 0;
  int64_t start_offset = 0, end_offset = 0;
  std::string content;
  // search_terms(content), if the writer made it already (the chunk step
  // does, on its reading thread, while the batch before is written); when
  // absent the store makes it.
  std::optional<SearchTerms> terms = std::nullopt;
};

// The chunks of one cleaned document (Store::replace_current_chunks).
struct DocumentChunks {
  int64_t cleaned_document_id = 0, document_id = 0;
  std::string author, url;
  std::string kind;  // article, post, code
  std::vector<ChunkToStore> chunks;
};

// A chunk as the embed step reads it: its id, its text and its document's
// title (embedding_text, tasks/embed/text_embedder.h, joins the two).
struct ChunkText {
  int64_t id = 0;
  std::string content;
  std::string title;
};

// A page of an embedding model's queue (FeatureStore::chunks_to_embed): the
// chunks of the page that the filter keeps, and where the page ended in the
// queue, the cursor for the next page. `chunks` may be empty while the queue
// goes on (every chunk of the page left out by the filter); the queue is done
// when `last_queued` is 0.
struct EmbedPage {
  std::vector<ChunkText> chunks;
  int64_t last_queued = 0;
};

struct EmbeddingModelRecord {
  int64_t id = 0;
  std::string name;
  int version = 0;
  std::string provider;  // builtin, openai
  int dimension = 0;
  std::string model_sha256;  // builtin: content hash of the model file in the artifact store
  nlohmann::json settings = nlohmann::json::object();
  std::string created_at;
};

// How many rows a set holds and a digest of their ids (store_impl.h's
// id_digest_sql): what a data step's manifest says of the state it left.
struct IdDigest {
  int64_t count = 0;
  std::string sha256;
};

// Which chunks a search looks at; empty fields match everything.
struct ChunkFilter {
  std::string author;
  std::string kind;      // article, post, code
  std::string platform;  // medium, substack, linkedin, github, web
};

// Embeddings of the current chunks for one model, row-major (ids.size() ×
// dimension floats).
struct ChunkVectors {
  int dimension = 0;
  std::vector<int64_t> ids;
  std::vector<float> data;
  // Per vector, the version of its embeddings row (EmbeddedRow::version).
  std::vector<uint32_t> versions;
};

// A vector that a search would read, without the vector: its chunk, and the
// version of its embeddings row: the row's xmin, which changes whenever the
// row is rewritten (an UPDATE, or a delete and an insert for the same chunk)
// and is kept by VACUUM and freezing. A reader that holds a vector with its
// version knows by these alone whether it may keep it.
struct EmbeddedRow {
  int64_t chunk_id = 0;
  uint32_t version = 0;
};

// A chunk with the document it came from, for showing search results.
struct ChunkDetail {
  int64_t id = 0;
  std::string chunk_key;
  int64_t document_id = 0;
  std::string author, platform, kind, url, title, published_at;
  int document_version = 0;
  int position = 0;
  int64_t start_offset = 0, end_offset = 0;  // bytes of the cleaned document's content
  std::string content;
  int64_t step_run_id = 0;           // the chunk step's attempt
  int64_t document_step_run_id = 0;  // the crawl step's attempt
};

struct FeatureCounts {
  int64_t documents = 0;          // latest versions
  int64_t document_versions = 0;  // all versions
  int64_t cleaned = 0;
  int64_t current_chunks = 0;
  int64_t embedded_current_chunks = 0;  // for the current model of the name asked
};

}  // namespace twinflow
