// BenchDatabase: a brand-new database for one benchmark run, on the server
// TWINFLOW_DATABASE_URL names or else on an embedded cluster under `home`
// (the benchmark's scratch directory). When the object goes, the database is
// dropped, the cluster stopped and `home` removed, unless TWINFLOW_BENCH_KEEP
// is set (to look at the data afterwards). Shared by the benchmarks that load
// a database of their own.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "store/embedded_postgres.h"

namespace twinflow::bench {

class BenchDatabase {
 public:
  BenchDatabase(const std::filesystem::path& home, const std::string& name_prefix)
      : home_(home),
        name_(name_prefix + std::to_string(::getpid())),
        keep_(std::getenv("TWINFLOW_BENCH_KEEP") != nullptr) {
    if (const char* env = std::getenv("TWINFLOW_DATABASE_URL"); env && *env) {
      server_ = env;
    } else {
      cluster_ = std::make_unique<EmbeddedPostgres>(EmbeddedPostgresOptions{home, true, ""});
      server_ = cluster_->ensure_running();
    }
    pqxx::connection admin(server_);
    pqxx::nontransaction(admin).exec("CREATE DATABASE " + name_);
    url_ = server_ + " dbname=" + name_;
  }
  ~BenchDatabase() {
    if (keep_) {
      std::printf("kept database %s and home %s\n", url_.c_str(), home_.c_str());
      return;
    }
    try {
      pqxx::connection admin(server_);
      pqxx::nontransaction(admin).exec("DROP DATABASE " + name_);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "could not drop %s: %s\n", name_.c_str(), e.what());
    }
    if (cluster_) cluster_->stop();
    std::error_code ignored;
    std::filesystem::remove_all(home_, ignored);
  }
  BenchDatabase(const BenchDatabase&) = delete;
  BenchDatabase& operator=(const BenchDatabase&) = delete;

  // The new database's conninfo.
  const std::string& url() const { return url_; }

 private:
  std::filesystem::path home_;
  std::string name_;
  bool keep_;
  std::unique_ptr<EmbeddedPostgres> cluster_;
  std::string server_;
  std::string url_;
};

}  // namespace twinflow::bench
