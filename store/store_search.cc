// Store: text retrieval by Okapi BM25F over the searchable chunks, with the
// statistics migration 0012 keeps (see search_records.h for the formula).
#include <algorithm>
#include <cmath>
#include <cstdio>

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

std::string to_pg_double_array(const std::vector<double>& values) {
  std::string out = "{";
  char buffer[40];
  for (size_t i = 0; i < values.size(); ++i) {
    std::snprintf(buffer, sizeof buffer, "%.17g", values[i]);
    out += (i ? "," : "") + std::string(buffer);
  }
  return out + "}";
}

// The scope's totals and the query's lexemes with their document frequency,
// in one statement. Filter parameters $1..$3, the query $4.
const char* const kTermsSql =
    "WITH scopes AS (SELECT id, chunks, body_length, title_length FROM bm25_scopes "
    "  WHERE ($1 = '' OR author = $1) AND ($2 = '' OR kind = $2) AND ($3 = '' OR platform = $3)), "
    "totals AS (SELECT coalesce(sum(chunks), 0)::bigint AS n, "
    "  coalesce(sum(body_length), 0)::float8 / greatest(sum(chunks), 1) AS avg_body, "
    "  coalesce(sum(title_length), 0)::float8 / greatest(sum(chunks), 1) AS avg_title "
    "  FROM scopes) "
    "SELECT tt.n, tt.avg_body, tt.avg_title, w.lexeme, w.qtf, f.df "
    "FROM totals tt LEFT JOIN LATERAL ( "
    "  SELECT lexeme, coalesce(array_length(positions, 1), 1) AS qtf "
    "  FROM unnest(to_tsvector('english', $4))) w ON true "
    "LEFT JOIN LATERAL (SELECT coalesce(sum(t.chunks), 0)::bigint AS df FROM bm25_terms t "
    "  WHERE t.lexeme = w.lexeme AND t.scope_id IN (SELECT id FROM scopes)) f ON true "
    "ORDER BY w.lexeme";

// The postings of the scored lexemes in the scope (one index range per
// lexeme and scope, migration 0016), BM25F summed per chunk. $1..$3 filter,
// $4 lexemes, $5 their query frequencies, $6 their idfs, $7 limit, $8 k1,
// $9 b, $10 title weight, $11 average body length, $12 average title length.
const char* const kScoreSql =
    "WITH terms AS (SELECT * FROM unnest($4::text[], $5::int[], $6::float8[]) "
    "  AS t (lexeme, qtf, idf)), "
    "scopes AS (SELECT id FROM bm25_scopes "
    "  WHERE ($1 = '' OR author = $1) AND ($2 = '' OR kind = $2) AND ($3 = '' OR platform = $3)), "
    "weighted AS (SELECT p.chunk_id AS id, t.lexeme, t.qtf, t.idf, "
    "    p.body_tf::float8 / (1 - $9::float8 + $9::float8 * p.body_length / "
    "greatest($11::float8, 1e-9)) "
    "    + $10::float8 * p.title_tf::float8 / (1 - $9::float8 + $9::float8 * p.title_length / "
    "greatest($12::float8, 1e-9)) AS tf "
    "  FROM terms t JOIN bm25_postings p ON p.lexeme = t.lexeme "
    "  WHERE p.scope_id IN (SELECT id FROM scopes)), "
    "parts AS (SELECT id, lexeme, "
    "  CASE WHEN tf > 0 THEN qtf * idf * tf * ($8::float8 + 1) / ($8::float8 + tf) ELSE 0 END "
    "  AS part FROM weighted), "
    "top AS (SELECT id, sum(part) AS score FROM parts GROUP BY id "
    "  ORDER BY score DESC, id LIMIT $7::int) "
    "SELECT top.id, top.score, string_agg(p.lexeme || ' ' || p.part::text, E'\\n') "
    "FROM top JOIN parts p ON p.id = top.id GROUP BY top.id, top.score "
    "ORDER BY top.score DESC, top.id";

// "lexeme part" lines (an analysed lexeme never holds whitespace; float8
// text round-trips exactly).
std::map<std::string, double> parse_parts(const std::string& text) {
  std::map<std::string, double> out;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(begin, end - begin);
    const size_t space = line.rfind(' ');
    if (space != std::string::npos) out[line.substr(0, space)] = std::stod(line.substr(space + 1));
    begin = end + 1;
  }
  return out;
}

}  // namespace

Bm25Result FeatureStore::bm25_search(const std::string& query, const ChunkFilter& filter, int limit,
                                     const Bm25Params& params) {
  validate(params);
  Bm25Result result;
  try {
    pqxx::nontransaction tx(impl_->connection);
    double avg_body = 0, avg_title = 0;
    for (const auto& row :
         tx.exec_params(kTermsSql, filter.author, filter.kind, filter.platform, query)) {
      result.chunks = row[0].as<int64_t>();
      avg_body = row[1].as<double>();
      avg_title = row[2].as<double>();
      if (row[3].is_null()) continue;  // no lexeme at all
      Bm25Term term;
      term.lexeme = row[3].as<std::string>();
      term.query_frequency = row[4].as<int>();
      term.chunks = row[5].as<int64_t>();
      const double n = static_cast<double>(result.chunks), df = static_cast<double>(term.chunks);
      term.idf = term.chunks > 0 ? std::log(1 + (n - df + 0.5) / (df + 0.5)) : 0;
      result.terms.push_back(std::move(term));
    }
    // The rarest lexemes when there are too many (ties by lexeme).
    std::vector<const Bm25Term*> scored;
    for (const Bm25Term& t : result.terms)
      if (t.chunks > 0) scored.push_back(&t);
    std::stable_sort(scored.begin(), scored.end(),
                     [](const Bm25Term* a, const Bm25Term* b) { return a->chunks < b->chunks; });
    if (scored.size() > kMaxScoredTerms) scored.resize(kMaxScoredTerms);
    result.scored_terms = scored.size();
    if (scored.empty() || limit <= 0) return result;

    std::vector<std::string> lexemes;
    std::vector<int64_t> frequencies;
    std::vector<double> idfs;
    for (const Bm25Term* t : scored) {
      lexemes.push_back(t->lexeme);
      frequencies.push_back(t->query_frequency);
      idfs.push_back(t->idf);
    }
    for (const auto& row : tx.exec_params(
             kScoreSql, filter.author, filter.kind, filter.platform, to_pg_text_array(lexemes),
             to_pg_bigint_array(frequencies), to_pg_double_array(idfs), limit, params.k1, params.b,
             params.title_weight, avg_body, avg_title)) {
      Bm25Hit hit;
      hit.id = row[0].as<int64_t>();
      hit.score = row[1].as<double>();
      hit.terms = parse_parts(row[2].as<std::string>());
      result.hits.push_back(std::move(hit));
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
