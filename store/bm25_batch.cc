// count_new_chunks (see bm25_batch.h): the batch's postings are grouped in
// memory and written with COPY, a few statements per batch whatever its size.
#include "store/bm25_batch.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "store/bm25_postings.h"
#include "store/bytea_text.h"
#include "store/store_impl.h"

namespace twinflow {
namespace {

// At most this many chunks per block. A batch of the chunk step (pages of
// about 8 MB of text, some 12,000 chunks of articles) is then one block. The
// writes cost per row, and a row is a word of a block: the larger the block,
// the fewer rows per chunk (most words of a block are rare). Blocks of 10,000
// chunks wrote 765k rows at 10,000 documents where blocks of 2,000 wrote 1.63M
// (a chunk step 18-23% shorter); pages of 8 MB and blocks of 20,000 made the
// chunk step 20-26% shorter again than 4 MB and 10,000 (docs/STEPS.md). The
// database's own path (twinflow_bm25_add, for chunks inserted by SQL) cuts
// blocks at 2,000.
constexpr size_t kBlockChunks = 20000;

struct DocumentScope {
  std::string author, platform;
  std::vector<std::pair<std::string, int>> title;  // lexeme, frequency
  int title_length = 0;
};

// One (lexeme, scope) row of a block: its postings, in chunk id order.
struct BlockRow {
  size_t block = 0;  // index into the batch's blocks
  Bm25PostingEncoder postings;
};

}  // namespace

void count_new_chunks(pqxx::work& tx, const std::vector<NewChunkAnalysis>& chunks) {
  if (chunks.empty()) return;
  tx.exec("SELECT twinflow_bm25_lock()");

  // The chunks' documents that are the latest versions, with their titles.
  std::vector<int64_t> document_ids;
  for (const NewChunkAnalysis& c : chunks) document_ids.push_back(c.document_id);
  std::sort(document_ids.begin(), document_ids.end());
  document_ids.erase(std::unique(document_ids.begin(), document_ids.end()), document_ids.end());
  std::unordered_map<int64_t, DocumentScope> documents;
  std::vector<std::string> new_title_ids, new_titles, new_title_lengths;
  for (const auto& row :
       tx.exec_params("SELECT d.id, d.author, d.platform, d.title, t.length "
                      "FROM documents d LEFT JOIN bm25_titles t ON t.document_id = d.id "
                      "WHERE d.id = ANY ($1::bigint[]) AND d.is_latest",
                      to_pg_bigint_array(document_ids))) {
    DocumentScope& d = documents[row[0].as<int64_t>()];
    d.author = row[1].as<std::string>();
    d.platform = row[2].as<std::string>();
    if (!row[4].is_null()) {  // counted before: its lexemes are read below
      d.title_length = row[4].as<int>();
    } else {
      const std::vector<Lexeme> title = analyze_english(row[3].as<std::string>());
      for (const Lexeme& l : title)
        d.title.emplace_back(l.text, std::max<int>(1, static_cast<int>(l.positions.size())));
      d.title_length = analyzed_length(title);
      new_title_ids.push_back(row[0].c_str());
      new_titles.push_back(to_tsvector_literal(title));
      new_title_lengths.push_back(std::to_string(d.title_length));
    }
  }
  if (documents.empty()) return;
  // A title counted before is the one its chunks were counted with.
  for (const auto& row : tx.exec_params(
           "SELECT t.document_id, u.lexeme, coalesce(array_length(u.positions, 1), 1) "
           "FROM bm25_titles t, unnest(t.title) AS u WHERE t.document_id = ANY ($1::bigint[])",
           to_pg_bigint_array(document_ids)))
    documents[row[0].as<int64_t>()].title.emplace_back(row[1].as<std::string>(), row[2].as<int>());
  for (auto& [id, d] : documents) std::sort(d.title.begin(), d.title.end());  // byte order
  if (!new_title_ids.empty())
    tx.exec_params(
        "INSERT INTO bm25_titles (document_id, title, length) "
        "SELECT * FROM unnest($1::bigint[], $2::tsvector[], $3::int[])",
        to_pg_text_array(new_title_ids), to_pg_text_array(new_titles),
        to_pg_text_array(new_title_lengths));

  // Scopes: (author, platform, kind) -> id.
  std::vector<const NewChunkAnalysis*> counted;
  std::set<std::tuple<std::string, std::string, std::string>> scope_keys;
  for (const NewChunkAnalysis& c : chunks) {
    auto d = documents.find(c.document_id);
    if (d == documents.end()) continue;
    counted.push_back(&c);
    scope_keys.emplace(d->second.author, d->second.platform, c.kind);
  }
  std::vector<std::string> authors, platforms, kinds;
  for (const auto& [a, p, k] : scope_keys) {
    authors.push_back(a);
    platforms.push_back(p);
    kinds.push_back(k);
  }
  tx.exec_params(
      "INSERT INTO bm25_scopes (author, platform, kind) "
      "SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) "
      "ON CONFLICT (author, platform, kind) DO NOTHING",
      to_pg_text_array(authors), to_pg_text_array(platforms), to_pg_text_array(kinds));
  std::map<std::tuple<std::string, std::string, std::string>, int> scope_ids;
  for (const auto& row : tx.exec_params(
           "SELECT s.id, s.author, s.platform, s.kind FROM bm25_scopes s "
           "JOIN unnest($1::text[], $2::text[], $3::text[]) AS u (a, p, k) "
           "ON s.author = u.a AND s.platform = u.p AND s.kind = u.k",
           to_pg_text_array(authors), to_pg_text_array(platforms), to_pg_text_array(kinds)))
    scope_ids[{row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>()}] =
        row[0].as<int>();

  // Blocks of at most kBlockChunks chunks, in chunk id order.
  std::sort(counted.begin(), counted.end(),
            [](const auto* a, const auto* b) { return a->chunk_id < b->chunk_id; });
  const size_t block_count = (counted.size() + kBlockChunks - 1) / kBlockChunks;
  std::vector<int64_t> block_ids;
  for (const auto& row :
       tx.exec_params("SELECT nextval('bm25_block_ids') FROM generate_series(1, $1) ORDER BY 1",
                      static_cast<int64_t>(block_count)))
    block_ids.push_back(row[0].as<int64_t>());

  struct ScopeTotals {
    int64_t chunks = 0, body = 0, title = 0;
  };
  std::map<int, ScopeTotals> totals;
  std::vector<int> scope_of(counted.size()), body_length_of(counted.size());
  {
    // One COPY at a time on a connection: the chunks first, then the blocks.
    pqxx::stream_to chunk_rows(tx, "bm25_chunks",
                               std::vector<std::string>{"chunk_id", "scope_id", "document_id",
                                                        "body_length", "title_length", "block"});
    for (size_t i = 0; i < counted.size(); ++i) {
      const NewChunkAnalysis& c = *counted[i];
      const DocumentScope& d = documents.at(c.document_id);
      scope_of[i] = scope_ids.at({d.author, d.platform, c.kind});
      body_length_of[i] = c.body->length;
      chunk_rows << std::make_tuple(c.chunk_id, scope_of[i], c.document_id, body_length_of[i],
                                    d.title_length, block_ids[i / kBlockChunks]);
      ScopeTotals& t = totals[scope_of[i]];
      ++t.chunks;
      t.body += body_length_of[i];
      t.title += d.title_length;
    }
    chunk_rows.complete();
  }
  // The batch's postings grouped by (lexeme, scope), each list cut into the
  // blocks of its chunks. Keys view the analyses' and titles' text, which
  // outlive this function's use of them.
  std::unordered_map<std::string_view, std::map<int, std::vector<BlockRow>>> rows;
  for (size_t i = 0; i < counted.size(); ++i) {
    const NewChunkAnalysis& c = *counted[i];
    const DocumentScope& d = documents.at(c.document_id);
    const size_t block = i / kBlockChunks;
    auto add = [&](std::string_view lexeme, int body_tf, int title_tf) {
      std::vector<BlockRow>& blocks = rows[lexeme][scope_of[i]];
      if (blocks.empty() || blocks.back().block != block) blocks.push_back({block, {}});
      blocks.back().postings.add(
          {c.chunk_id, body_tf, title_tf, body_length_of[i], d.title_length});
    };
    // Body lexemes (with their title frequency), then title-only ones. Both
    // lists are in byte order (a tsvector's), so one pass matches them.
    std::vector<bool> title_in_body(d.title.size());
    size_t t = 0;
    c.body->each([&](std::string_view lexeme, int body_tf) {
      while (t < d.title.size() && std::string_view(d.title[t].first) < lexeme) ++t;
      int title_tf = 0;
      if (t < d.title.size() && d.title[t].first == lexeme) {
        title_tf = d.title[t].second;
        title_in_body[t] = true;
      }
      add(lexeme, body_tf, title_tf);
    });
    for (size_t u = 0; u < d.title.size(); ++u)
      if (!title_in_body[u]) add(d.title[u].first, 0, d.title[u].second);
  }
  // Written in primary key order (lexeme, scope, block): one pass over the
  // index rather than one per block, each insert next to the one before.
  std::vector<decltype(rows)::value_type*> sorted;
  sorted.reserve(rows.size());
  for (auto& entry : rows) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* x, const auto* y) { return x->first < y->first; });
  {
    pqxx::stream_to block_rows(
        tx, "bm25_blocks",
        std::vector<std::string>{"lexeme", "scope_id", "block", "postings", "chunks", "codec"});
    for (const auto* entry : sorted)
      for (const auto& [scope, blocks] : entry->second)
        for (const BlockRow& row : blocks)
          block_rows << std::make_tuple(std::string(entry->first), scope, block_ids[row.block],
                                        "\\x" + bytes_to_hex(row.postings.bytes()),
                                        row.postings.count(), static_cast<int>(Bm25Codec::kVarint));
    block_rows.complete();
  }

  std::vector<std::string> ids, n, body, title;
  for (const auto& [scope, t] : totals) {
    ids.push_back(std::to_string(scope));
    n.push_back(std::to_string(t.chunks));
    body.push_back(std::to_string(t.body));
    title.push_back(std::to_string(t.title));
  }
  tx.exec_params(
      "UPDATE bm25_scopes s SET chunks = s.chunks + u.n, body_length = s.body_length + u.b, "
      "title_length = s.title_length + u.t "
      "FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::bigint[]) AS u (id, n, b, t) "
      "WHERE s.id = u.id",
      to_pg_text_array(ids), to_pg_text_array(n), to_pg_text_array(body), to_pg_text_array(title));
}

}  // namespace twinflow
