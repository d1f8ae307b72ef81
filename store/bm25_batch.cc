// group_terms and count_new_chunks (see bm25_batch.h): the batch's postings
// are grouped in memory, by word first (while the chunks are inserted), then
// by scope and block once they have ids, and written with COPY: a few
// statements per batch whatever its size.
#include "store/bm25_batch.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "store/bm25_postings.h"
#include "store/copy_text.h"
#include "store/store_impl.h"
#include "util/error.h"

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

// A posting of the batch before it is packed: the counted chunk (its rank by
// id), its term frequencies.
struct PendingPosting {
  uint32_t rank = 0;
  uint16_t body_tf = 0, title_tf = 0;
};

// A title word that the chunk's body lacks.
struct TitlePosting {
  std::string_view lexeme;
  PendingPosting posting;
};

}  // namespace

GroupedTerms group_terms(const std::vector<const SearchTerms*>& analyses) {
  // Each posting's lexeme as a number in order of appearance, then the
  // numbers ranked by lexeme and the postings sorted by it (counting sort,
  // which keeps each lexeme's postings in chunk order).
  std::unordered_map<std::string_view, uint32_t> numbers;
  std::vector<std::string_view> lexeme_of;
  std::vector<uint32_t> number_of;
  for (const SearchTerms* terms : analyses)
    terms->each([&](std::string_view lexeme, int) {
      const auto [at, added] = numbers.try_emplace(lexeme, static_cast<uint32_t>(lexeme_of.size()));
      if (added) lexeme_of.push_back(lexeme);
      number_of.push_back(at->second);
    });
  std::vector<uint32_t> by_lexeme(lexeme_of.size());
  for (uint32_t i = 0; i < by_lexeme.size(); ++i) by_lexeme[i] = i;
  std::sort(by_lexeme.begin(), by_lexeme.end(),
            [&](uint32_t a, uint32_t b) { return lexeme_of[a] < lexeme_of[b]; });
  std::vector<uint32_t> rank(lexeme_of.size());
  GroupedTerms out;
  out.analyses = static_cast<uint32_t>(analyses.size());
  out.lexemes.reserve(lexeme_of.size());
  for (uint32_t r = 0; r < by_lexeme.size(); ++r) {
    rank[by_lexeme[r]] = r;
    out.lexemes.push_back(lexeme_of[by_lexeme[r]]);
  }
  out.starts.assign(lexeme_of.size() + 1, 0);
  for (uint32_t number : number_of) ++out.starts[rank[number] + 1];
  for (size_t i = 1; i < out.starts.size(); ++i) out.starts[i] += out.starts[i - 1];
  out.chunks.resize(number_of.size());
  out.body_tfs.resize(number_of.size());
  std::vector<uint32_t> next(out.starts.begin(), out.starts.end() - 1);
  size_t posting = 0;
  for (uint32_t chunk = 0; chunk < analyses.size(); ++chunk)
    analyses[chunk]->each([&](std::string_view, int body_tf) {
      const uint32_t at = next[rank[number_of[posting++]]]++;
      out.chunks[at] = chunk;
      out.body_tfs[at] = static_cast<uint16_t>(body_tf);
    });
  return out;
}

void count_new_chunks(pqxx::work& tx, const std::vector<NewChunkAnalysis>& chunks,
                      const GroupedTerms& grouped) {
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
  std::vector<int> scope_of(counted.size()), body_length_of(counted.size()),
      title_length_of(counted.size());
  CopyStream chunk_rows(
      tx, "bm25_chunks",
      {"chunk_id", "scope_id", "document_id", "body_length", "title_length", "block"});
  for (size_t i = 0; i < counted.size(); ++i) {
    const NewChunkAnalysis& c = *counted[i];
    const DocumentScope& d = documents.at(c.document_id);
    scope_of[i] = scope_ids.at({d.author, d.platform, c.kind});
    body_length_of[i] = c.body->length;
    title_length_of[i] = d.title_length;
    chunk_rows.row().integer(c.chunk_id).integer(scope_of[i]).integer(c.document_id);
    chunk_rows.row().integer(body_length_of[i]).integer(d.title_length);
    chunk_rows.row().integer(block_ids[i / kBlockChunks]);
    chunk_rows.end_row();
    ScopeTotals& t = totals[scope_of[i]];
    ++t.chunks;
    t.body += body_length_of[i];
    t.title += d.title_length;
  }
  chunk_rows.complete();
  // Each analysis's counted chunk (its rank by id), if it is one.
  constexpr uint32_t kNotCounted = UINT32_MAX;
  std::vector<uint32_t> rank_of(grouped.analyses, kNotCounted);
  for (uint32_t r = 0; r < counted.size(); ++r) {
    if (counted[r]->index >= grouped.analyses)
      throw Error("count_new_chunks: a chunk's analysis is not among the grouped ones");
    rank_of[counted[r]->index] = r;
  }
  // Title words: their frequency on the body's postings of the chunks of the
  // title's document, and postings of their own where the body lacks them.
  std::vector<uint16_t> title_tfs(grouped.chunks.size(), 0);
  std::vector<TitlePosting> title_only;
  for (uint32_t r = 0; r < counted.size(); ++r) {
    const uint32_t chunk = counted[r]->index;
    for (const auto& [lexeme, tf] : documents.at(counted[r]->document_id).title) {
      const auto word = std::lower_bound(grouped.lexemes.begin(), grouped.lexemes.end(),
                                         std::string_view(lexeme));
      if (word != grouped.lexemes.end() && *word == lexeme) {
        const size_t w = static_cast<size_t>(word - grouped.lexemes.begin());
        const auto first = grouped.chunks.begin() + grouped.starts[w],
                   last = grouped.chunks.begin() + grouped.starts[w + 1];
        const auto at = std::lower_bound(first, last, chunk);
        if (at != last && *at == chunk) {
          title_tfs[static_cast<size_t>(at - grouped.chunks.begin())] = static_cast<uint16_t>(tf);
          continue;
        }
      }
      title_only.push_back({lexeme, {r, 0, static_cast<uint16_t>(tf)}});
    }
  }
  std::sort(title_only.begin(), title_only.end(), [](const TitlePosting& a, const TitlePosting& b) {
    return a.lexeme != b.lexeme ? a.lexeme < b.lexeme : a.posting.rank < b.posting.rank;
  });

  // The rows, in primary key order (lexeme, scope, block): one pass over the
  // index rather than one per block, each insert next to the one before. A
  // lexeme's postings are its body postings and title-only ones, in order of
  // (scope, rank): a block is a run of ranks, and ranks follow ids.
  CopyStream block_rows(tx, "bm25_blocks",
                        {"lexeme", "scope_id", "block", "postings", "chunks", "codec"});
  std::vector<PendingPosting> postings;
  const auto write_lexeme = [&](std::string_view lexeme) {
    const auto key = [&](const PendingPosting& p) { return std::pair(scope_of[p.rank], p.rank); };
    if (!std::is_sorted(postings.begin(), postings.end(),
                        [&](const auto& a, const auto& b) { return key(a) < key(b); }))
      std::sort(postings.begin(), postings.end(),
                [&](const auto& a, const auto& b) { return key(a) < key(b); });
    for (size_t start = 0; start < postings.size();) {
      const int scope = scope_of[postings[start].rank];
      const size_t block = postings[start].rank / kBlockChunks;
      Bm25PostingEncoder encoder;
      size_t end = start;
      for (; end < postings.size() && scope_of[postings[end].rank] == scope &&
             postings[end].rank / kBlockChunks == block;
           ++end) {
        const PendingPosting& p = postings[end];
        encoder.add({counted[p.rank]->chunk_id, p.body_tf, p.title_tf, body_length_of[p.rank],
                     title_length_of[p.rank]});
      }
      block_rows.row().text(lexeme).integer(scope).integer(block_ids[block]);
      block_rows.row().bytea(encoder.bytes()).integer(encoder.count());
      block_rows.row().integer(static_cast<int>(Bm25Codec::kVarint));
      block_rows.end_row();
      start = end;
    }
    postings.clear();
  };
  size_t next_title = 0;
  for (size_t w = 0; w <= grouped.lexemes.size(); ++w) {
    // Title-only lexemes that sort before this body lexeme (or after the last).
    while (next_title < title_only.size() &&
           (w == grouped.lexemes.size() || title_only[next_title].lexeme < grouped.lexemes[w])) {
      const std::string_view lexeme = title_only[next_title].lexeme;
      for (; next_title < title_only.size() && title_only[next_title].lexeme == lexeme;
           ++next_title)
        postings.push_back(title_only[next_title].posting);
      write_lexeme(lexeme);
    }
    if (w == grouped.lexemes.size()) break;
    for (uint32_t i = grouped.starts[w]; i < grouped.starts[w + 1]; ++i) {
      const uint32_t rank = rank_of[grouped.chunks[i]];
      if (rank != kNotCounted) postings.push_back({rank, grouped.body_tfs[i], title_tfs[i]});
    }
    for (; next_title < title_only.size() && title_only[next_title].lexeme == grouped.lexemes[w];
         ++next_title)
      postings.push_back(title_only[next_title].posting);
    if (!postings.empty()) write_lexeme(grouped.lexemes[w]);
  }
  block_rows.complete();

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
