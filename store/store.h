// Store: every read and write twinflow makes to its PostgreSQL database.
//
// The scheduler, the steps and the CLI call operations, not SQL: each method is
// one meaningful change or question ("record that this attempt succeeded with
// these outputs"), and each change is one transaction, so a crash between two
// calls never leaves half of one recorded. Operations throw Error with the
// operation's name when the database refuses.
//
// A Store owns one connection (and how it rides out an outage) and is not
// thread-safe: give each thread its own. The operations live in repositories
// over it, one per concern: RunLedger (run_ledger.h), RunQueue (run_queue.h),
// FeatureStore (feature_store.h), ModelRegistry (model_registry.h).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/reconnect.h"

namespace twinflow {

class RunLedger;
class RunQueue;
class FeatureStore;
class ModelRegistry;

class Store {
 public:
  // Connects to the database given by a libpq conninfo or URI. Does not migrate.
  explicit Store(const std::string& conninfo);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& conninfo() const { return conninfo_; }

  // Applies pending migrations (see store/migrations.h). Returns how many.
  int migrate();

  // Asks the database a trivial question (a lost connection reconnects
  // first); throws DatabaseUnavailable when it cannot be reached. For health
  // checks.
  void ping();

  // How the operations a running scheduler depends on (attempts, results,
  // heartbeats, the queue) ride out a lost connection; see reconnect.h. The
  // default gives up at once.
  void set_reconnect_policy(ReconnectPolicy policy);

  // The repositories over this connection; each is declared in its own
  // header (include it to use one): run_ledger.h, run_queue.h,
  // feature_store.h, model_registry.h.
  RunLedger runs();
  RunQueue queue();
  FeatureStore features();
  ModelRegistry models();

  // For the store's own .cc files: the connection (a pqxx::connection).
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::string conninfo_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace twinflow
