// AppContext: what every subcommand needs, opened lazily.
//
// Most subcommands need the database, some need only files; none should pay
// for what it does not use. The context resolves $TWINFLOW_HOME, then on first
// use the database (TWINFLOW_DATABASE_URL, else the embedded cluster, which it
// starts), migrates it, and keeps one Store for the process.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "store/blob_store.h"
#include "store/store.h"

namespace twinflow {

// Exit codes, documented in docs/CLI.md.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,      // the run failed, or the command could not do what was asked
  kExitUsage = 2,       // bad arguments or an invalid DAG file
  kExitCancelled = 130  // the run was cancelled (Ctrl-C, SIGTERM, twinflow cancel)
};

class AppContext {
 public:
  AppContext();

  const std::filesystem::path& home() const { return home_; }
  // The conninfo steps receive and the Store uses.
  const std::string& database_url();
  Store& store();
  BlobStore& blobs();
  // True when the database is the embedded cluster twinflow manages.
  bool embedded_database() const;

  bool json = false;  // --json: machine-readable output

 private:
  std::filesystem::path home_;
  std::string database_url_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<BlobStore> blobs_;
};

}  // namespace twinflow
