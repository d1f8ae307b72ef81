// Store: text retrieval by Okapi BM25F over the searchable chunks, with the
// statistics migration 0012 keeps (see search_records.h for the formula).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string_view>

#include "store/bm25_postings.h"
#include "store/bm25_postings_cache.h"
#include "store/bm25_scoring.h"
#include "store/bytea_text.h"
#include "store/english_analyzer.h"
#include "store/feature_store.h"
#include "store/store_impl.h"
#include "util/error.h"

namespace twinflow {

void validate(const Bm25Params& p) {
  auto fail = [](const std::string& what) { throw Error("BM25 parameter " + what); };
  if (!(p.k1 >= 0) || !std::isfinite(p.k1))
    fail("k1 must be a finite number >= 0, got " + std::to_string(p.k1));
  if (!(p.b >= 0 && p.b <= 1)) fail("b must be between 0 and 1, got " + std::to_string(p.b));
  if (!(p.title_weight >= 0) || !std::isfinite(p.title_weight))
    fail("title_weight must be a finite number >= 0, got " + std::to_string(p.title_weight));
}

namespace {

// The scope's totals and the query's lexemes with their document frequency
// (the sum of their block rows' sizes, read from the primary key's INCLUDE:
// migration 0023, less their postings of removed chunks: migration 0025), in
// one statement, with the scope's version (its rows' ids and generations:
// migration 0027). Filter parameters $1..$3, the query's lexemes $4 and their
// weights $5 (analysed here as the chunks are: english_analyzer.h).
const char* const kTermsSql =
    "WITH scopes AS (SELECT id, chunks, body_length, title_length, generation FROM bm25_scopes "
    "  WHERE ($1 = '' OR author = $1) AND ($2 = '' OR kind = $2) AND ($3 = '' OR platform = $3)), "
    "totals AS (SELECT coalesce(sum(chunks), 0)::bigint AS n, "
    "  coalesce(sum(body_length), 0)::float8 / greatest(sum(chunks), 1) AS avg_body, "
    "  coalesce(sum(title_length), 0)::float8 / greatest(sum(chunks), 1) AS avg_title, "
    "  coalesce(string_agg(id || '.' || generation, ',' ORDER BY id), '') AS version "
    "  FROM scopes) "
    "SELECT tt.n, tt.avg_body, tt.avg_title, tt.version, w.lexeme, w.qtf, f.df "
    "FROM totals tt LEFT JOIN LATERAL ( "
    "  SELECT lexeme, qtf FROM unnest($4::text[], $5::float8[]) AS u (lexeme, qtf)) w ON true "
    "LEFT JOIN LATERAL (SELECT (coalesce(sum(b.chunks), 0) - coalesce(( "
    "    SELECT sum(t.chunks) FROM bm25_dead_terms t "
    "    WHERE t.lexeme = w.lexeme AND t.scope_id IN (SELECT id FROM scopes)), 0))::bigint AS df "
    "  FROM bm25_blocks b "
    "  WHERE b.lexeme = w.lexeme AND b.scope_id IN (SELECT id FROM scopes)) f ON true "
    "ORDER BY w.lexeme";

// The postings of the scored lexemes in the scope: their block rows
// (migrations 0020 and 0023) through the primary key, the packed postings
// whole with their codec (migration 0029). $1..$3 filter, $4 lexemes. Scoring happens here rather
// than in SQL: unnesting postings into rows and aggregating them cost the database about 2.5 us per
// posting, four times reading them here.
const char* const kPostingsSql =
    "SELECT b.lexeme, b.scope_id, b.block, b.postings, b.codec "
    "FROM bm25_blocks b "
    "WHERE b.lexeme = ANY ($4::text[]) AND b.scope_id = ANY (ARRAY(SELECT id FROM bm25_scopes "
    "  WHERE ($1 = '' OR author = $1) AND ($2 = '' OR kind = $2) AND ($3 = '' OR platform = $3))) "
    "ORDER BY b.lexeme, b.scope_id, b.block";

// The removed chunks whose postings remain in the scope's blocks until the
// blocks are compacted (migration 0025), by block. $1..$3 filter.
const char* const kDeadSql =
    "SELECT d.scope_id, d.block, c.id FROM bm25_dead d, unnest(d.chunk_ids) AS c (id) "
    "WHERE d.scope_id = ANY (ARRAY(SELECT id FROM bm25_scopes "
    "  WHERE ($1 = '' OR author = $1) AND ($2 = '' OR kind = $2) AND ($3 = '' OR platform = $3))) "
    "ORDER BY 1, 2, 3";

// Removed chunks, sorted, by (scope, block).
using DeadChunks = std::map<std::pair<int, int64_t>, std::vector<int64_t>>;

// Appends a block row's postings, from bytea's text form ("\x" and hex
// digits) in `codec` (store/bm25_postings.h), to `out`, but those of the
// `dead` chunks (sorted; may be null).
void append_postings(std::string_view text, int codec, const std::vector<int64_t>* dead,
                     std::vector<Bm25Posting>& out) {
  const size_t n = bytea_text_size(text);
  std::string bytes(n, '\0');
  auto* data = reinterpret_cast<unsigned char*>(bytes.data());
  if (!decode_bytea_text(text, data) || !decode_postings(data, n, codec, dead, out))
    throw Error("text search: a postings block is malformed");
}

using PostingsList = std::shared_ptr<const Bm25PostingList>;

// Reads the postings of `lexemes` in the filter's scope, but those of
// removed chunks, each list in ascending chunk id with its peaks.
std::map<std::string, PostingsList> read_postings(pqxx::transaction_base& tx,
                                                  const ChunkFilter& filter,
                                                  const std::vector<std::string>& lexemes) {
  DeadChunks dead;
  for (const auto& row : tx.exec_params(kDeadSql, filter.author, filter.kind, filter.platform))
    dead[{row[0].as<int>(), row[1].as<int64_t>()}].push_back(row[2].as<int64_t>());
  const auto rows = tx.exec_params(kPostingsSql, filter.author, filter.kind, filter.platform,
                                   to_pg_text_array(lexemes));
  // Room for each word's postings first: growing a list by doubling would
  // touch twice its memory, and a fresh page costs a fault (12 µs on a VM).
  // Room reserved but not used is never touched.
  std::map<std::string, size_t> room;
  for (const auto& row : rows)
    room[row[0].as<std::string>()] += max_postings(
        bytea_text_size(std::string_view(row[3].c_str(), row[3].size())), row[4].as<int>());
  std::map<std::string, std::vector<Bm25Posting>> read;
  for (const auto& [lexeme, n] : room) read[lexeme].reserve(n);
  for (const auto& row : rows) {
    const auto found = dead.find({row[1].as<int>(), row[2].as<int64_t>()});
    append_postings(std::string_view(row[3].c_str(), row[3].size()), row[4].as<int>(),
                    found == dead.end() ? nullptr : &found->second, read[row[0].as<std::string>()]);
  }
  std::map<std::string, PostingsList> out;
  for (auto& [lexeme, postings] : read) {
    // Blocks hold ascending ids, but a block written later may hold a lower
    // id (a chunk current again), and scopes follow one another.
    const auto by_id = [](const Bm25Posting& a, const Bm25Posting& b) {
      return a.chunk_id < b.chunk_id;
    };
    if (!std::is_sorted(postings.begin(), postings.end(), by_id))
      std::sort(postings.begin(), postings.end(), by_id);
    std::vector<Bm25Posting> peaks = bm25_peaks(postings);
    out[lexeme] = std::make_shared<const Bm25PostingList>(
        Bm25PostingList{std::move(postings), std::move(peaks)});
  }
  return out;
}

}  // namespace

Bm25Result FeatureStore::bm25_search(const std::string& query, const ChunkFilter& filter, int limit,
                                     const Bm25Params& params, Bm25PostingsCache* cache) {
  std::vector<Bm25QueryTerm> terms;
  for (const Lexeme& l : analyze_english(query))
    terms.push_back({l.text, static_cast<double>(std::max<size_t>(1, l.positions.size()))});
  return bm25_search(terms, filter, limit, params, cache);
}

Bm25Result FeatureStore::bm25_search(const std::vector<Bm25QueryTerm>& query,
                                     const ChunkFilter& filter, int limit, const Bm25Params& params,
                                     Bm25PostingsCache* cache) {
  validate(params);
  Bm25Result result;
  try {
    // One snapshot for the statistics and the postings: they agree, and the
    // version stamps the postings kept in the cache.
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only> tx(
        impl_->connection);
    double avg_body = 0, avg_title = 0;
    std::string version;
    std::map<std::string, double> weights, max_share;
    for (const Bm25QueryTerm& t : query) {
      if (!(t.weight > 0) || !std::isfinite(t.weight))
        throw Error("text search: the weight of '" + t.lexeme + "' must be a finite number > 0");
      if (!(t.max_share > 0 && t.max_share <= 1))
        throw Error("text search: the max_share of '" + t.lexeme + "' must be in (0, 1]");
      weights[t.lexeme] += t.weight;
      max_share[t.lexeme] = std::max(max_share[t.lexeme], t.max_share);
    }
    std::vector<std::string> query_lexemes, query_weights;
    for (const auto& [lexeme, w] : weights) {
      query_lexemes.push_back(lexeme);
      char weight[32];
      std::snprintf(weight, sizeof weight, "%.17g", w);
      query_weights.push_back(weight);
    }
    for (const auto& row :
         tx.exec_params(kTermsSql, filter.author, filter.kind, filter.platform,
                        to_pg_text_array(query_lexemes), to_pg_text_array(query_weights))) {
      result.chunks = row[0].as<int64_t>();
      avg_body = row[1].as<double>();
      avg_title = row[2].as<double>();
      version = row[3].as<std::string>();
      if (row[4].is_null()) continue;  // no lexeme at all
      Bm25Term term;
      term.lexeme = row[4].as<std::string>();
      term.weight = row[5].as<double>();
      term.chunks = row[6].as<int64_t>();
      const double n = static_cast<double>(result.chunks), df = static_cast<double>(term.chunks);
      term.idf = term.chunks > 0 ? std::log(1 + (n - df + 0.5) / (df + 0.5)) : 0;
      result.terms.push_back(std::move(term));
    }
    // The rarest lexemes when there are too many (ties by lexeme).
    std::vector<const Bm25Term*> scored;
    for (const Bm25Term& t : result.terms)
      if (t.chunks > 0 && static_cast<double>(t.chunks) <=
                              max_share.at(t.lexeme) * static_cast<double>(result.chunks))
        scored.push_back(&t);
    std::stable_sort(scored.begin(), scored.end(),
                     [](const Bm25Term* a, const Bm25Term* b) { return a->chunks < b->chunks; });
    if (scored.size() > kMaxScoredTerms) scored.resize(kMaxScoredTerms);
    result.scored_terms = scored.size();
    if (scored.empty() || limit <= 0) return result;
    // Summed in lexeme order, as the database returned the rows before.
    std::sort(scored.begin(), scored.end(),
              [](const Bm25Term* a, const Bm25Term* b) { return a->lexeme < b->lexeme; });

    // Each scored lexeme's postings: from the cache when a search of the same
    // scope in the same version read them, else read (and kept).
    const std::string scope = filter.author + '\x1f' + filter.kind + '\x1f' + filter.platform;
    std::map<std::string, PostingsList> postings_of;
    std::vector<std::string> missing;
    for (const Bm25Term* t : scored) {
      PostingsList found = cache ? cache->find(scope, version, t->lexeme) : nullptr;
      if (found)
        postings_of[t->lexeme] = std::move(found);
      else
        missing.push_back(t->lexeme);
    }
    if (!missing.empty()) {
      std::map<std::string, PostingsList> read = read_postings(tx, filter, missing);
      for (const std::string& lexeme : missing) {
        PostingsList& list = read[lexeme];  // none: no block row in the scope
        if (!list) list = std::make_shared<const Bm25PostingList>();
        if (cache) cache->put(scope, version, lexeme, list);
        postings_of[lexeme] = list;
      }
    }
    tx.commit();

    std::vector<Bm25List> lists;
    for (const Bm25Term* t : scored)
      lists.push_back({postings_of.at(t->lexeme).get(), t->weight, t->idf});
    const Bm25Scorer scorer{params, avg_body, avg_title};
    for (Bm25Ranked& ranked : bm25_top_k(lists, scorer, static_cast<size_t>(limit))) {
      Bm25Hit hit{ranked.id, ranked.score, {}};
      for (size_t i = 0; i < scored.size(); ++i)
        if (ranked.parts[i] >= 0) hit.terms[scored[i]->lexeme] = ranked.parts[i];
      result.hits.push_back(std::move(hit));
    }
  } catch (const pqxx::sql_error& e) {
    if (is_connection_loss(e)) throw;  // not a refusal: the caller may retry
    throw Error("text search: the database refused the query: " + std::string(e.what()));
  }
  return result;
}

int64_t FeatureStore::searchable_chunks(const ChunkFilter& filter) {
  pqxx::nontransaction tx(impl_->connection);
  return tx
      .exec_params1(
          "SELECT coalesce(sum(chunks), 0)::bigint FROM bm25_scopes "
          "WHERE ($1 = '' OR author = $1) AND ($2 = '' OR kind = $2) "
          "AND ($3 = '' OR platform = $3)",
          filter.author, filter.kind, filter.platform)[0]
      .as<int64_t>();
}

}  // namespace twinflow
