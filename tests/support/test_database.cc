#include "tests/support/test_database.h"

#include <libpq-fe.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <random>

#include <pqxx/pqxx>

#include "util/error.h"

namespace twinflow {

namespace fs = std::filesystem;

namespace {

std::string conninfo_quote(const std::string& s) {
  if (!s.empty() && s.find_first_of(" \t\n'\\") == std::string::npos) return s;
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// Rewrites a libpq URI or key=value string to name another database.
std::string with_dbname(const std::string& url, const std::string& dbname) {
  char* err = nullptr;
  PQconninfoOption* options = ::PQconninfoParse(url.c_str(), &err);
  if (!options) {
    std::string why = err ? err : "out of memory";
    ::PQfreemem(err);
    throw Error("TWINFLOW_TEST_DATABASE_URL is not a libpq URI or conninfo string: " + why);
  }
  std::string out;
  for (PQconninfoOption* option = options; option->keyword; ++option) {
    if (!option->val || std::string(option->keyword) == "dbname") continue;
    out += std::string(option->keyword) + "=" + conninfo_quote(option->val) + " ";
  }
  ::PQconninfoFree(options);
  return out + "dbname=" + conninfo_quote(dbname);
}

// Unique across calls, concurrent test binaries, and (for a shared server
// named by TWINFLOW_TEST_DATABASE_URL) machines.
std::string unique_database_name(unsigned long counter) {
  std::random_device random;
  char suffix[9];
  std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(random()));
  return "tftest_" + std::to_string(::getpid()) + "_" + std::to_string(counter) + "_" + suffix;
}

void create_database(const std::string& admin_conninfo, const std::string& name) {
  try {
    pqxx::connection conn(admin_conninfo);
    pqxx::nontransaction tx(conn);
    // template0 is never connected to, so concurrent creations cannot trip
    // over "source database is being accessed by other users".
    tx.exec("CREATE DATABASE " + tx.quote_name(name) + " TEMPLATE template0 STRATEGY FILE_COPY");
  } catch (const pqxx::failure& e) {
    throw Error("cannot create test database " + name + ": " + e.what());
  }
}

PostgresTestEnvironment& environment() {
  // The one static of the test support: GoogleTest owns the environment and
  // deletes it at exit.
  static PostgresTestEnvironment* const env = static_cast<PostgresTestEnvironment*>(
      ::testing::AddGlobalTestEnvironment(new PostgresTestEnvironment));
  return *env;
}

[[maybe_unused]] const bool kRegistered = (register_postgres_test_environment(), true);

}  // namespace

PostgresTestEnvironment::PostgresTestEnvironment() : owner_pid_(::getpid()) {}

PostgresTestEnvironment::~PostgresTestEnvironment() {
  // Normally TearDown has run; this covers a binary that used the server
  // without RUN_ALL_TESTS.
  TearDown();
}

void PostgresTestEnvironment::TearDown() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!started_ || ::getpid() != owner_pid_) return;
  started_ = false;
  if (!cluster_) {
    drop_created_databases();
    return;
  }
  try {
    cluster_->stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cannot stop the test PostgreSQL cluster: %s\n", e.what());
  }
  std::error_code ec;
  fs::remove_all(temp_dir_, ec);
  cluster_.reset();
}

void PostgresTestEnvironment::drop_created_databases() {
  try {
    pqxx::connection conn(external_url_);
    pqxx::nontransaction tx(conn);
    for (const std::string& name : created_)
      tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name) + " WITH (FORCE)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cannot drop test databases on TWINFLOW_TEST_DATABASE_URL: %s\n",
                 e.what());
  }
  created_.clear();
}

void PostgresTestEnvironment::start_locked() {
  if (started_) return;
  const char* url = std::getenv("TWINFLOW_TEST_DATABASE_URL");
  external_url_ = url ? url : "";
  if (external_url_.empty()) {
    char dir[] = "/tmp/tftest-XXXXXX";  // short: the socket lives below it
    if (!::mkdtemp(dir))
      throw SystemError("cannot create a directory for the test PostgreSQL cluster", errno);
    // mkdtemp makes it 0700; a server running as another user (we are root)
    // must be able to pass through.
    ::chmod(dir, 0711);
    temp_dir_ = dir;
    try {
      EmbeddedPostgresOptions options;
      options.home = temp_dir_;
      options.durable = false;
      cluster_ = std::make_unique<EmbeddedPostgres>(options);
      cluster_->ensure_running();
    } catch (...) {
      // Leave no half-started server behind; the original error matters more.
      try {
        if (cluster_) cluster_->stop();
      } catch (const std::exception&) {
      }
      cluster_.reset();
      std::error_code ec;
      fs::remove_all(temp_dir_, ec);
      throw;
    }
  }
  started_ = true;
}

std::string PostgresTestEnvironment::fresh_database() {
  std::string name, admin;
  {
    std::lock_guard<std::mutex> lock(mu_);
    start_locked();
    name = unique_database_name(++counter_);
    created_.push_back(name);
    admin = cluster_ ? cluster_->conninfo("postgres") : external_url_;
  }
  create_database(admin, name);
  return conninfo(name);
}

std::string PostgresTestEnvironment::conninfo(const std::string& dbname) {
  std::lock_guard<std::mutex> lock(mu_);
  start_locked();
  return cluster_ ? cluster_->conninfo(dbname) : with_dbname(external_url_, dbname);
}

fs::path PostgresTestEnvironment::home() {
  std::lock_guard<std::mutex> lock(mu_);
  start_locked();
  return temp_dir_;
}

void register_postgres_test_environment() {
  environment();
}

std::string fresh_test_database() {
  return environment().fresh_database();
}

fs::path test_cluster_home() {
  return environment().home();
}

std::string test_database_conninfo(const std::string& dbname) {
  return environment().conninfo(dbname);
}

}  // namespace twinflow
