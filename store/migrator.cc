#include <algorithm>

#include <pqxx/pqxx>

#include "store/migrations.h"
#include "util/error.h"
#include "util/sha256.h"

namespace twinflow {
namespace {

// An arbitrary constant shared by every twinflow process: the advisory lock key
// that serialises migrators on one database.
constexpr long long kMigrationLockKey = 0x7477696e666c6f77;  // "twinflow"

std::map<int, std::string> applied_checksums(pqxx::transaction_base& tx) {
  std::map<int, std::string> applied;
  for (const auto& row : tx.exec("SELECT version, checksum FROM schema_migrations"))
    applied[row[0].as<int>()] = row[1].as<std::string>();
  return applied;
}

}  // namespace

int migration_version(const std::string& file_name) {
  size_t underscore = file_name.find('_');
  bool ok = underscore != std::string::npos && underscore > 0 && file_name.size() > 4 &&
            file_name.ends_with(".sql");
  for (size_t i = 0; ok && i < underscore; ++i) ok = std::isdigit((unsigned char)file_name[i]);
  if (!ok) throw Error("migration file '" + file_name + "' is not named NNNN_name.sql");
  return std::stoi(file_name.substr(0, underscore));
}

Migrator::Migrator(pqxx::connection_base& connection, std::vector<MigrationSource> migrations)
    : connection_(connection), migrations_(std::move(migrations)) {
  std::sort(migrations_.begin(), migrations_.end(),
            [](const auto& a, const auto& b) { return a.file_name < b.file_name; });
}

void Migrator::ensure_bookkeeping_table() {
  pqxx::work tx(connection_);
  tx.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
      " applied_at timestamptz NOT NULL DEFAULT now())");
  tx.commit();
}

void Migrator::verify_applied_checksums() {
  pqxx::work tx(connection_);
  auto applied = applied_checksums(tx);
  for (const auto& migration : migrations_) {
    auto it = applied.find(migration_version(migration.file_name));
    if (it != applied.end() && it->second != sha256_hex(migration.sql))
      throw Error("migration " + migration.file_name +
                  " was edited after it was applied (checksum differs): add a new migration "
                  "instead of changing an applied one");
  }
}

void Migrator::apply(const MigrationSource& migration) {
  pqxx::work tx(connection_);
  try {
    tx.exec(migration.sql);
  } catch (const pqxx::sql_error& e) {
    throw Error("migration " + migration.file_name + " failed: " + e.what());
  }
  tx.exec_params("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                 migration_version(migration.file_name), migration.file_name,
                 sha256_hex(migration.sql));
  tx.commit();
}

bool Migrator::up_to_date() {
  pqxx::nontransaction tx(connection_);
  if (!tx.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL")[0].as<bool>()) return false;
  const std::map<int, std::string> applied = applied_checksums(tx);
  return std::all_of(migrations_.begin(), migrations_.end(), [&](const MigrationSource& m) {
    const auto it = applied.find(migration_version(m.file_name));
    return it != applied.end() && it->second == sha256_hex(m.sql);
  });
}

int Migrator::migrate() {
  // Nothing to do, the common case: no lock taken. Otherwise the locked path
  // below applies what is missing, or reports an edited migration.
  if (up_to_date()) return 0;
  // Session-level lock: held across the per-migration transactions below.
  {
    pqxx::nontransaction ntx(connection_);
    ntx.exec_params("SELECT pg_advisory_lock($1)", kMigrationLockKey);
  }
  int applied_now = 0;
  try {
    ensure_bookkeeping_table();
    verify_applied_checksums();
    std::map<int, std::string> applied;
    {
      pqxx::work tx(connection_);
      applied = applied_checksums(tx);
    }
    for (const auto& migration : migrations_) {
      if (applied.count(migration_version(migration.file_name))) continue;
      apply(migration);
      ++applied_now;
    }
  } catch (...) {
    pqxx::nontransaction ntx(connection_);
    ntx.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
    throw;
  }
  pqxx::nontransaction ntx(connection_);
  ntx.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
  return applied_now;
}

std::vector<MigrationState> Migrator::status() {
  std::map<int, std::pair<std::string, std::string>> applied;
  {
    pqxx::work tx(connection_);
    auto exists = tx.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL")[0].as<bool>();
    if (exists)
      for (const auto& row :
           tx.exec("SELECT version, checksum, applied_at::text FROM schema_migrations"))
        applied[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
  }
  std::vector<MigrationState> states;
  for (const auto& migration : migrations_) {
    MigrationState state;
    state.version = migration_version(migration.file_name);
    state.name = migration.file_name;
    state.checksum = sha256_hex(migration.sql);
    auto it = applied.find(state.version);
    if (it != applied.end()) {
      state.applied = true;
      state.applied_at = it->second.second;
      if (it->second.first != state.checksum) state.applied_at += " (EDITED: checksum differs)";
    }
    states.push_back(state);
  }
  return states;
}

}  // namespace twinflow
