// Store: text retrieval by Okapi BM25F over the searchable chunks, with the
// statistics migration 0012 keeps (see search_records.h for the formula).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string_view>
#include <unordered_map>

#include "store/bm25_postings.h"
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
// one statement. Filter parameters $1..$3, the query's lexemes $4 and their
// weights $5 (analysed here as the chunks are: english_analyzer.h).
const char* const kTermsSql =
    "WITH scopes AS (SELECT id, chunks, body_length, title_length FROM bm25_scopes "
    "  WHERE ($1 = '' OR author = $1) AND ($2 = '' OR kind = $2) AND ($3 = '' OR platform = $3)), "
    "totals AS (SELECT coalesce(sum(chunks), 0)::bigint AS n, "
    "  coalesce(sum(body_length), 0)::float8 / greatest(sum(chunks), 1) AS avg_body, "
    "  coalesce(sum(title_length), 0)::float8 / greatest(sum(chunks), 1) AS avg_title "
    "  FROM scopes) "
    "SELECT tt.n, tt.avg_body, tt.avg_title, w.lexeme, w.qtf, f.df "
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
// whole. $1..$3 filter, $4 lexemes. Scoring happens here rather than in SQL:
// unnesting postings into rows and aggregating them cost the database about
// 2.5 us per posting, four times reading them here.
const char* const kPostingsSql =
    "SELECT b.lexeme, b.scope_id, b.block, b.postings "
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
// digits), to `bytes`, but those of the `dead` chunks (sorted; may be null).
void append_postings(std::string_view text, const std::vector<int64_t>* dead, std::string& bytes) {
  const size_t n = bytea_text_size(text), at = bytes.size();
  bytes.resize(at + n);
  auto* data = reinterpret_cast<unsigned char*>(bytes.data() + at);
  if (n % kBm25PostingBytes != 0 || !decode_bytea_text(text, data))
    throw Error("text search: a postings block is malformed");
  if (dead) bytes.resize(at + drop_postings_of(data, n, *dead));
}

// One posting's part of a chunk's score (search_records.h has the formula),
// in the order of operations the SQL of migration 0016 used, so scores are
// the same to the last bit.
struct Bm25Scorer {
  Bm25Params params;
  double avg_body = 0, avg_title = 0;

  double part(double qtf, double idf, int body_tf, int title_tf, int body_length,
              int title_length) const {
    const double b = params.b, k1 = params.k1;
    const double tf =
        body_tf / (1 - b + b * body_length / std::max(avg_body, 1e-9)) +
        params.title_weight * title_tf / (1 - b + b * title_length / std::max(avg_title, 1e-9));
    return tf > 0 ? qtf * idf * tf * (k1 + 1) / (k1 + tf) : 0;
  }
};

// One scored posting, kept to explain the hits afterwards.
struct ScoredPosting {
  int64_t chunk_id;
  uint32_t term;  // index into the scored lexemes
  double part;
};

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
    pqxx::nontransaction tx(impl_->connection);
    double avg_body = 0, avg_title = 0;
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
      if (row[3].is_null()) continue;  // no lexeme at all
      Bm25Term term;
      term.lexeme = row[3].as<std::string>();
      term.weight = row[4].as<double>();
      term.chunks = row[5].as<int64_t>();
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

    // Each scored lexeme's packed postings, in chunk id order: from the
    // cache when an earlier search of the same scope read them, else read.
    const std::string scope = filter.author + '\x1f' + filter.kind + '\x1f' + filter.platform;
    if (cache && cache->scope != scope) *cache = {scope, {}};
    std::map<std::string, std::string> uncached;
    std::map<std::string, std::string>& postings_of = cache ? cache->postings : uncached;
    std::vector<std::string> missing;
    for (const Bm25Term* t : scored)
      if (!postings_of.count(t->lexeme)) missing.push_back(t->lexeme);
    if (!missing.empty()) {
      DeadChunks dead;
      for (const auto& row : tx.exec_params(kDeadSql, filter.author, filter.kind, filter.platform))
        dead[{row[0].as<int>(), row[1].as<int64_t>()}].push_back(row[2].as<int64_t>());
      for (const auto& row : tx.exec_params(kPostingsSql, filter.author, filter.kind,
                                            filter.platform, to_pg_text_array(missing))) {
        const auto found = dead.find({row[1].as<int>(), row[2].as<int64_t>()});
        append_postings(std::string_view(row[3].c_str(), row[3].size()),
                        found == dead.end() ? nullptr : &found->second,
                        postings_of[row[0].as<std::string>()]);
      }
    }
    const Bm25Scorer scorer{params, avg_body, avg_title};
    std::unordered_map<int64_t, double> scores;
    std::vector<ScoredPosting> postings;
    // Summed in lexeme order, as the database returns the rows.
    std::vector<uint32_t> order(scored.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return scored[a]->lexeme < scored[b]->lexeme; });
    for (const uint32_t i : order) {
      const Bm25Term& term = *scored[i];
      const auto found = postings_of.find(term.lexeme);
      if (found == postings_of.end()) continue;  // no block row in the scope
      const std::string& bytes = found->second;
      const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
      for (size_t at = 0; at < bytes.size(); at += kBm25PostingBytes) {
        const Bm25Posting p = read_posting(data + at);
        const double part = scorer.part(term.weight, term.idf, p.body_tf, p.title_tf, p.body_length,
                                        p.title_length);
        scores[p.chunk_id] += part;
        postings.push_back({p.chunk_id, i, part});
      }
    }
    std::vector<std::pair<int64_t, double>> ranked(scores.begin(), scores.end());
    const auto better = [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    };
    const size_t top = std::min(ranked.size(), static_cast<size_t>(limit));
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(top),
                      ranked.end(), better);
    std::unordered_map<int64_t, size_t> hit_of;
    for (size_t i = 0; i < top; ++i) {
      hit_of.emplace(ranked[i].first, i);
      result.hits.push_back({ranked[i].first, ranked[i].second, {}});
    }
    for (const ScoredPosting& p : postings) {
      const auto hit = hit_of.find(p.chunk_id);
      if (hit != hit_of.end()) result.hits[hit->second].terms[scored[p.term]->lexeme] = p.part;
    }
  } catch (const pqxx::sql_error& e) {
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
