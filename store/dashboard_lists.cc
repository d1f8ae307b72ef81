// DashboardQueries: keyset pages of the prompt log, documents, artifacts and
// models (see dashboard_queries.h). Each page is one statement whose plan
// walks an index from the cursor: no OFFSET, no list that reads a whole table.
#include <algorithm>
#include "store/dashboard_queries.h"

#include "store/store_impl.h"

namespace twinflow {
namespace {

#define RFC TWINFLOW_RFC3339_SQL

// A list: its rows as (k, j) pairs: the key it is ordered by and the row's
// JSON, from `from` (FROM ... [WHERE ...]).
struct ListSql {
  const char* key;    // "p.id"
  const char* cast;   // how the cursor text becomes a key: "::bigint" or ""
  bool descending;    // the list's order: newest first (ids) or A to Z (names)
  const char* json;   // the row's json_build_object(...)
  const char* from;   // "FROM t p LEFT JOIN ..."
  const char* where;  // a filter of the rows, "" for none
};

// `name` names the list's statements: one is prepared per variant (first
// page, forward, backward) and connection, so a page is planned once.
DashboardQueries::PageJson read_page(DashboardQueries& queries, pqxx::connection_base& connection,
                                     const std::string& name, const ListSql& list,
                                     const DashboardQueries::PageRequest& page) {
  // The direction the index is walked: the list's own, or the other way
  // from the cursor for a backward page.
  const bool walk_descending = list.descending != page.backward;
  const std::string order = walk_descending ? " DESC" : "";
  const std::string list_order = list.descending ? " DESC" : "";
  std::string where = list.where;
  if (!page.cursor.empty())
    where += std::string(where.empty() ? " WHERE " : " AND ") + list.key +
             (walk_descending ? " < " : " > ") + "$2" + list.cast;
  // One row more than the page, to know whether there is more that way;
  // first and last in the list's order.
  const std::string first = list.descending ? "max(k)" : "min(k)";
  const std::string last = list.descending ? "min(k)" : "max(k)";
  const std::string in_page = " FILTER (WHERE n <= $1)";
  const std::string sql = "SELECT coalesce(json_agg(j ORDER BY k" + list_order + ")" + in_page +
                          ", '[]')::text, count(*), " + first + in_page + "::text, " + last +
                          in_page + "::text FROM (SELECT k, j, row_number() OVER (ORDER BY k" +
                          order + ") AS n FROM (SELECT " + list.key + " AS k, " + list.json +
                          " AS j " + list.from + where + " ORDER BY " + list.key + order +
                          " LIMIT $1 + 1) x) page";
  const std::string statement = "twinflow_list_" + name +
                                (page.cursor.empty() ? "_first"
                                 : page.backward     ? "_back"
                                                     : "_on");
  queries.prepare_once(statement, sql);
  pqxx::nontransaction tx(connection);
  const auto row = page.cursor.empty() ? tx.exec_prepared1(statement, page.limit)
                                       : tx.exec_prepared1(statement, page.limit, page.cursor);
  const int rows = row[1].as<int>();
  return {row[0].as<std::string>(), std::min(rows, page.limit), rows > page.limit,
          text_field(row[2]), text_field(row[3])};
}

}  // namespace

DashboardQueries::PageJson DashboardQueries::prompts_page_json(const PageRequest& page) {
  return read_page(
      *this, store_.impl().connection.get(), "prompts",
      {"p.id", "::bigint", true,
       "json_build_object('id', p.id, 'query', p.query, 'author', p.author, 'k', p.k, "
       "'chunk_ids', p.chunk_ids, 'answer', p.answer, 'model', p.model_name, "
       "'model_version', mv.version, 'generator', p.generator, 'status', p.status, "
       "'error', p.error, 'latency_ms', p.latency_ms, 'created_at', " RFC("p.created_at") ")",
       " FROM prompt_logs p LEFT JOIN model_versions mv ON mv.id = p.model_version_id", ""},
      page);
}

DashboardQueries::PageJson DashboardQueries::documents_page_json(const PageRequest& page) {
  return read_page(*this, store_.impl().connection.get(), "documents",
                   {"d.id", "::bigint", true,
                    "json_build_object('id', d.id, 'author', d.author, 'platform', d.platform, "
                    "'kind', d.kind, 'url', d.url, 'version', d.version, 'title', d.title, "
                    "'fetched_at', " RFC("d.fetched_at") ", 'step_run_id', "
                                                         "coalesce(d.step_run_id, 0))",
                    " FROM documents d", " WHERE d.is_latest"},
                   page);
}

DashboardQueries::PageJson DashboardQueries::artifacts_page_json(const PageRequest& page) {
  return read_page(*this, store_.impl().connection.get(), "artifacts",
                   {"a.name", "", false,
                    "json_build_object('name', a.name, 'type', a.type, 'latest_version', "
                    "a.latest_version, 'created_at', " RFC("a.created_at") ")",
                    " FROM artifacts a", ""},
                   page);
}

DashboardQueries::PageJson DashboardQueries::models_page_json(const PageRequest& page) {
  return read_page(
      *this, store_.impl().connection.get(), "models",
      {"m.name", "", false,
       "json_build_object('name', m.name, 'latest_version', m.latest_version, "
       "'production_version', (SELECT version FROM model_versions WHERE model_id = m.id AND "
       "stage = 'production'), 'versions', (SELECT count(*) FROM model_versions WHERE "
       "model_id = m.id), 'created_at', " RFC("m.created_at") ")",
       " FROM models m", ""},
      page);
}

#undef RFC

}  // namespace twinflow
