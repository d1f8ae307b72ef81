// The feature store: documents and their versions, cleaned documents,
// chunks, embedding models and vectors, retrieval (BM25), and the crawl
// sources that discover documents. The only part of the store a step sees.
//
// A repository over a Store's connection (store.h): cheap to make, one per
// use or one per owner, never shared between threads. Each change is one
// transaction; methods throw Error with the operation's name when the
// database refuses.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/feature_records.h"
#include "store/records.h"
#include "store/search_records.h"
#include "store/store.h"

namespace twinflow {

class FeatureStore {
 public:
  explicit FeatureStore(Store& store) : impl_(&store.impl()) {}
  // For the store's own .cc files (VectorIndexStore): the connection.
  Store::Impl& impl() const { return *impl_; }

  // --- feature store: documents, cleaned documents, chunks (store_documents.cc) ---
  // Records a fetched document: a new version when its content (or title)
  // differs from the latest, otherwise refreshes the latest's validators.
  StoredDocument upsert_document(const DocumentToStore& document);
  // The stored HTTP validators of the latest versions of `urls`, by URL.
  std::map<std::string, HttpValidators> document_validators(const std::string& author,
                                                            const std::vector<std::string>& urls);
  // A fetch answered 304 Not Modified: refreshes checked_at. Returns the
  // latest versions' ids, by URL.
  std::map<std::string, int64_t> mark_documents_checked(const std::string& author,
                                                        const std::vector<std::string>& urls);
  std::optional<DocumentRecord> find_document(int64_t id);
  // Latest document versions of an author ("" = every author), by platform
  // when given, ordered by id.
  std::vector<DocumentRecord> latest_documents(const std::string& author,
                                               const std::string& platform = "");
  // Latest document versions not yet cleaned with `cleaner`.
  std::vector<DocumentRecord> documents_to_clean(const std::string& author,
                                                 const std::string& cleaner);
  // Latest document versions of an author with their newest cleaned text
  // (any cleaner), ordered by document id; documents not cleaned yet are left out.
  std::vector<CleanedSourceRecord> cleaned_sources(const std::string& author);
  // Stores a cleaned document; returns its id (the existing one when this
  // document was already cleaned with `cleaner`).
  int64_t insert_cleaned_document(int64_t document_id, const std::string& cleaner,
                                  const std::string& content, int64_t step_run_id);
  // Cleaned (with `cleaner`) latest document versions with no chunks from
  // `chunker` yet.
  std::vector<CleanedDocumentRecord> documents_to_chunk(const std::string& author,
                                                        const std::string& cleaner,
                                                        const std::string& chunker);
  // Stores a cleaned document's chunks and makes them the current chunks of
  // its document (every earlier chunk of any version becomes non-current), in
  // one transaction. Returns how many chunks were new.
  int replace_current_chunks(const CleanedDocumentRecord& source, const std::string& chunker,
                             const std::string& kind, const std::vector<ChunkToStore>& chunks,
                             int64_t step_run_id);
  // Current chunks of latest documents, filtered, ordered by id.
  std::vector<ChunkText> current_chunks(const ChunkFilter& filter);
  std::vector<ChunkDetail> chunk_details(const std::vector<int64_t>& chunk_ids);
  // ANALYZE of the feature store's tables, after a bulk change: the planner
  // needs current statistics to use the feature tables' indexes.
  // kChunks: what the chunk step changes (and the clean step before it);
  // kEmbeddings: only the vectors, what the embed step changes. Also folds
  // the change log that vectors_signature counts into its total (migration
  // 0028), so that counting it stays cheap; the signature does not move.
  enum class Statistics { kAll, kChunks, kEmbeddings };
  void refresh_feature_statistics(Statistics tables = Statistics::kAll);
  FeatureCounts feature_counts(const std::string& author, const std::string& model_name);

  // --- feature store: embedding models and vectors (store_embeddings.cc) ---------
  // The latest version of a model name.
  std::optional<EmbeddingModelRecord> current_embedding_model(const std::string& name);
  // Registers the next version of a model name and returns it. Every current
  // chunk waits for its embedding (chunks_to_embed), no longer for the name's
  // older versions.
  EmbeddingModelRecord register_embedding_model(const std::string& name,
                                                const std::string& provider, int dimension,
                                                const std::string& model_sha256,
                                                const nlohmann::json& settings,
                                                int64_t step_run_id);
  // Current chunks (of `filter`) with no embedding for `model_id`.
  std::vector<ChunkText> chunks_without_embedding(int64_t model_id, const ChunkFilter& filter);
  // Stores `ids.size()` vectors of `dimension` floats (row-major) for a model.
  void insert_embeddings(const EmbeddingModelRecord& model, const std::vector<int64_t>& ids,
                         const std::vector<float>& vectors, int64_t step_run_id);
  // The vectors of a model for the current chunks matching `filter`.
  ChunkVectors load_vectors(const EmbeddingModelRecord& model, const ChunkFilter& filter);
  // The same vectors, a page of at most `page_size` at a time (ascending
  // chunk ids, one snapshot for all pages), so that a caller building its own
  // copy never holds a million vectors (1 GB) twice. Read through a binary
  // COPY on a second connection (copy_binary.h).
  void load_vectors(const EmbeddingModelRecord& model, const ChunkFilter& filter,
                    const std::function<void(const ChunkVectors& page)>& each_page,
                    int page_size = 20000);
  // What load_vectors would read, without the vectors (ascending chunk ids):
  // at 1M chunks a few MB instead of 1 GB, so a holder of the vectors can
  // tell which ones are new, rewritten or gone (tasks/search/vector_loading.h).
  std::vector<EmbeddedRow> embedded_rows(const EmbeddingModelRecord& model,
                                         const ChunkFilter& filter);
  // The model's vectors of `chunk_ids` (ascending, as embedded_rows gives
  // them), a page at a time; an id without a vector of the model is skipped.
  // Not filtered: the ids were.
  void load_vectors_of(const EmbeddingModelRecord& model, const std::vector<int64_t>& chunk_ids,
                       const std::function<void(const ChunkVectors& page)>& each_page,
                       int page_size = 20000);
  // A cheap signature of the state load_vectors reads, to tell whether a
  // cached copy may be stale: it changes with every commit that changed the
  // rows of embeddings, chunks or documents (migration 0028), and costs the
  // same at any corpus size. Ask it before loading: a commit in between
  // costs a second load, never a missed one.
  std::string vectors_signature(const EmbeddingModelRecord& model, const ChunkFilter& filter);

  // --- feature store in pages and batches (store_documents.cc, store_embeddings.cc) ---
  // The data steps read what is left to do a page at a time (ids after
  // `after_id`, ascending, at most `limit`), so memory stays bounded, and write
  // each page in one transaction with one statement per table, so a kill loses
  // at most the page in flight and a rerun carries on where it stopped.

  // A page of documents_to_clean.
  std::vector<DocumentRecord> documents_to_clean(const std::string& author,
                                                 const std::string& cleaner, int64_t after_id,
                                                 int limit);
  // Stores cleaned documents; one already cleaned with `cleaner` is kept as it
  // is. Returns how many were new.
  int insert_cleaned_documents(const std::vector<CleanedDocumentToStore>& batch,
                               const std::string& cleaner, int64_t step_run_id);
  // A page of documents_to_chunk, by cleaned document id.
  std::vector<CleanedDocumentRecord> documents_to_chunk(const std::string& author,
                                                        const std::string& cleaner,
                                                        const std::string& chunker,
                                                        int64_t after_id, int limit);
  // replace_current_chunks for many documents (each URL at most once).
  // Returns how many chunks were new.
  int replace_current_chunks(const std::vector<DocumentChunks>& batch, const std::string& chunker,
                             int64_t step_run_id);
  // The next `limit` entries of the queue of chunks waiting for an embedding
  // of `model`, a model name's latest version (migration 0026: what
  // chunks_without_embedding finds, without looking at every chunk), after
  // chunk id `after_id`; of those, the current chunks of `filter` without an
  // embedding, by id. The queue's page is read by its index first and its
  // chunks by theirs, so that a page costs the same whatever the queue's
  // length and whatever the planner's statistics say of it.
  EmbedPage chunks_to_embed(const EmbeddingModelRecord& model, const ChunkFilter& filter,
                            int64_t after_id, int limit);
  // Takes the chunks deleted or no longer current off the model's queue.
  // Returns how many.
  int64_t sweep_embedding_queue(const EmbeddingModelRecord& model);
  // latest_documents without their content (id, url, version, sha256, ...):
  // what a manifest lists, without reading the corpus into memory.
  std::vector<DocumentRecord> latest_document_heads(const std::string& author);
  // The ids of current_chunks, ascending, without their text.
  std::vector<int64_t> current_chunk_ids(const ChunkFilter& filter);
  // latest_document_heads visited a page at a time (memory bounded at any
  // corpus size), in the same order.
  void for_each_latest_document_head(const std::string& author,
                                     const std::function<void(const DocumentRecord&)>& visit);
  // The current chunks (of `filter`), and those with a vector of `model`:
  // counted and digested by id in one statement each, where walking the ids
  // page by page took seconds at 1M chunks on every run of the data steps.
  IdDigest current_chunks_digest(const ChunkFilter& filter);
  IdDigest embedded_chunks_digest(const EmbeddingModelRecord& model, const ChunkFilter& filter);
  // At most `max_chunks` of current_chunks, evenly spread over them (every
  // k-th by id; all of them when they are no more): what an embedding model is
  // fitted on, so that fitting stays bounded in memory at any corpus size.
  std::vector<ChunkText> current_chunks_sample(const ChunkFilter& filter, int64_t max_chunks);

  // ---- retrieval (store_search.cc) ----
  // Okapi BM25F text search over the searchable chunks (current chunks of
  // latest documents) of `filter`, with the statistics migration 0012 keeps
  // exact (search_records.h: formula, defaults). The query goes through the
  // same `english` analysis as the chunks; any query lexeme matches (OR). At
  // most `limit` hits, each with its per-lexeme parts of the score; the terms
  // tell why there are none (no lexeme left, or none in the scope).
  // `cache`: postings an earlier search of the same filter read are taken
  // from it while the filter's chunks have not changed since, and those read
  // now are added (bm25_postings_cache.h). Ranking: bm25_scoring.h.
  Bm25Result bm25_search(const std::string& query, const ChunkFilter& filter, int limit,
                         const Bm25Params& params = {}, Bm25PostingsCache* cache = nullptr);
  // The same with the query's lexemes and weights given (w(t) in
  // search_records.h): an expanded query. A lexeme given twice counts with
  // the sum of its weights (and the largest max_share); weights must be
  // finite and > 0.
  Bm25Result bm25_search(const std::vector<Bm25QueryTerm>& query, const ChunkFilter& filter,
                         int limit, const Bm25Params& params = {},
                         Bm25PostingsCache* cache = nullptr);
  // The number of searchable chunks of `filter` (from the BM25 statistics).
  int64_t searchable_chunks(const ChunkFilter& filter);
  // Writes again, without their dead postings, the BM25 blocks of which at
  // least `min_dead_share` of the chunks were removed (migration 0025), one
  // block per transaction. Returns how many blocks it compacted.
  // (bm25_compaction.cc)
  int compact_bm25_blocks(double min_dead_share = 0.1);
  // ---- end of retrieval ----
  // --- crawl sources: feeds, sitemaps, followed pages (store_sources.cc) ---
  // The discovery state of the crawl step (migration 0014).
  struct SourceEntry {
    std::string url, stamp;  // stamp: updated / lastmod as listed, "" when none
  };
  struct SourceEntryCounts {
    int64_t added = 0, changed = 0;  // entries never listed before / listed with a new stamp
  };
  struct SourceCheck {
    std::string status, reason;  // ok, not_modified, truncated, failed
    int64_t discovered = 0, discovered_new = 0;
  };
  // The source's id, created on first use. kind: feed, sitemap, follow.
  int64_t crawl_source_id(const std::string& author, const std::string& kind,
                          const std::string& url);
  // The validators stored for the files fetched for a source, by file URL.
  std::map<std::string, HttpValidators> crawl_source_validators(int64_t source_id);
  void save_crawl_source_validators(int64_t source_id, const std::string& file_url,
                                    const HttpValidators& validators);
  // Records the entries a source lists now (one transaction, batched).
  SourceEntryCounts record_source_entries(int64_t source_id,
                                          const std::vector<SourceEntry>& entries);
  // Entries to crawl: new, with a changed stamp, or whose last crawl failed;
  // at most `limit`, oldest first.
  std::vector<std::string> source_entries_to_crawl(int64_t source_id, int64_t limit);
  // These entries were crawled (their current stamp is now the crawled one).
  void mark_source_entries_crawled(int64_t source_id, const std::vector<std::string>& urls);
  // The latest documents (id, platform) of the entries of these sources that
  // were crawled, by URL.
  std::map<std::string, std::pair<int64_t, std::string>> source_documents(
      const std::string& author, const std::vector<int64_t>& source_ids);
  void record_source_check(int64_t source_id, const SourceCheck& check, int64_t step_run_id);
  // ---- end of crawl sources ----

 private:
  Store::Impl* impl_;
};

inline FeatureStore Store::features() {
  return FeatureStore(*this);
}

}  // namespace twinflow
