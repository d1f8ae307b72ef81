#include "cli/app_context.h"

#include <cstdlib>

#include "store/embedded_postgres.h"

namespace twinflow {

AppContext::AppContext() : home_(default_twinflow_home()) {}

bool AppContext::embedded_database() const {
  const char* url = std::getenv("TWINFLOW_DATABASE_URL");
  return url == nullptr || *url == '\0';
}

const std::string& AppContext::database_url() {
  if (!database_url_.empty()) return database_url_;
  if (embedded_database()) {
    EmbeddedPostgres cluster({home_, true, ""});
    database_url_ = cluster.ensure_running();
  } else {
    database_url_ = std::getenv("TWINFLOW_DATABASE_URL");
  }
  return database_url_;
}

Store& AppContext::store() {
  if (!store_) {
    store_ = std::make_unique<Store>(database_url());
    store_->migrate();
  }
  return *store_;
}

BlobStore& AppContext::blobs() {
  if (!blobs_) blobs_ = std::make_unique<BlobStore>(home_ / "artifacts");
  return *blobs_;
}

}  // namespace twinflow
