// Counting a batch of new chunks into the BM25 statistics (migrations 0012,
// 0020, 0022, 0023) from their analysis in C++, so that PostgreSQL neither
// analyses the text again nor groups a million postings in SQL (issue 18).
//
// It writes what twinflow_bm25_add would write for the same chunks: one
// bm25_chunks row per counted chunk, blocks of at most 20,000 chunks (one
// bm25_blocks row per lexeme and scope of a block, its postings in chunk id
// order and their number; packed in codec 2, where SQL packs codec 1:
// store/bm25_postings.h), scope totals
// (bm25_scopes) and the titles it is the first to count (bm25_titles). A
// chunk counts while it is current and its document is the latest version,
// as in SQL.
//
// Contract: the chunks were inserted by this transaction (so none is counted
// yet), with the insert trigger's counting switched off (migration 0022), and
// `body` is the analysis of their content. Internal to store/.
#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "store/english_analyzer.h"

namespace twinflow {

// The body postings of a batch's analysed chunks, grouped by lexeme before
// the chunks have ids: pure, so that the writer groups a batch on a thread of
// its own while the database inserts its chunks (store_documents.cc).
struct GroupedTerms {
  std::vector<std::string_view> lexemes;  // each once, in byte order (views into the analyses)
  std::vector<uint32_t> starts;           // lexeme i's postings: [starts[i], starts[i + 1])
  std::vector<uint32_t> chunks;           // index of the analysis, ascending within a lexeme
  std::vector<uint16_t> body_tfs;
  uint32_t analyses = 0;  // how many were grouped
};
GroupedTerms group_terms(const std::vector<const SearchTerms*>& analyses);

struct NewChunkAnalysis {
  int64_t chunk_id = 0, document_id = 0;
  std::string kind;
  const SearchTerms* body = nullptr;  // the chunk's analysed content
  uint32_t index = 0;                 // of `body` in what `grouped` was made from
};

// Takes the statistics' lock (twinflow_bm25_lock) and counts `chunks`, whose
// analyses `grouped` holds (group_terms).
void count_new_chunks(pqxx::work& tx, const std::vector<NewChunkAnalysis>& chunks,
                      const GroupedTerms& grouped);

}  // namespace twinflow
