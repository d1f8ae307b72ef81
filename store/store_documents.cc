// Store: the feature store's documents, cleaned documents and chunks
// (migration 0003). Embedding models and vectors are in store_embeddings.cc.
#include <algorithm>
#include <future>
#include <unordered_map>

#include "store/bm25_batch.h"
#include "store/copy_text.h"
#include "store/english_analyzer.h"
#include "store/feature_store.h"
#include "store/store_impl.h"
#include "util/error.h"
#include "util/sha256.h"

namespace twinflow {

std::string chunk_filter_sql(int first_param) {
  return chunk_filter_sql("$" + std::to_string(first_param), "$" + std::to_string(first_param + 1),
                          "$" + std::to_string(first_param + 2));
}

std::string chunk_filter_sql(const std::string& a, const std::string& k, const std::string& p) {
  return " c.is_current AND d.is_latest AND (" + a + " = '' OR d.author = " + a + ") AND (" + k +
         " = '' OR c.kind = " + k + ") AND (" + p + " = '' OR d.platform = " + p + ") ";
}

// A data step's batch commits without waiting for its WAL to reach the disk:
// the executor records the step's success later with a synchronous commit,
// which flushes every earlier WAL record too, so a recorded success still
// means durable batches, and a server crash before it loses whole recent
// batches only, which the step's rerun redoes (as after a kill).
const char* const kBatchCommit = "SET LOCAL synchronous_commit = off";

namespace {

const char* const kDocumentColumns =
    "d.id, d.author, d.platform, d.kind, d.url, d.version, d.title, d.subtitle, d.byline, "
    "coalesce(to_char(d.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
    "d.canonical_url, d.content, d.content_sha256, d.fetched_at::text, d.checked_at::text, "
    "coalesce(d.step_run_id, 0)";

DocumentRecord read_document(const pqxx::row& row) {
  DocumentRecord d;
  d.id = row[0].as<int64_t>();
  d.author = row[1].as<std::string>();
  d.platform = row[2].as<std::string>();
  d.kind = row[3].as<std::string>();
  d.url = row[4].as<std::string>();
  d.version = row[5].as<int>();
  d.title = row[6].as<std::string>();
  d.subtitle = row[7].as<std::string>();
  d.byline = row[8].as<std::string>();
  d.published_at = row[9].as<std::string>();
  d.canonical_url = row[10].as<std::string>();
  d.content = row[11].as<std::string>();
  d.content_sha256 = row[12].as<std::string>();
  d.fetched_at = row[13].as<std::string>();
  d.checked_at = row[14].as<std::string>();
  d.step_run_id = row[15].as<int64_t>();
  return d;
}

nlohmann::json document_json(const DocumentToStore& doc, const std::string& sha) {
  nlohmann::json j = {{"author", doc.author},     {"platform", doc.platform},
                      {"kind", doc.kind},         {"url", doc.url},
                      {"title", doc.title},       {"subtitle", doc.subtitle},
                      {"byline", doc.byline},     {"canonical_url", doc.canonical_url},
                      {"language", doc.language}, {"content", doc.content},
                      {"blocks", doc.blocks},     {"content_sha256", sha}};
  j["published_at"] =
      doc.published_at.empty() ? nlohmann::json() : nlohmann::json(doc.published_at);
  j["etag"] = doc.etag.empty() ? nlohmann::json() : nlohmann::json(doc.etag);
  j["last_modified"] =
      doc.last_modified.empty() ? nlohmann::json() : nlohmann::json(doc.last_modified);
  return j;
}

}  // namespace

StoredDocument FeatureStore::upsert_document(const DocumentToStore& doc) {
  const std::string sha = sha256_hex(doc.content);
  try {
    pqxx::nontransaction tx(impl_->connection);
    auto row = tx.exec_params1("SELECT * FROM twinflow_upsert_document($1::jsonb, $2)",
                               document_json(doc, sha).dump(), nullable_id(doc.step_run_id));
    return {row[0].as<int64_t>(), row[1].as<int>(), row[2].as<std::string>(), sha};
  } catch (const pqxx::sql_error& e) {
    throw Error("recording document " + doc.url + ": " + e.what());
  }
}

std::map<std::string, HttpValidators> FeatureStore::document_validators(
    const std::string& author, const std::vector<std::string>& urls) {
  pqxx::nontransaction tx(impl_->connection);
  std::map<std::string, HttpValidators> out;
  for (const auto& row :
       tx.exec_params("SELECT url, coalesce(etag, ''), coalesce(last_modified, '') FROM documents "
                      "WHERE author = $1 AND is_latest AND url = ANY($2::text[])",
                      author, to_pg_text_array(urls)))
    out[row[0].as<std::string>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
  return out;
}

std::map<std::string, int64_t> FeatureStore::mark_documents_checked(
    const std::string& author, const std::vector<std::string>& urls) {
  pqxx::nontransaction tx(impl_->connection);
  std::map<std::string, int64_t> out;
  for (const auto& row :
       tx.exec_params("UPDATE documents SET checked_at = now() "
                      "WHERE author = $1 AND is_latest AND url = ANY($2::text[]) RETURNING url, id",
                      author, to_pg_text_array(urls)))
    out[row[0].as<std::string>()] = row[1].as<int64_t>();
  return out;
}

std::optional<DocumentRecord> FeatureStore::find_document(int64_t id) {
  pqxx::nontransaction tx(impl_->connection);
  auto rows = tx.exec_params(
      std::string("SELECT ") + kDocumentColumns + " FROM documents d WHERE d.id = $1", id);
  if (rows.empty()) return std::nullopt;
  return read_document(rows[0]);
}

std::vector<DocumentRecord> FeatureStore::latest_documents(const std::string& author,
                                                           const std::string& platform) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<DocumentRecord> out;
  for (const auto& row :
       tx.exec_params(std::string("SELECT ") + kDocumentColumns +
                          " FROM documents d WHERE d.is_latest AND ($1 = '' OR d.author = $1) "
                          "AND ($2 = '' OR d.platform = $2) ORDER BY d.id",
                      author, platform))
    out.push_back(read_document(row));
  return out;
}

std::vector<DocumentRecord> FeatureStore::documents_to_clean(const std::string& author,
                                                             const std::string& cleaner) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<DocumentRecord> out;
  for (const auto& row : tx.exec_params(
           std::string("SELECT ") + kDocumentColumns +
               " FROM documents d WHERE d.is_latest AND ($1 = '' OR d.author = $1) "
               "AND NOT EXISTS (SELECT 1 FROM cleaned_documents k "
               "                WHERE k.document_id = d.id AND k.cleaner = $2) ORDER BY d.id",
           author, cleaner))
    out.push_back(read_document(row));
  return out;
}

int64_t FeatureStore::insert_cleaned_document(int64_t document_id, const std::string& cleaner,
                                              const std::string& content, int64_t step_run_id) {
  pqxx::nontransaction tx(impl_->connection);
  // The no-op update makes RETURNING give the existing row's id on conflict.
  return tx
      .exec_params1(
          "INSERT INTO cleaned_documents (document_id, cleaner, content, content_sha256, "
          "step_run_id) VALUES ($1, $2, $3, $4, $5) "
          "ON CONFLICT (document_id, cleaner) DO UPDATE SET cleaner = EXCLUDED.cleaner "
          "RETURNING id",
          document_id, cleaner, content, sha256_hex(content), nullable_id(step_run_id))[0]
      .as<int64_t>();
}

std::vector<CleanedDocumentRecord> FeatureStore::documents_to_chunk(const std::string& author,
                                                                    const std::string& cleaner,
                                                                    const std::string& chunker) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<CleanedDocumentRecord> out;
  for (const auto& row : tx.exec_params(
           "SELECT k.id, d.id, d.author, d.platform, d.kind, d.url, d.version, k.content "
           "FROM cleaned_documents k JOIN documents d ON d.id = k.document_id "
           "WHERE d.is_latest AND ($1 = '' OR d.author = $1) AND k.cleaner = $2 "
           "AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.cleaned_document_id = k.id "
           "                AND c.chunker = $3 AND c.is_current) "
           "ORDER BY k.id",
           author, cleaner, chunker)) {
    CleanedDocumentRecord r;
    r.id = row[0].as<int64_t>();
    r.document_id = row[1].as<int64_t>();
    r.author = row[2].as<std::string>();
    r.platform = row[3].as<std::string>();
    r.kind = row[4].as<std::string>();
    r.url = row[5].as<std::string>();
    r.document_version = row[6].as<int>();
    r.content = row[7].as<std::string>();
    out.push_back(std::move(r));
  }
  return out;
}

int FeatureStore::replace_current_chunks(const CleanedDocumentRecord& source,
                                         const std::string& chunker, const std::string& kind,
                                         const std::vector<ChunkToStore>& chunks,
                                         int64_t step_run_id) {
  DocumentChunks doc;
  doc.cleaned_document_id = source.id;
  doc.document_id = source.document_id;
  doc.author = source.author;
  doc.url = source.url;
  doc.kind = kind;
  doc.chunks = chunks;
  return replace_current_chunks(std::vector<DocumentChunks>{std::move(doc)}, chunker, step_run_id);
}

std::vector<ChunkText> FeatureStore::current_chunks(const ChunkFilter& filter) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<ChunkText> out;
  for (const auto& row : tx.exec_params(
           "SELECT c.id, c.content, d.title FROM chunks c JOIN documents d ON d.id = c.document_id "
           "WHERE" +
               chunk_filter_sql(1) + "ORDER BY c.id",
           filter.author, filter.kind, filter.platform))
    out.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>()});
  return out;
}

std::vector<ChunkDetail> FeatureStore::chunk_details(const std::vector<int64_t>& chunk_ids) {
  pqxx::nontransaction tx(impl_->connection);
  std::map<int64_t, ChunkDetail> by_id;
  for (const auto& row : tx.exec_params(
           "SELECT c.id, c.chunk_key, d.id, d.author, d.platform, c.kind, d.url, d.title, "
           "coalesce(to_char(d.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), ''), d.version, "
           "c.position, c.content, coalesce(c.step_run_id, 0), coalesce(d.step_run_id, 0), "
           "c.start_offset, c.end_offset "
           "FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ANY($1::bigint[])",
           to_pg_bigint_array(chunk_ids))) {
    ChunkDetail c;
    c.id = row[0].as<int64_t>();
    c.chunk_key = row[1].as<std::string>();
    c.document_id = row[2].as<int64_t>();
    c.author = row[3].as<std::string>();
    c.platform = row[4].as<std::string>();
    c.kind = row[5].as<std::string>();
    c.url = row[6].as<std::string>();
    c.title = row[7].as<std::string>();
    c.published_at = row[8].as<std::string>();
    c.document_version = row[9].as<int>();
    c.position = row[10].as<int>();
    c.content = row[11].as<std::string>();
    c.step_run_id = row[12].as<int64_t>();
    c.document_step_run_id = row[13].as<int64_t>();
    c.start_offset = row[14].as<int64_t>();
    c.end_offset = row[15].as<int64_t>();
    by_id[c.id] = std::move(c);
  }
  std::vector<ChunkDetail> out;  // in the order asked
  for (int64_t id : chunk_ids)
    if (auto it = by_id.find(id); it != by_id.end()) out.push_back(it->second);
  return out;
}

FeatureCounts FeatureStore::feature_counts(const std::string& author,
                                           const std::string& model_name) {
  pqxx::nontransaction tx(impl_->connection);
  auto row = tx.exec_params1(
      "SELECT (SELECT count(*) FROM documents WHERE is_latest AND ($1 = '' OR author = $1)), "
      "       (SELECT count(*) FROM documents WHERE $1 = '' OR author = $1), "
      "       (SELECT count(*) FROM cleaned_documents k JOIN documents d ON d.id = k.document_id "
      "         WHERE d.is_latest AND ($1 = '' OR d.author = $1)), "
      "       (SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id "
      "         WHERE c.is_current AND d.is_latest AND ($1 = '' OR d.author = $1)), "
      "       (SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id "
      "          JOIN embeddings e ON e.chunk_id = c.id "
      "         WHERE c.is_current AND d.is_latest AND ($1 = '' OR d.author = $1) "
      "           AND e.model_id = (SELECT id FROM embedding_models WHERE name = $2 "
      "                             ORDER BY version DESC LIMIT 1))",
      author, model_name);
  return {row[0].as<int64_t>(), row[1].as<int64_t>(), row[2].as<int64_t>(), row[3].as<int64_t>(),
          row[4].as<int64_t>()};
}

}  // namespace twinflow

namespace twinflow {

std::vector<CleanedSourceRecord> FeatureStore::cleaned_sources(const std::string& author) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<CleanedSourceRecord> out;
  for (const auto& row : tx.exec_params(
           "SELECT DISTINCT ON (d.id) d.id, d.platform, d.kind, d.url, d.title, k.content, "
           "d.blocks::text FROM documents d JOIN cleaned_documents k ON k.document_id = d.id "
           "WHERE d.is_latest AND d.author = $1 ORDER BY d.id, k.id DESC",
           author)) {
    CleanedSourceRecord r;
    r.document_id = row[0].as<int64_t>();
    r.platform = row[1].as<std::string>();
    r.kind = row[2].as<std::string>();
    r.url = row[3].as<std::string>();
    r.title = row[4].as<std::string>();
    r.content = row[5].as<std::string>();
    r.blocks = nlohmann::json::parse(row[6].as<std::string>());
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace twinflow

namespace twinflow {

void FeatureStore::refresh_feature_statistics(Statistics tables) {
  pqxx::nontransaction tx(impl_->connection);
  // One statement, one snapshot: the rows it deletes are the ones it adds.
  tx.exec(
      "WITH folded AS (DELETE FROM feature_changes RETURNING 1) "
      "UPDATE feature_changes_compacted SET changes = changes + (SELECT count(*) FROM folded)");
  switch (tables) {
    case Statistics::kAll:
      tx.exec("ANALYZE documents, cleaned_documents, chunks, embeddings");
      return;
    case Statistics::kChunks:
      tx.exec("ANALYZE documents, cleaned_documents, chunks");
      return;
    case Statistics::kEmbeddings:
      tx.exec("ANALYZE embeddings");
      return;
  }
}

}  // namespace twinflow

// --- In pages and batches (see store.h) ------------------------------------------

namespace twinflow {

std::vector<DocumentRecord> FeatureStore::documents_to_clean(const std::string& author,
                                                             const std::string& cleaner,
                                                             int64_t after_id, int limit) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<DocumentRecord> out;
  for (const auto& row :
       tx.exec_params(std::string("SELECT ") + kDocumentColumns +
                          " FROM documents d WHERE d.is_latest AND ($1 = '' OR d.author = $1) "
                          "AND d.id > $3 AND NOT EXISTS (SELECT 1 FROM cleaned_documents k "
                          "WHERE k.document_id = d.id AND k.cleaner = $2) ORDER BY d.id LIMIT $4",
                      author, cleaner, after_id, limit))
    out.push_back(read_document(row));
  return out;
}

int FeatureStore::insert_cleaned_documents(const std::vector<CleanedDocumentToStore>& batch,
                                           const std::string& cleaner, int64_t step_run_id) {
  if (batch.empty()) return 0;
  try {
    pqxx::work tx(impl_->connection);
    tx.exec(kBatchCommit);
    // COPY into a scratch table, then one INSERT that keeps a document
    // already cleaned (by a concurrent run) as it is: COPY parses text several
    // times faster than array literals, and the INSERT stays one statement.
    tx.exec(
        "CREATE TEMP TABLE cleaned_batch (n int, document_id bigint, content text, "
        "content_sha256 text) ON COMMIT DROP");
    {
      CopyStream copy(tx, "cleaned_batch", {"n", "document_id", "content", "content_sha256"});
      int n = 0;
      for (const CleanedDocumentToStore& doc : batch) {
        copy.row().integer(n++).integer(doc.document_id).text(doc.content);
        copy.row().text(sha256_hex(doc.content));
        copy.end_row();
      }
      copy.complete();
    }
    auto row = tx.exec_params1(
        "WITH ins AS (INSERT INTO cleaned_documents (document_id, cleaner, content, "
        "content_sha256, step_run_id) "
        "SELECT b.document_id, $1, b.content, b.content_sha256, $2 FROM cleaned_batch b ORDER BY "
        "b.n "
        "ON CONFLICT (document_id, cleaner) DO NOTHING RETURNING 1) "
        "SELECT count(*) FROM ins",
        cleaner, nullable_id(step_run_id));
    tx.commit();
    return row[0].as<int>();
  } catch (const pqxx::sql_error& e) {
    throw Error("recording " + std::to_string(batch.size()) + " cleaned documents: " + e.what());
  }
}

std::vector<CleanedDocumentRecord> FeatureStore::documents_to_chunk(const std::string& author,
                                                                    const std::string& cleaner,
                                                                    const std::string& chunker,
                                                                    int64_t after_id, int limit) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<CleanedDocumentRecord> out;
  for (const auto& row : tx.exec_params(
           "SELECT k.id, d.id, d.author, d.platform, d.kind, d.url, d.version, k.content "
           "FROM cleaned_documents k JOIN documents d ON d.id = k.document_id "
           "WHERE d.is_latest AND ($1 = '' OR d.author = $1) AND k.cleaner = $2 AND k.id > $4 "
           "AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.cleaned_document_id = k.id "
           "                AND c.chunker = $3 AND c.is_current) "
           "ORDER BY k.id LIMIT $5",
           author, cleaner, chunker, after_id, limit)) {
    CleanedDocumentRecord r;
    r.id = row[0].as<int64_t>();
    r.document_id = row[1].as<int64_t>();
    r.author = row[2].as<std::string>();
    r.platform = row[3].as<std::string>();
    r.kind = row[4].as<std::string>();
    r.url = row[5].as<std::string>();
    r.document_version = row[6].as<int>();
    r.content = row[7].as<std::string>();
    out.push_back(std::move(r));
  }
  return out;
}

int FeatureStore::replace_current_chunks(const std::vector<DocumentChunks>& batch,
                                         const std::string& chunker, int64_t step_run_id) {
  if (batch.empty()) return 0;
  std::vector<std::string> authors, urls;
  for (const DocumentChunks& doc : batch) {
    authors.push_back(doc.author);
    urls.push_back(doc.url);
  }
  // Analysed before the transaction opens (store/english_analyzer.h).
  std::vector<SearchTerms> made;  // for chunks that come without
  for (const DocumentChunks& doc : batch)
    for (const ChunkToStore& c : doc.chunks)
      if (!c.terms) made.push_back(search_terms(c.content));
  std::vector<const SearchTerms*> analyses;
  size_t next_made = 0;
  for (const DocumentChunks& doc : batch)
    for (const ChunkToStore& c : doc.chunks)
      analyses.push_back(c.terms ? &*c.terms : &made[next_made++]);
  // The postings grouped by word on a thread of their own, while the
  // database takes the chunks: it is most of the counting's own work.
  std::future<GroupedTerms> grouped =
      std::async(std::launch::async, [&analyses] { return group_terms(analyses); });
  try {
    pqxx::work tx(impl_->connection);
    tx.exec(kBatchCommit);
    // Every earlier chunk of any version of these URLs stops being current.
    tx.exec_params(
        "UPDATE chunks SET is_current = false WHERE is_current AND document_id IN "
        "(SELECT d.id FROM documents d JOIN unnest($1::text[], $2::text[]) AS u(author, url) "
        " ON d.author = u.author AND d.url = u.url)",
        to_pg_text_array(authors), to_pg_text_array(urls));
    // The new chunks by COPY into a scratch table (see insert_cleaned_documents),
    // then one INSERT, so the statement-level triggers on chunks run once. The
    // chunks come analysed, and are counted in the BM25 statistics
    // here rather than by the insert trigger (migration 0022).
    tx.exec(
        "CREATE TEMP TABLE chunk_batch (n int, chunk_key text, cleaned_document_id bigint, "
        "document_id bigint, kind text, position int, start_offset int, end_offset int, "
        "content text) ON COMMIT DROP");
    int rows = 0;
    {
      CopyStream copy(tx, "chunk_batch",
                      {"n", "chunk_key", "cleaned_document_id", "document_id", "kind", "position",
                       "start_offset", "end_offset", "content"});
      for (const DocumentChunks& doc : batch)
        for (const ChunkToStore& c : doc.chunks) {
          copy.row().integer(rows++).text(c.chunk_key).integer(doc.cleaned_document_id);
          copy.row().integer(doc.document_id).text(doc.kind).integer(c.position);
          copy.row().integer(c.start_offset).integer(c.end_offset).text(c.content);
          copy.end_row();
        }
      copy.complete();
    }
    int inserted = 0;
    if (rows > 0) {
      tx.exec("SELECT set_config('twinflow.bm25_counted_by_writer', 'on', true)");
      const pqxx::result result = tx.exec_params(
          "INSERT INTO chunks (chunk_key, cleaned_document_id, document_id, chunker, kind, "
          "position, start_offset, end_offset, content, step_run_id) "
          "SELECT b.chunk_key, b.cleaned_document_id, b.document_id, $1, b.kind, "
          "b.position, b.start_offset, b.end_offset, b.content, $2 "
          "FROM chunk_batch b ORDER BY b.n "
          "ON CONFLICT (chunk_key) DO UPDATE SET is_current = true "
          "RETURNING id, document_id, kind, (xmax = 0) AS inserted, chunk_key",
          chunker, nullable_id(step_run_id));
      tx.exec("SELECT set_config('twinflow.bm25_counted_by_writer', 'off', true)");
      std::unordered_map<std::string, size_t> row_of_key;
      size_t n = 0;
      for (const DocumentChunks& doc : batch)
        for (const ChunkToStore& c : doc.chunks) row_of_key.emplace(c.chunk_key, n++);
      std::vector<NewChunkAnalysis> counted;
      for (const auto& row : result) {
        if (!row[3].as<bool>()) continue;
        ++inserted;
        const size_t at = row_of_key.at(row[4].as<std::string>());
        counted.push_back({row[0].as<int64_t>(), row[1].as<int64_t>(), row[2].as<std::string>(),
                           analyses.at(at), static_cast<uint32_t>(at)});
      }
      count_new_chunks(tx, counted, grouped.get());
    }
    tx.commit();
    return inserted;
  } catch (const pqxx::sql_error& e) {
    throw Error("recording the chunks of " + std::to_string(batch.size()) +
                " documents: " + e.what());
  }
}

}  // namespace twinflow

namespace twinflow {

std::vector<DocumentRecord> FeatureStore::latest_document_heads(const std::string& author) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<DocumentRecord> out;
  for (const auto& row :
       tx.exec_params("SELECT d.id, d.url, d.version, d.content_sha256 FROM documents d "
                      "WHERE d.is_latest AND ($1 = '' OR d.author = $1) ORDER BY d.id",
                      author)) {
    DocumentRecord d;
    d.id = row[0].as<int64_t>();
    d.url = row[1].as<std::string>();
    d.version = row[2].as<int>();
    d.content_sha256 = row[3].as<std::string>();
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<int64_t> FeatureStore::current_chunk_ids(const ChunkFilter& filter) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<int64_t> out;
  for (const auto& row :
       tx.exec_params("SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE" +
                          chunk_filter_sql(1) + "ORDER BY c.id",
                      filter.author, filter.kind, filter.platform))
    out.push_back(row[0].as<int64_t>());
  return out;
}

}  // namespace twinflow

// --- Streamed scans for the steps' manifests (see store.h) -----------------------

namespace twinflow {
namespace {

constexpr int kScanPage = 20000;  // rows per page of a scan

}  // namespace

void FeatureStore::for_each_latest_document_head(
    const std::string& author, const std::function<void(const DocumentRecord&)>& visit) {
  for (int64_t after = 0;;) {
    pqxx::nontransaction tx(impl_->connection);
    auto rows = tx.exec_params(
        "SELECT d.id, d.url, d.version, d.content_sha256 FROM documents d "
        "WHERE d.is_latest AND ($1 = '' OR d.author = $1) AND d.id > $2 ORDER BY d.id LIMIT $3",
        author, after, kScanPage);
    for (const auto& row : rows) {
      DocumentRecord d;
      d.id = row[0].as<int64_t>();
      d.url = row[1].as<std::string>();
      d.version = row[2].as<int>();
      d.content_sha256 = row[3].as<std::string>();
      visit(d);
      after = d.id;
    }
    if (rows.size() < static_cast<size_t>(kScanPage)) return;
  }
}

IdDigest FeatureStore::current_chunks_digest(const ChunkFilter& filter) {
  pqxx::nontransaction tx(impl_->connection);
  return read_id_digest(tx.exec_params1(
      id_digest_sql("SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE" +
                    chunk_filter_sql(1)),
      filter.author, filter.kind, filter.platform));
}

}  // namespace twinflow

namespace twinflow {

std::vector<ChunkText> FeatureStore::current_chunks_sample(const ChunkFilter& filter,
                                                           int64_t max_chunks) {
  pqxx::nontransaction tx(impl_->connection);
  const int64_t total =
      tx.exec_params1(
            "SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id "
            "WHERE" +
                chunk_filter_sql(1),
            filter.author, filter.kind, filter.platform)[0]
          .as<int64_t>();
  const int64_t stride =
      std::max<int64_t>(1, (total + max_chunks - 1) / std::max<int64_t>(1, max_chunks));
  std::vector<ChunkText> out;
  for (const auto& row : tx.exec_params(
           "SELECT s.id, c.content, s.title FROM (SELECT c.id, d.title, "
           "row_number() OVER (ORDER BY c.id) AS n "
           "FROM chunks c JOIN documents d ON d.id = c.document_id WHERE" +
               chunk_filter_sql(1) +
               ") AS s JOIN chunks c ON c.id = s.id WHERE (s.n - 1) % $4 = 0 ORDER BY s.id",
           filter.author, filter.kind, filter.platform, stride))
    out.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>()});
  return out;
}

}  // namespace twinflow
