// Store: compaction of the BM25 blocks that hold postings of removed chunks
// (migration 0025). Removing a chunk leaves its postings in its block and
// records the chunk as dead; this writes a block's rows again without them,
// in codec 2 whatever codec they had (store/bm25_postings.h).
// The filtering is done here: in SQL, unpacking and packing postings one by
// one cost about 24 µs per posting.
#include <algorithm>
#include <string_view>
#include <vector>

#include "store/bm25_postings.h"
#include "store/bytea_text.h"
#include "store/copy_text.h"
#include "store/feature_store.h"
#include "store/store_impl.h"
#include "util/error.h"

namespace twinflow {
namespace {

// One block: its rows without the dead chunks' postings, in one transaction
// holding the statistics' lock. A block compacted meanwhile is left alone.
void compact_block(pqxx::connection& connection, int scope, int64_t block) {
  pqxx::work tx(connection);
  tx.exec("SELECT twinflow_bm25_lock()");
  std::vector<int64_t> dead;
  for (const auto& row :
       tx.exec_params("SELECT unnest(chunk_ids) FROM bm25_dead WHERE scope_id = $1 AND block = $2",
                      scope, block))
    dead.push_back(row[0].as<int64_t>());
  if (dead.empty()) return;
  std::sort(dead.begin(), dead.end());

  const pqxx::result rows = tx.exec_params(
      "SELECT lexeme, postings, codec FROM bm25_blocks WHERE scope_id = $1 AND block = $2", scope,
      block);
  tx.exec(
      "CREATE TEMP TABLE bm25_compacted (lexeme text, postings bytea, chunks int, dropped int) "
      "ON COMMIT DROP");
  // Each changed row: its lexeme, kept postings (codec 2), kept and dropped chunks.
  CopyStream changed(tx, "bm25_compacted", {"lexeme", "postings", "chunks", "dropped"});
  std::string bytes;
  std::vector<Bm25Posting> all, kept;
  for (const auto& row : rows) {
    const std::string_view text(row[1].c_str(), row[1].size());
    bytes.resize(bytea_text_size(text));
    auto* data = reinterpret_cast<unsigned char*>(bytes.data());
    all.clear();
    if (!decode_bytea_text(text, data) ||
        !decode_postings(data, bytes.size(), row[2].as<int>(), nullptr, all))
      throw Error("compacting BM25 block " + std::to_string(block) +
                  ": a postings row is malformed");
    kept.clear();
    for (const Bm25Posting& p : all)
      if (!std::binary_search(dead.begin(), dead.end(), p.chunk_id)) kept.push_back(p);
    if (kept.size() == all.size()) continue;
    Bm25PostingEncoder encoder;
    for (const Bm25Posting& p : kept) encoder.add(p);
    changed.row().text(std::string_view(row[0].c_str(), row[0].size())).bytea(encoder.bytes());
    changed.row().integer(encoder.count()).integer(static_cast<int64_t>(all.size() - kept.size()));
    changed.end_row();
  }
  changed.complete();
  tx.exec_params(
      "UPDATE bm25_blocks b SET postings = c.postings, chunks = c.chunks, codec = 2 "
      "FROM bm25_compacted c "
      "WHERE b.scope_id = $1 AND b.block = $2 AND b.lexeme = c.lexeme AND c.chunks > 0",
      scope, block);
  tx.exec_params(
      "DELETE FROM bm25_blocks b USING bm25_compacted c "
      "WHERE b.scope_id = $1 AND b.block = $2 AND b.lexeme = c.lexeme AND c.chunks = 0",
      scope, block);
  tx.exec_params(
      "UPDATE bm25_dead_terms t SET chunks = t.chunks - c.dropped FROM bm25_compacted c "
      "WHERE t.scope_id = $1 AND t.lexeme = c.lexeme",
      scope);
  tx.exec_params(
      "DELETE FROM bm25_dead_terms t USING bm25_compacted c "
      "WHERE t.scope_id = $1 AND t.lexeme = c.lexeme AND t.chunks <= 0",
      scope);
  tx.exec_params("DELETE FROM bm25_dead WHERE scope_id = $1 AND block = $2", scope, block);
  tx.commit();
}

}  // namespace

int FeatureStore::compact_bm25_blocks(double min_dead_share) {
  if (!(min_dead_share >= 0 && min_dead_share <= 1))
    throw Error("compact_bm25_blocks: min_dead_share must be in [0, 1], got " +
                std::to_string(min_dead_share));
  std::vector<std::pair<int, int64_t>> blocks;
  try {
    {
      pqxx::nontransaction tx(impl_->connection);
      for (const auto& row : tx.exec_params(
               "SELECT d.scope_id, d.block FROM bm25_dead d "
               "WHERE cardinality(d.chunk_ids) >= $1::float8 * (cardinality(d.chunk_ids) + "
               "  (SELECT count(*) FROM bm25_chunks k "
               "    WHERE k.scope_id = d.scope_id AND k.block = d.block)) "
               "ORDER BY d.scope_id, d.block",
               min_dead_share))
        blocks.emplace_back(row[0].as<int>(), row[1].as<int64_t>());
    }
    for (const auto& [scope, block] : blocks) compact_block(impl_->connection, scope, block);
  } catch (const pqxx::sql_error& e) {
    throw Error("compacting the BM25 statistics: " + std::string(e.what()));
  }
  return static_cast<int>(blocks.size());
}

}  // namespace twinflow
