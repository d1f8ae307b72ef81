// Store: the approximate vector index of an embedding model, IVF lists and
// their codes kept in PostgreSQL (migrations 0017, 0021 and 0030; the
// algorithms: tasks/search/ivf.h).
//
// What a search reads per query travels as base64 text (util/base64.h): the
// centroids, as int8 codes, and the lists' int4 codes. PostgreSQL sends text
// as stored, where bytea's text form is hex written at about 3 ns a byte.
// The lists' exact vectors stay bytea (float32), read a hundred at a time.
// Writers of a model's lists take an advisory lock on (kLockClass, model
// id): the build holds it exclusively for the session (tried, not waited
// for), a search that assigns pending vectors shared for its transaction
// (tried too), so lists are never assigned with centroids that a rebuild is
// replacing.
#include "store/vector_index_store.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <unordered_set>

#include "store/bytea_text.h"
#include "store/store_impl.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/int4_codes.h"
#include "util/int8_codes.h"

namespace twinflow {
namespace {

constexpr int kLockClass = 721504;

std::string to_hex(const float* values, size_t n) {
  return bytes_to_hex(std::string_view(reinterpret_cast<const char*>(values), n * sizeof(float)));
}

// bytea text ("\x0a1b...") of n floats into `out`.
void from_bytea(std::string_view text, size_t n, float* out, int64_t id) {
  if (bytea_text_size(text) != n * sizeof(float) ||
      !decode_bytea_text(text, reinterpret_cast<unsigned char*>(out)))
    throw Error("vector index: malformed vector of chunk " + std::to_string(id));
}

// Centroids (migration 0030): per centroid, float32 scale then one int8 per
// dimension (util/int8_codes.h), as base64 text.
std::string encode_centroids(const std::vector<float>& centroids, size_t dim) {
  std::string bytes;
  std::vector<int8_t> code(dim);
  for (size_t at = 0; at + dim <= centroids.size(); at += dim) {
    const float scale = encode_int8(centroids.data() + at, dim, code.data());
    bytes.append(reinterpret_cast<const char*>(&scale), sizeof scale);
    bytes.append(reinterpret_cast<const char*>(code.data()), dim);
  }
  return base64_encode(bytes);
}

std::vector<float> decode_centroids(std::string_view text, size_t lists, size_t dim,
                                    int64_t model_id) {
  const size_t entry = sizeof(float) + dim;
  std::vector<unsigned char> bytes(base64_size(text) + 2);
  if (base64_size(text) != lists * entry || !base64_decode(text, bytes.data()))
    throw Error("vector index: the centroids of model " + std::to_string(model_id) +
                " are malformed");
  std::vector<float> out(lists * dim);
  for (size_t l = 0; l < lists; ++l) {
    float scale;
    std::memcpy(&scale, bytes.data() + l * entry, sizeof scale);
    decode_int8(reinterpret_cast<const int8_t*>(bytes.data() + l * entry + sizeof scale), scale,
                dim, out.data() + l * dim);
  }
  return out;
}

// A code entry (migration 0030): int64 chunk id, float32 scale, then the
// int4 code (util/int4_codes.h). A row's entries are stored as base64 text.
constexpr size_t kCodeHeader = sizeof(int64_t) + sizeof(float);

void append_code(std::string& block, int64_t id, const float* x, size_t dim) {
  std::vector<uint8_t> code(int4_code_bytes(dim));
  const float scale = encode_int4(x, dim, code.data());
  block.append(reinterpret_cast<const char*>(&id), sizeof id);
  block.append(reinterpret_cast<const char*>(&scale), sizeof scale);
  block.append(reinterpret_cast<const char*>(code.data()), code.size());
}

// "{a,b,c}" (real[] text) of n floats into `out`.
void from_array_literal(std::string_view text, size_t n, float* out, int64_t id) {
  const char* p = text.data() + 1;
  const char* end = text.data() + text.size();
  for (size_t i = 0; i < n; ++i) {
    auto [next, ec] = std::from_chars(p, end, out[i]);
    if (ec != std::errc()) throw Error("malformed vector of chunk " + std::to_string(id));
    p = next + 1;
  }
}

std::string to_pg_int_array(const std::vector<int>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + std::to_string(values[i]);
  return out + "}";
}

// Reads (id, vector) rows; `array` when the vector is real[] text, else bytea.
ListedVectors read_vectors(const pqxx::result& rows, size_t dimension, bool array) {
  ListedVectors out;
  out.ids.reserve(rows.size());
  out.data.resize(rows.size() * dimension);
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t id = rows[i][0].as<int64_t>();
    out.ids.push_back(id);
    const std::string_view text(rows[i][1].c_str(), rows[i][1].size());
    if (array)
      from_array_literal(text, dimension, out.data.data() + i * dimension, id);
    else
      from_bytea(text, dimension, out.data.data() + i * dimension, id);
  }
  return out;
}

}  // namespace

std::optional<VectorIndexRecord> VectorIndexStore::index(int64_t model_id, bool with_centroids) {
  pqxx::nontransaction tx(impl_->connection);
  auto rows = tx.exec_params(
      std::string("SELECT model_id, dimension, lists, trained_on, assigned, created_at::text") +
          (with_centroids ? ", centroids" : "") + " FROM vector_indexes WHERE model_id = $1",
      model_id);
  if (rows.empty()) return std::nullopt;
  VectorIndexRecord r;
  r.model_id = rows[0][0].as<int64_t>();
  r.dimension = rows[0][1].as<int>();
  r.lists = rows[0][2].as<int>();
  r.trained_on = rows[0][3].as<int64_t>();
  r.assigned = rows[0][4].as<int64_t>();
  r.created_at = rows[0][5].as<std::string>();
  if (with_centroids && r.lists > 0)
    r.centroids =
        decode_centroids(std::string_view(rows[0][6].c_str(), rows[0][6].size()),
                         static_cast<size_t>(r.lists), static_cast<size_t>(r.dimension), model_id);
  return r;
}

int64_t VectorIndexStore::embedding_count(int64_t model_id) {
  pqxx::nontransaction tx(impl_->connection);
  return tx.exec_params1("SELECT count(*) FROM embeddings WHERE model_id = $1", model_id)[0]
      .as<int64_t>();
}

bool VectorIndexStore::begin(const EmbeddingModelRecord& model) {
  {
    pqxx::nontransaction lock(impl_->connection);
    if (!lock.exec_params1("SELECT pg_try_advisory_lock($1, $2::int)", kLockClass, model.id)[0]
             .as<bool>())
      return false;
  }
  try {
    pqxx::work tx(impl_->connection);
    tx.exec("LOCK TABLE embeddings IN SHARE MODE");
    tx.exec_params(
        "INSERT INTO vector_indexes (model_id, dimension, lists, centroids) "
        "VALUES ($1, $2, 0, '') ON CONFLICT (model_id) DO UPDATE SET lists = 0, centroids = '', "
        "trained_on = 0, assigned = 0, created_at = clock_timestamp()",
        model.id, model.dimension);
    tx.exec_params("DELETE FROM vector_lists WHERE model_id = $1", model.id);
    tx.exec_params("DELETE FROM vector_codes WHERE model_id = $1", model.id);
    tx.exec_params("DELETE FROM vector_pending WHERE model_id = $1", model.id);
    tx.commit();
  } catch (...) {
    end_build(model);
    throw;
  }
  return true;
}

ListedVectors VectorIndexStore::embeddings_of(const EmbeddingModelRecord& model,
                                              const std::vector<int64_t>& chunk_ids) {
  pqxx::nontransaction tx(impl_->connection);
  return read_vectors(tx.exec_params("SELECT chunk_id, vector::text FROM embeddings "
                                     "WHERE model_id = $1 AND chunk_id = ANY ($2::bigint[]) "
                                     "ORDER BY chunk_id",
                                     model.id, to_pg_bigint_array(chunk_ids)),
                      static_cast<size_t>(model.dimension), true);
}

ListedVectors VectorIndexStore::embedding_page(const EmbeddingModelRecord& model, int64_t after_id,
                                               int limit) {
  pqxx::nontransaction tx(impl_->connection);
  return read_vectors(tx.exec_params("SELECT chunk_id, vector::text FROM embeddings "
                                     "WHERE model_id = $1 AND chunk_id > $2 "
                                     "ORDER BY chunk_id LIMIT $3",
                                     model.id, after_id, limit),
                      static_cast<size_t>(model.dimension), true);
}

bool VectorIndexStore::add_to_lists(const EmbeddingModelRecord& model, const ListedVectors& vectors,
                                    const std::string& built_at) {
  if (vectors.ids.empty()) return true;
  const auto dim = static_cast<size_t>(model.dimension);
  std::vector<std::string> hex;
  hex.reserve(vectors.ids.size());
  for (size_t i = 0; i < vectors.ids.size(); ++i)
    hex.push_back(to_hex(vectors.data.data() + i * dim, dim));
  pqxx::work tx(impl_->connection);
  const bool assigning = !built_at.empty();
  if (assigning &&
      !tx.exec_params1("SELECT pg_try_advisory_xact_lock_shared($1, $2::int) AND EXISTS (SELECT 1 "
                       "FROM vector_indexes WHERE model_id = $2 AND lists > 0 "
                       "AND created_at::text = $3)",
                       kLockClass, model.id, built_at)[0]
           .as<bool>())
    return false;  // a rebuild is running or has replaced the centroids
  const auto ids = to_pg_bigint_array(vectors.ids);
  auto inserted = tx.exec_params(
      "INSERT INTO vector_lists (model_id, chunk_id, list, vector) "
      "SELECT $1, u.id, u.list, decode(u.hex, 'hex') "
      "FROM unnest($2::bigint[], $3::int[], $4::text[]) AS u (id, list, hex) "
      "ON CONFLICT DO NOTHING RETURNING chunk_id",
      model.id, ids, to_pg_int_array(vectors.lists), to_pg_text_array(hex));
  // The codes of the vectors just listed, one block per list.
  std::unordered_set<int64_t> listed;
  for (const auto& row : inserted) listed.insert(row[0].as<int64_t>());
  std::map<int, std::string> blocks;
  for (size_t i = 0; i < vectors.ids.size(); ++i)
    if (listed.contains(vectors.ids[i]))
      append_code(blocks[vectors.lists[i]], vectors.ids[i], vectors.data.data() + i * dim, dim);
  std::vector<int> block_lists;
  std::vector<std::string> block_text;
  for (const auto& [list, bytes] : blocks) {
    block_lists.push_back(list);
    block_text.push_back(base64_encode(bytes));
  }
  if (!block_lists.empty())
    tx.exec_params(
        "INSERT INTO vector_codes (model_id, list, entries) "
        "SELECT $1, u.list, u.entries FROM unnest($2::int[], $3::text[]) AS u (list, entries)",
        model.id, to_pg_int_array(block_lists), to_pg_text_array(block_text));
  tx.exec_params("DELETE FROM vector_pending WHERE model_id = $1 AND chunk_id = ANY ($2::bigint[])",
                 model.id, ids);
  if (assigning)
    tx.exec_params("UPDATE vector_indexes SET assigned = assigned + $2 WHERE model_id = $1",
                   model.id, static_cast<int64_t>(inserted.affected_rows()));
  tx.commit();
  return true;
}

void VectorIndexStore::finish(const EmbeddingModelRecord& model, int lists,
                              const std::vector<float>& centroids, int64_t listed) {
  {
    pqxx::work tx(impl_->connection);
    tx.exec_params(
        "UPDATE vector_indexes SET lists = $2, centroids = $3, trained_on = $4, "
        "assigned = 0, created_at = clock_timestamp() WHERE model_id = $1",
        model.id, lists, encode_centroids(centroids, static_cast<size_t>(model.dimension)), listed);
    tx.exec_params(
        "DELETE FROM vector_pending p WHERE p.model_id = $1 AND EXISTS (SELECT 1 FROM "
        "vector_lists l WHERE l.model_id = p.model_id AND l.chunk_id = p.chunk_id)",
        model.id);
    tx.commit();
  }
  end_build(model);
}

std::vector<float> VectorIndexStore::as_stored(const std::vector<float>& centroids, int dimension) {
  const auto dim = static_cast<size_t>(dimension);
  return decode_centroids(encode_centroids(centroids, dim), centroids.size() / dim, dim, 0);
}

void VectorIndexStore::end_build(const EmbeddingModelRecord& model) {
  pqxx::nontransaction tx(impl_->connection);
  tx.exec_params("SELECT pg_advisory_unlock($1, $2::int)", kLockClass, model.id);
}

ListedVectors VectorIndexStore::pending(const EmbeddingModelRecord& model, int limit) {
  pqxx::nontransaction tx(impl_->connection);
  return read_vectors(
      tx.exec_params("SELECT p.chunk_id, e.vector::text FROM vector_pending p "
                     "JOIN embeddings e ON e.model_id = p.model_id AND e.chunk_id = p.chunk_id "
                     "WHERE p.model_id = $1 ORDER BY p.chunk_id LIMIT $2",
                     model.id, limit),
      static_cast<size_t>(model.dimension), true);
}

void VectorIndexStore::probe_codes(const EmbeddingModelRecord& model, const std::vector<int>& lists,
                                   const CodeVisitor& visit) {
  const auto dim = static_cast<size_t>(model.dimension);
  const size_t entry = kCodeHeader + int4_code_bytes(dim);
  // Through a cursor, a few hundred kilobytes at a time: each batch reuses
  // the memory of the one before, where the whole result (3 MB at 100,000
  // vectors, 30 MB at 1,000,000) would be fresh pages, each a page fault.
  pqxx::transaction<pqxx::isolation_level::read_committed, pqxx::readwrite_policy::read_only> tx(
      impl_->connection);
  tx.exec_params(
      "DECLARE codes NO SCROLL CURSOR FOR SELECT entries FROM vector_codes "
      "WHERE model_id = $1 AND list = ANY ($2::int[])",
      model.id, to_pg_int_array(lists));
  std::vector<unsigned char> bytes;  // one row's entries, decoded
  for (;;) {
    const auto rows = tx.exec("FETCH 32 FROM codes");
    if (rows.empty()) break;
    for (const auto& row : rows) {
      const std::string_view text(row[0].c_str(), row[0].size());
      const size_t n = base64_size(text);
      bytes.resize(n + 2);
      if (n == 0 || n % entry != 0 || !base64_decode(text, bytes.data()))
        throw Error("vector index: a block of codes is malformed");
      for (const unsigned char* e = bytes.data(); e < bytes.data() + n; e += entry) {
        int64_t id;
        float scale;
        std::memcpy(&id, e, sizeof id);
        std::memcpy(&scale, e + sizeof id, sizeof scale);
        visit(id, scale, e + kCodeHeader);
      }
    }
  }
  tx.commit();
}

ListedVectors VectorIndexStore::exact_searchable(const EmbeddingModelRecord& model,
                                                 const std::vector<int64_t>& chunk_ids,
                                                 const ChunkFilter& filter) {
  if (chunk_ids.empty()) return {};
  pqxx::nontransaction tx(impl_->connection);
  // bm25_chunks (migration 0012) holds exactly the searchable chunks with
  // their scope (author, platform, kind).
  return read_vectors(tx.exec_params("SELECT l.chunk_id, l.vector FROM vector_lists l "
                                     "JOIN bm25_chunks b ON b.chunk_id = l.chunk_id "
                                     "WHERE l.model_id = $1 AND l.chunk_id = ANY ($2::bigint[]) "
                                     "AND b.scope_id = ANY (ARRAY(SELECT id FROM bm25_scopes "
                                     "  WHERE ($3 = '' OR author = $3) AND ($4 = '' OR kind = $4) "
                                     "  AND ($5 = '' OR platform = $5)))",
                                     model.id, to_pg_bigint_array(chunk_ids), filter.author,
                                     filter.kind, filter.platform),
                      static_cast<size_t>(model.dimension), false);
}

}  // namespace twinflow
