// Store: embedding models and the vectors of chunks (migration 0003).
//
// Vectors travel as PostgreSQL array literals ("{0.125,-0.5,...}"): written
// with COPY, which takes thousands of rows per round trip, and read back with
// std::from_chars, which parses a 256-d vector in about a microsecond.
#include <charconv>
#include <cmath>

#include "store/copy_binary.h"
#include "store/copy_text.h"
#include "store/feature_store.h"
#include "store/store_impl.h"
#include "util/error.h"

namespace twinflow {
namespace {

const char* const kModelColumns =
    "id, name, version, provider, dimension, coalesce(model_sha256, ''), settings::text, "
    "created_at::text";

EmbeddingModelRecord read_model(const pqxx::row& row) {
  EmbeddingModelRecord m;
  m.id = row[0].as<int64_t>();
  m.name = row[1].as<std::string>();
  m.version = row[2].as<int>();
  m.provider = row[3].as<std::string>();
  m.dimension = row[4].as<int>();
  m.model_sha256 = row[5].as<std::string>();
  m.settings = nlohmann::json::parse(row[6].as<std::string>());
  m.created_at = row[7].as<std::string>();
  return m;
}

std::string array_literal(const float* values, int n) {
  std::string out = "{";
  char buf[32];
  for (int i = 0; i < n; ++i) {
    if (i) out.push_back(',');
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, values[i]);
    out.append(buf, end);
  }
  out.push_back('}');
  return out;
}

// Parses "{a,b,c}" into `out`, which must have room for `dimension` floats.
void parse_array_literal(std::string_view text, int dimension, float* out, int64_t chunk_id) {
  const char* p = text.data() + 1;  // past '{'
  const char* end = text.data() + text.size();
  for (int i = 0; i < dimension; ++i) {
    auto [next, ec] = std::from_chars(p, end, out[i]);
    if (ec != std::errc()) throw Error("malformed vector of chunk " + std::to_string(chunk_id));
    p = next + 1;  // past ',' or '}'
  }
}

}  // namespace

std::optional<EmbeddingModelRecord> FeatureStore::current_embedding_model(const std::string& name) {
  pqxx::nontransaction tx(impl_->connection);
  auto rows = tx.exec_params(std::string("SELECT ") + kModelColumns +
                                 " FROM embedding_models WHERE name = $1 "
                                 "ORDER BY version DESC LIMIT 1",
                             name);
  if (rows.empty()) return std::nullopt;
  return read_model(rows[0]);
}

EmbeddingModelRecord FeatureStore::register_embedding_model(
    const std::string& name, const std::string& provider, int dimension,
    const std::string& model_sha256, const nlohmann::json& settings, int64_t step_run_id) {
  try {
    pqxx::work tx(impl_->connection);
    // Every current chunk waits for the new version (migration 0026). The
    // SHARE lock waits for the chunk writers in flight and holds off new ones
    // until the version is committed: a chunk is either queued here or by the
    // insert trigger, which sees the version from then on.
    tx.exec("LOCK TABLE chunks IN SHARE MODE");
    // The unique (name, version) makes a concurrent registration fail rather
    // than share a version number.
    auto row = tx.exec_params1(
        std::string(
            "INSERT INTO embedding_models (name, version, provider, dimension, "
            "model_sha256, settings, step_run_id) "
            "SELECT $1, coalesce(max(version), 0) + 1, $2, $3, nullif($4, ''), $5::jsonb, $6 "
            "FROM embedding_models WHERE name = $1 RETURNING ") +
            kModelColumns,
        name, provider, dimension, model_sha256, settings.dump(), nullable_id(step_run_id));
    EmbeddingModelRecord model = read_model(row);
    tx.exec_params(
        "DELETE FROM embedding_queue q USING embedding_models m "
        "WHERE q.model_id = m.id AND m.name = $1 AND m.id <> $2",
        name, model.id);
    tx.exec_params(
        "INSERT INTO embedding_queue (model_id, chunk_id) "
        "SELECT $1, c.id FROM chunks c WHERE c.is_current",
        model.id);
    tx.commit();
    return model;
  } catch (const pqxx::sql_error& e) {
    throw Error("registering embedding model " + name + ": " + e.what());
  }
}

std::vector<ChunkText> FeatureStore::chunks_without_embedding(int64_t model_id,
                                                              const ChunkFilter& filter) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<ChunkText> out;
  for (const auto& row : tx.exec_params(
           "SELECT c.id, c.content, d.title FROM chunks c JOIN documents d ON d.id = c.document_id "
           "WHERE" +
               chunk_filter_sql(1) +
               "AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.model_id = $4 "
               "AND e.chunk_id = c.id) ORDER BY c.id",
           filter.author, filter.kind, filter.platform, model_id))
    out.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>()});
  return out;
}

void FeatureStore::insert_embeddings(const EmbeddingModelRecord& model,
                                     const std::vector<int64_t>& ids,
                                     const std::vector<float>& vectors, int64_t step_run_id) {
  const size_t dim = static_cast<size_t>(model.dimension);
  if (vectors.size() != ids.size() * dim)
    throw Error("insert_embeddings: " + std::to_string(vectors.size()) + " floats for " +
                std::to_string(ids.size()) + " vectors of dimension " + std::to_string(dim));
  if (ids.empty()) return;
  // Unit length (or all zeros: a text with no term the model knows), which
  // search's dot products assume. Checked here rather than by the table
  // (migration 0024): in SQL it cost ~45 µs per 256-d vector.
  for (size_t i = 0; i < ids.size(); ++i) {
    double squares = 0;
    for (size_t d = 0; d < dim; ++d) squares += double{vectors[i * dim + d]} * vectors[i * dim + d];
    const double norm = std::sqrt(squares);
    if (!(norm == 0 || std::abs(norm - 1) < 1e-3))
      throw Error("storing embeddings of model " + model.name + " v" +
                  std::to_string(model.version) + ": the vector of chunk " +
                  std::to_string(ids[i]) + " has norm " + std::to_string(norm) +
                  ", not 1 (or 0); nothing was stored");
  }
  try {
    pqxx::work tx(impl_->connection);
    tx.exec("SET LOCAL synchronous_commit = off");  // why: kBatchCommit, store_documents.cc
    CopyStream copy(tx, "embeddings",
                    {"chunk_id", "model_id", "dimension", "vector", "step_run_id"});
    for (size_t i = 0; i < ids.size(); ++i) {
      copy.row().integer(ids[i]).integer(model.id).integer(model.dimension);
      copy.row().text(array_literal(vectors.data() + i * dim, model.dimension));
      step_run_id ? copy.row().integer(step_run_id) : copy.row().null();
      copy.end_row();
    }
    copy.complete();
    tx.commit();
  } catch (const pqxx::sql_error& e) {
    throw Error("storing embeddings of model " + model.name + " v" + std::to_string(model.version) +
                ": " + e.what());
  }
}

std::string FeatureStore::vectors_signature(const EmbeddingModelRecord& model,
                                            const ChunkFilter& filter) {
  pqxx::nontransaction tx(impl_->connection);
  // Global rather than per filter: any change anywhere only costs a reload.
  // Counting the rows of embeddings, chunks and documents instead took
  // 0.3-0.7 s at 1M chunks; the change log stays small (its rows are folded
  // into the total after each data step), and both counts are read in one
  // statement, one snapshot, so a fold between them cannot move the sum.
  auto row = tx.exec1(
      "SELECT (SELECT changes FROM feature_changes_compacted) + "
      "(SELECT count(*) FROM feature_changes)");
  std::string signature =
      std::to_string(model.id) + ":" + filter.author + ":" + filter.kind + ":" + filter.platform;
  for (const auto& field : row) signature += ":" + field.as<std::string>();
  return signature;
}

ChunkVectors FeatureStore::load_vectors(const EmbeddingModelRecord& model,
                                        const ChunkFilter& filter) {
  ChunkVectors out;
  out.dimension = model.dimension;
  load_vectors(model, filter, [&](const ChunkVectors& page) {
    out.ids.insert(out.ids.end(), page.ids.begin(), page.ids.end());
    out.versions.insert(out.versions.end(), page.versions.begin(), page.versions.end());
    out.data.insert(out.data.end(), page.data.begin(), page.data.end());
  });
  return out;
}

namespace {

// The columns a page of vectors is read from: chunk id, row version (xmin, a
// 32-bit transaction id, through text: xid has no cast to an integer) and
// the vector.
constexpr const char* kVectorColumns = "SELECT e.chunk_id, e.xmin::text::bigint, e.vector::text";

// Fills `page` from rows of kVectorColumns.
void read_vector_page(const pqxx::result& rows, int dimension, ChunkVectors& page) {
  const auto dim = static_cast<size_t>(dimension);
  page.dimension = dimension;
  page.ids.clear();
  page.versions.clear();
  page.data.resize(rows.size() * dim);
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t id = rows[i][0].as<int64_t>();
    page.ids.push_back(id);
    page.versions.push_back(static_cast<uint32_t>(rows[i][1].as<int64_t>()));
    parse_array_literal(rows[i][2].c_str(), dimension, page.data.data() + i * dim, id);
  }
}

}  // namespace

void FeatureStore::load_vectors(const EmbeddingModelRecord& model, const ChunkFilter& filter,
                                const std::function<void(const ChunkVectors& page)>& each_page,
                                int page_size) {
  // In COPY's binary format (copy_binary.h), one statement, so one snapshot:
  // what a writer commits meanwhile is seen by the next load (the vectors'
  // signature moves), never half of it by this one.
  BinaryCopyReader copy(impl_->connection.conninfo(), "loading the vectors of model " + model.name +
                                                          " v" + std::to_string(model.version));
  copy.start(
      "SELECT e.chunk_id, e.xmin, e.vector FROM embeddings e "
      "JOIN chunks c ON c.id = e.chunk_id JOIN documents d ON d.id = c.document_id "
      "WHERE e.model_id = " +
      std::to_string(model.id) + " AND" +
      chunk_filter_sql(copy.literal(filter.author), copy.literal(filter.kind),
                       copy.literal(filter.platform)) +
      "ORDER BY e.chunk_id");
  const auto dim = static_cast<size_t>(model.dimension);
  const auto limit = static_cast<size_t>(std::max(page_size, 1));
  ChunkVectors page;
  page.dimension = model.dimension;
  page.data.reserve(limit * dim);
  const auto flush = [&] {
    if (!page.ids.empty()) each_page(page);
    page.ids.clear();
    page.versions.clear();
    page.data.clear();
  };
  std::vector<std::string_view> fields;
  while (copy.next(fields)) {
    if (fields.size() != 3)
      throw Error("loading vectors: a row of " + std::to_string(fields.size()) + " fields");
    page.ids.push_back(copy_int8(fields[0]));
    page.versions.push_back(copy_uint4(fields[1]));
    page.data.resize(page.data.size() + dim);
    copy_float4_array(fields[2], model.dimension, page.data.data() + page.data.size() - dim);
    if (page.ids.size() == limit) flush();
  }
  flush();
}

void FeatureStore::load_vectors_of(const EmbeddingModelRecord& model,
                                   const std::vector<int64_t>& chunk_ids,
                                   const std::function<void(const ChunkVectors& page)>& each_page,
                                   int page_size) {
  pqxx::nontransaction tx(impl_->connection);
  ChunkVectors page;
  const auto step = static_cast<size_t>(std::max(page_size, 1));
  for (size_t begin = 0; begin < chunk_ids.size(); begin += step) {
    const std::vector<int64_t> ids(chunk_ids.begin() + begin,
                                   chunk_ids.begin() + std::min(chunk_ids.size(), begin + step));
    auto rows = tx.exec_params(std::string(kVectorColumns) +
                                   " FROM unnest($2::bigint[]) AS q(id) JOIN embeddings e "
                                   "ON e.model_id = $1 AND e.chunk_id = q.id ORDER BY e.chunk_id",
                               model.id, to_pg_bigint_array(ids));
    read_vector_page(rows, model.dimension, page);
    if (!page.ids.empty()) each_page(page);
  }
}

std::vector<EmbeddedRow> FeatureStore::embedded_rows(const EmbeddingModelRecord& model,
                                                     const ChunkFilter& filter) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<EmbeddedRow> out;
  for (const auto& row :
       tx.exec_params("SELECT e.chunk_id, e.xmin::text::bigint FROM embeddings e "
                      "JOIN chunks c ON c.id = e.chunk_id JOIN documents d ON d.id = c.document_id "
                      "WHERE e.model_id = $1 AND" +
                          chunk_filter_sql(2) + "ORDER BY e.chunk_id",
                      model.id, filter.author, filter.kind, filter.platform))
    out.push_back({row[0].as<int64_t>(), static_cast<uint32_t>(row[1].as<int64_t>())});
  return out;
}

}  // namespace twinflow

namespace twinflow {

EmbedPage FeatureStore::chunks_to_embed(const EmbeddingModelRecord& model,
                                        const ChunkFilter& filter, int64_t after_id, int limit) {
  // Two statements, each over a primary key. One join of the queue with the
  // chunks had a plan that depended on the queue's statistics: stale (the
  // queue filled by one statement), each page joined all the rest of the
  // queue (1 s per page at 200k chunks); fresh, each page hash-joined it
  // (100 s of reads at 1M chunks).
  pqxx::nontransaction tx(impl_->connection);
  std::vector<int64_t> queued;
  for (const auto& row : tx.exec_params("SELECT chunk_id FROM embedding_queue "
                                        "WHERE model_id = $1 AND chunk_id > $2 "
                                        "ORDER BY chunk_id LIMIT $3",
                                        model.id, after_id, limit))
    queued.push_back(row[0].as<int64_t>());
  EmbedPage page;
  if (queued.empty()) return page;
  page.last_queued = queued.back();
  for (const auto& row : tx.exec_params(
           "SELECT c.id, c.content, d.title FROM unnest($4::bigint[]) AS q(id) "
           "JOIN chunks c ON c.id = q.id JOIN documents d ON d.id = c.document_id "
           "WHERE" +
               chunk_filter_sql(1) +
               "AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.model_id = $5 "
               "AND e.chunk_id = c.id) ORDER BY c.id",
           filter.author, filter.kind, filter.platform, to_pg_bigint_array(queued), model.id))
    page.chunks.push_back(
        {row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>()});
  return page;
}

int64_t FeatureStore::sweep_embedding_queue(const EmbeddingModelRecord& model) {
  pqxx::nontransaction tx(impl_->connection);
  return tx
      .exec_params(
          "DELETE FROM embedding_queue q WHERE q.model_id = $1 AND NOT EXISTS "
          "(SELECT 1 FROM chunks c WHERE c.id = q.chunk_id AND c.is_current)",
          model.id)
      .affected_rows();
}

IdDigest FeatureStore::embedded_chunks_digest(const EmbeddingModelRecord& model,
                                              const ChunkFilter& filter) {
  pqxx::nontransaction tx(impl_->connection);
  return read_id_digest(tx.exec_params1(
      id_digest_sql("SELECT e.chunk_id AS id FROM embeddings e "
                    "JOIN chunks c ON c.id = e.chunk_id JOIN documents d ON d.id = c.document_id "
                    "WHERE e.model_id = $1 AND" +
                    chunk_filter_sql(2)),
      model.id, filter.author, filter.kind, filter.platform));
}

}  // namespace twinflow
