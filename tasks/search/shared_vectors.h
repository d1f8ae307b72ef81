// SharedVectors: one in-memory copy of a model's vectors per process, shared
// by the Retrievers of a server's sessions.
//
// `twinflow serve` gives each HTTP I/O thread a session (a database
// connection and a Retriever), because neither is thread-safe. Each Retriever
// used to load and hold every vector itself: at 1M × 256 that is 1 GB per
// session, and each session's first query waited about 40 s for its own
// load. With a SharedVectors, the first session to need a model's vectors
// loads them, sessions asking meanwhile wait for that load, and every later
// search uses the same immutable snapshot.
//
// When the data may have changed (a session's recheck interval passed), one
// session asks the database for the vectors' signature, at most once per
// interval and key; if it changed, that session loads the new snapshot (from
// the old one and what changed, vector_loading.h) while the others keep
// answering from the old one, which is freed when the last search using it
// ends. Thread-safe; `load` and `signature` run outside the
// lock, in the calling session's thread (on its own connection).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "tasks/search/vector_index.h"

namespace twinflow {

class SharedVectors {
 public:
  using Clock = std::chrono::steady_clock;
  using Signature = std::function<std::string()>;
  // `previous`: the snapshot being replaced, whose vectors a load may share
  // (vector_loading.h), or null for the key's first load.
  using Load = std::function<std::unique_ptr<VectorIndex>(const VectorIndex* previous)>;

  // At most this many keys (model × filter) are held; the least recently
  // used goes first.
  explicit SharedVectors(size_t max_keys = 4) : max_keys_(max_keys) {}

  // The current snapshot for `key`. `signature` is asked when the key's last
  // check is older than `recheck` (or there is none); `load` runs when the
  // signature differs from the snapshot's. An exception from either reaches
  // the caller, and the next caller tries again.
  std::shared_ptr<const VectorIndex> get(const std::string& key, std::chrono::milliseconds recheck,
                                         const Signature& signature, const Load& load);

  // How many times `load` ran, for tests and the benchmark.
  size_t loads() const;

 private:
  struct Entry {
    std::string signature;                     // of `index`
    std::shared_ptr<const VectorIndex> index;  // null until the first load ends
    Clock::time_point next_check{};
    Clock::time_point used{};
    bool busy = false;  // a session is checking or loading
  };

  size_t max_keys_;
  mutable std::mutex mutex_;
  std::condition_variable done_;  // a check or load ended
  std::map<std::string, Entry> entries_;
  size_t loads_ = 0;
};

}  // namespace twinflow
