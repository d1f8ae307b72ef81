// PostgreSQL for tests: one throwaway server per test binary, and a brand-new
// empty database for every test that asks.
//
// The first call to fresh_test_database() starts a non-durable embedded
// cluster in a short temporary directory under /tmp; the GoogleTest global
// environment registered here stops it and removes the directory when the
// tests are done. Tests that never ask never pay for a server. When
// TWINFLOW_TEST_DATABASE_URL is set, that server is used instead and the
// databases created on it are dropped at the end.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/embedded_postgres.h"

namespace twinflow {

class PostgresTestEnvironment : public ::testing::Environment {
 public:
  PostgresTestEnvironment();
  ~PostgresTestEnvironment() override;

  void TearDown() override;

  // Starts the shared server on first use. Thread-safe.
  std::string fresh_database();
  std::string conninfo(const std::string& dbname);
  // Empty when the tests use TWINFLOW_TEST_DATABASE_URL.
  std::filesystem::path home();

 private:
  void start_locked();
  void drop_created_databases();

  std::mutex mu_;
  const pid_t owner_pid_;     // a forked child must not tear down its parent's server
  std::string external_url_;  // TWINFLOW_TEST_DATABASE_URL
  bool started_ = false;
  std::filesystem::path temp_dir_;
  std::unique_ptr<EmbeddedPostgres> cluster_;
  std::vector<std::string> created_;
  unsigned long counter_ = 0;
};

// Registers the environment with GoogleTest; idempotent. Linking
// test_database.cc already does it, so tests need not call this.
void register_postgres_test_environment();

// The conninfo of a brand-new empty database (unique name per call) on the
// shared test server.
std::string fresh_test_database();

// The shared test cluster's home (empty with TWINFLOW_TEST_DATABASE_URL) and
// the conninfo for one of its databases. Both start the server if needed.
std::filesystem::path test_cluster_home();
std::string test_database_conninfo(const std::string& dbname);

}  // namespace twinflow
