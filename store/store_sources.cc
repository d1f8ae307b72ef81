// Store: the crawl step's discovery state, feeds, sitemaps and followed
// listing pages (migration 0014). See the "crawl sources" section of store.h.
#include <algorithm>

#include "store/feature_store.h"
#include "store/store_impl.h"
#include "util/error.h"

namespace twinflow {

int64_t FeatureStore::crawl_source_id(const std::string& author, const std::string& kind,
                                      const std::string& url) {
  try {
    pqxx::nontransaction tx(impl_->connection);
    // The no-op update makes RETURNING give the existing row's id on conflict.
    return tx
        .exec_params1(
            "INSERT INTO crawl_sources (author, kind, url) VALUES ($1, $2, $3) "
            "ON CONFLICT (author, kind, url) DO UPDATE SET kind = EXCLUDED.kind RETURNING id",
            author, kind, url)[0]
        .as<int64_t>();
  } catch (const pqxx::sql_error& e) {
    throw Error("recording the crawl source " + url + ": " + e.what());
  }
}

std::map<std::string, HttpValidators> FeatureStore::crawl_source_validators(int64_t source_id) {
  pqxx::nontransaction tx(impl_->connection);
  std::map<std::string, HttpValidators> out;
  for (const auto& row : tx.exec_params(
           "SELECT url, etag, last_modified FROM crawl_source_files WHERE source_id = $1",
           source_id))
    out[row[0].as<std::string>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
  return out;
}

void FeatureStore::save_crawl_source_validators(int64_t source_id, const std::string& file_url,
                                                const HttpValidators& validators) {
  pqxx::nontransaction tx(impl_->connection);
  tx.exec_params(
      "INSERT INTO crawl_source_files (source_id, url, etag, last_modified) "
      "VALUES ($1, $2, $3, $4) ON CONFLICT (source_id, url) DO UPDATE SET "
      "etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, fetched_at = now()",
      source_id, file_url, validators.etag, validators.last_modified);
}

FeatureStore::SourceEntryCounts FeatureStore::record_source_entries(
    int64_t source_id, const std::vector<SourceEntry>& entries) {
  SourceEntryCounts counts;
  try {
    pqxx::work tx(impl_->connection);
    constexpr size_t kBatch = 5000;
    for (size_t start = 0; start < entries.size(); start += kBatch) {
      std::vector<std::string> urls, stamps;
      for (size_t i = start; i < std::min(entries.size(), start + kBatch); ++i) {
        urls.push_back(entries[i].url);
        stamps.push_back(entries[i].stamp);
      }
      // `old` is the stamp before this statement (NULL: the entry is new).
      auto rows = tx.exec_params(
          "WITH listed AS (SELECT DISTINCT ON (u) u, s FROM unnest($2::text[], $3::text[]) "
          "                AS x(u, s) ORDER BY u), "
          "     before AS (SELECT e.url, e.stamp FROM crawl_source_entries e JOIN listed "
          "                ON e.url = listed.u WHERE e.source_id = $1), "
          "     up AS (INSERT INTO crawl_source_entries (source_id, url, stamp) "
          "            SELECT $1, u, s FROM listed ON CONFLICT (source_id, url) DO UPDATE "
          "            SET stamp = EXCLUDED.stamp, last_seen = now() RETURNING url, stamp) "
          "SELECT count(*) FILTER (WHERE before.url IS NULL), "
          "       count(*) FILTER (WHERE before.url IS NOT NULL AND before.stamp <> up.stamp) "
          "FROM up LEFT JOIN before ON before.url = up.url",
          source_id, to_pg_text_array(urls), to_pg_text_array(stamps));
      counts.added += rows[0][0].as<int64_t>();
      counts.changed += rows[0][1].as<int64_t>();
    }
    tx.commit();
  } catch (const pqxx::sql_error& e) {
    throw Error("recording the entries of crawl source " + std::to_string(source_id) + ": " +
                e.what());
  }
  return counts;
}

std::vector<std::string> FeatureStore::source_entries_to_crawl(int64_t source_id, int64_t limit) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<std::string> out;
  for (const auto& row :
       tx.exec_params("SELECT url FROM crawl_source_entries WHERE source_id = $1 "
                      "AND crawled_stamp IS DISTINCT FROM stamp ORDER BY first_seen, url LIMIT $2",
                      source_id, limit))
    out.push_back(row[0].as<std::string>());
  return out;
}

void FeatureStore::mark_source_entries_crawled(int64_t source_id,
                                               const std::vector<std::string>& urls) {
  if (urls.empty()) return;
  pqxx::nontransaction tx(impl_->connection);
  tx.exec_params(
      "UPDATE crawl_source_entries SET crawled_stamp = stamp, crawled_at = now() "
      "WHERE source_id = $1 AND url = ANY($2::text[])",
      source_id, to_pg_text_array(urls));
}

std::map<std::string, std::pair<int64_t, std::string>> FeatureStore::source_documents(
    const std::string& author, const std::vector<int64_t>& source_ids) {
  pqxx::nontransaction tx(impl_->connection);
  std::map<std::string, std::pair<int64_t, std::string>> out;
  for (const auto& row :
       tx.exec_params("SELECT DISTINCT d.url, d.id, d.platform FROM crawl_source_entries e "
                      "JOIN documents d ON d.url = e.url AND d.author = $1 AND d.is_latest "
                      "WHERE e.source_id = ANY($2::bigint[]) AND e.crawled_stamp IS NOT NULL",
                      author, to_pg_bigint_array(source_ids)))
    out[row[0].as<std::string>()] = {row[1].as<int64_t>(), row[2].as<std::string>()};
  return out;
}

void FeatureStore::record_source_check(int64_t source_id, const SourceCheck& check,
                                       int64_t step_run_id) {
  pqxx::nontransaction tx(impl_->connection);
  tx.exec_params(
      "UPDATE crawl_sources SET checked_at = now(), last_status = $2, last_reason = $3, "
      "last_discovered = $4, last_discovered_new = $5, last_step_run_id = $6 WHERE id = $1",
      source_id, check.status, check.reason, check.discovered, check.discovered_new,
      nullable_id(step_run_id));
}

}  // namespace twinflow
