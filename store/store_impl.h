// Internals shared by the store's .cc files: the connection, and the
// conversions between result rows and records. Not for use outside store/.
#pragma once

#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <type_traits>
#include <vector>

#include "store/feature_records.h"
#include "store/reconnect.h"
#include "store/records.h"
#include "store/store.h"

namespace twinflow {

// The store's connection: opened at construction, dropped when it is lost,
// and opened again when next used (libpqxx 6 does not reliably reconnect a
// connection whose server went away). Converts to the pqxx::connection that
// transactions take: `pqxx::work tx(impl_->connection)`.
class StoreConnection {
 public:
  explicit StoreConnection(std::string conninfo)
      : conninfo_(std::move(conninfo)),
        connection_(std::make_unique<pqxx::connection>(conninfo_)) {}

  operator pqxx::connection&() { return get(); }
  pqxx::connection& get() {
    if (!connection_) {
      connection_ = std::make_unique<pqxx::connection>(conninfo_);
      ++generation_;
    }
    return *connection_;
  }
  void drop() { connection_.reset(); }
  bool is_open() const { return connection_ && connection_->is_open(); }
  // Which connection this is (1 for the first): a new one has none of the
  // statements an earlier one prepared.
  uint64_t generation() const { return generation_; }
  // What it connects with: for a second connection of the same store
  // (copy_binary.h).
  const std::string& conninfo() const { return conninfo_; }

 private:
  std::string conninfo_;
  std::unique_ptr<pqxx::connection> connection_;
  uint64_t generation_ = 1;
};

struct Store::Impl {
  explicit Impl(const std::string& conninfo) : connection(conninfo) {}

  // Runs `operation` (one whole transaction) and, while the connection is
  // lost, again after a backoff, as `reconnect` allows; libpqxx reconnects
  // when the next transaction begins. Only for idempotent operations.
  template <typename Operation>
  auto durable(const char* name, Operation&& operation) -> decltype(operation()) {
    OutageBackoff outage(reconnect, name);
    for (;;) {
      try {
        if constexpr (std::is_void_v<decltype(operation())>) {
          operation();
          outage.recovered();
          return;
        } else {
          auto result = operation();
          outage.recovered();
          return result;
        }
      } catch (const std::exception& e) {
        if (!is_connection_loss(e)) throw;
        connection.drop();
        outage.after_loss(e);
      }
    }
  }

  StoreConnection connection;
  ReconnectPolicy reconnect;
};

// Renders strings as a PostgreSQL text[] literal, for `$1::text[]` parameters.
std::string to_pg_text_array(const std::vector<std::string>& values);
std::string to_pg_bigint_array(const std::vector<int64_t>& values);

// A query's ids counted and digested in the database: `ids_sql` is a SELECT
// of one bigint column named `id`. The digest is Sha256 (util/sha256.h) fed
// each id, ascending, as a field() of its decimal text, as a walk of the ids
// in C++ would make it; 8 bytes per id cross no wire.
std::string id_digest_sql(const std::string& ids_sql);
IdDigest read_id_digest(const pqxx::row& row);

// Records a run's DAG snapshot (once per content) and its pipeline (latest
// file and snapshot); returns the pipeline id. Shared by create_run and the
// queue's enqueue.
int64_t record_pipeline(pqxx::work& tx, const NewRun& run);

// Records attempt `attempt` of a step as running (and the step with it);
// a repeat returns the row it made. Shared by start_attempt and
// start_claimed_attempt.
int64_t insert_running_attempt(pqxx::transaction_base& tx, int64_t run_id,
                               const std::string& step_id, int attempt, const std::string& host,
                               int pid, const std::string& log_path, const std::string& cache_key,
                               int64_t pid_start = 0);

// The SQL that restricts current chunks (alias c) of latest documents (alias
// d) to a ChunkFilter given as parameters $N, $N+1, $N+2 (author, kind,
// platform; an empty one matches all).
std::string chunk_filter_sql(int first_param);
// The same over three SQL expressions (literals, for a COPY, which takes no
// parameters).
std::string chunk_filter_sql(const std::string& author, const std::string& kind,
                             const std::string& platform);

// Column lists and row readers, kept next to each other so they cannot drift.
extern const char* const kRunColumns;
RunRecord read_run(const pqxx::row& row);
extern const char* const kStepRunColumns;
StepRunRecord read_step_run(const pqxx::row& row);
extern const char* const kVersionColumns;  // expects artifact_versions v JOIN artifacts a
ArtifactVersionRecord read_version(const pqxx::row& row, int first_column = 0);
constexpr int kVersionColumnCount = 11;

template <typename T>
std::optional<T> optional_field(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<T>();
}

// 0 means "none" for the ids records carry; the database wants NULL.
inline std::optional<int64_t> nullable_id(int64_t id) {
  if (id == 0) return std::nullopt;
  return id;
}

inline std::string text_field(const pqxx::field& field) {
  return field.is_null() ? std::string() : field.as<std::string>();
}

}  // namespace twinflow
