// Schema migrations: numbered SQL files applied in order, each exactly once.
//
// The files live in migrations/NNNN_name.sql and are compiled into the binary
// (cmake/embed_migrations.cmake). Each is applied in its own transaction and
// recorded in schema_migrations with its sha256, so that an edit to a file
// that was already applied is caught instead of silently diverging. Several
// processes may migrate at once (two `twinflow run` on a fresh database): a
// PostgreSQL advisory lock serialises them.
#pragma once

#include <string>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace twinflow {

struct MigrationSource {
  std::string file_name;  // "0001_core.sql"
  std::string sql;
};

// The migrations compiled into this binary, sorted by file name.
const std::vector<MigrationSource>& embedded_migrations();

struct MigrationState {
  int version = 0;
  std::string name;
  std::string checksum;
  bool applied = false;
  std::string applied_at;  // empty when pending
};

class Migrator {
 public:
  Migrator(pqxx::connection_base& connection, std::vector<MigrationSource> migrations);

  // Applies every pending migration in order. Throws Error when an applied
  // migration's checksum no longer matches its file, or a file name is not
  // NNNN_name.sql. Returns how many were applied.
  int migrate();

  // Applied and pending migrations, in order, without changing anything.
  std::vector<MigrationState> status();

 private:
  // Whether every migration is applied with its file's checksum: one read,
  // no lock, so that each CLI command checks the schema in a millisecond.
  bool up_to_date();
  void ensure_bookkeeping_table();
  void verify_applied_checksums();
  void apply(const MigrationSource& migration);

  pqxx::connection_base& connection_;
  std::vector<MigrationSource> migrations_;
};

// Parses the NNNN of "NNNN_name.sql"; throws Error for other names.
int migration_version(const std::string& file_name);

}  // namespace twinflow
