// Store: the approximate vector index of an embedding model, IVF lists and
// their codes kept in PostgreSQL (migrations 0017 and 0021; the algorithms:
// tasks/search/ivf.h).
//
// Vectors of the lists travel as hex (bytea's text form) of their float32
// bytes: no float parsing, and half the size of a decimal literal. Writers of
// a model's lists take an advisory lock on (kLockClass, model id): the build
// holds it exclusively for the session (tried, not waited for), a search that
// assigns pending vectors shared for its transaction (tried too), so lists
// are never assigned with centroids that a rebuild is replacing.
#include "store/vector_index_store.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <unordered_set>

#include "store/bytea_text.h"
#include "store/store_impl.h"
#include "util/error.h"
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

// A code entry (migration 0021): int64 chunk id, float32 scale, then one
// signed byte per dimension, x ≈ code × scale / 127 with scale = max |x|.
constexpr size_t kCodeHeader = sizeof(int64_t) + sizeof(float);

void append_code(std::string& block, int64_t id, const float* x, size_t dim) {
  std::vector<int8_t> code(dim);
  const float scale = encode_int8(x, dim, code.data());
  block.append(reinterpret_cast<const char*>(&id), sizeof id);
  block.append(reinterpret_cast<const char*>(&scale), sizeof scale);
  block.append(reinterpret_cast<const char*>(code.data()), dim);
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
  if (with_centroids && r.lists > 0) {
    const size_t n = static_cast<size_t>(r.lists) * static_cast<size_t>(r.dimension);
    r.centroids.resize(n);
    from_bytea(std::string_view(rows[0][6].c_str(), rows[0][6].size()), n, r.centroids.data(),
               model_id);
  }
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
  std::vector<std::string> block_hex;
  for (const auto& [list, bytes] : blocks) {
    block_lists.push_back(list);
    block_hex.push_back(bytes_to_hex(bytes));
  }
  if (!block_lists.empty())
    tx.exec_params(
        "INSERT INTO vector_codes (model_id, list, entries) "
        "SELECT $1, u.list, decode(u.hex, 'hex') "
        "FROM unnest($2::int[], $3::text[]) AS u (list, hex)",
        model.id, to_pg_int_array(block_lists), to_pg_text_array(block_hex));
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
        "UPDATE vector_indexes SET lists = $2, centroids = decode($3, 'hex'), trained_on = $4, "
        "assigned = 0, created_at = clock_timestamp() WHERE model_id = $1",
        model.id, lists, to_hex(centroids.data(), centroids.size()), listed);
    tx.exec_params(
        "DELETE FROM vector_pending p WHERE p.model_id = $1 AND EXISTS (SELECT 1 FROM "
        "vector_lists l WHERE l.model_id = p.model_id AND l.chunk_id = p.chunk_id)",
        model.id);
    tx.commit();
  }
  end_build(model);
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

ListedCodes VectorIndexStore::probe_codes(const EmbeddingModelRecord& model,
                                          const std::vector<int>& lists) {
  pqxx::nontransaction tx(impl_->connection);
  const auto dim = static_cast<size_t>(model.dimension);
  const size_t entry = kCodeHeader + dim;
  const auto rows = tx.exec_params(
      "SELECT entries FROM vector_codes WHERE model_id = $1 AND list = ANY ($2::int[])", model.id,
      to_pg_int_array(lists));
  // bytea text, "\x" and two hex digits per byte, decoded straight into place.
  const auto malformed = [] { throw Error("vector index: a block of codes is malformed"); };
  size_t total = 0;
  for (const auto& row : rows) {
    const size_t size = row[0].size();
    if (size < 2 || (size - 2) % (2 * entry) != 0) malformed();
    total += (size - 2) / (2 * entry);
  }
  ListedCodes out;
  out.ids.resize(total);
  out.scales.resize(total);
  out.codes.resize(total * dim);
  size_t i = 0;
  for (const auto& row : rows) {
    const char* hex = row[0].c_str();
    if (hex[0] != '\\' || hex[1] != 'x') malformed();
    hex += 2;
    for (const char* end = hex + row[0].size() - 2; hex < end; hex += 2 * entry, ++i) {
      unsigned char header[kCodeHeader];
      if (!decode_hex(hex, kCodeHeader, header) ||
          !decode_hex(hex + 2 * kCodeHeader, dim,
                      reinterpret_cast<unsigned char*>(out.codes.data() + i * dim)))
        malformed();
      std::memcpy(&out.ids[i], header, sizeof(int64_t));
      std::memcpy(&out.scales[i], header + sizeof(int64_t), sizeof(float));
    }
  }
  return out;
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
