// ConnectionRegistry: HttpServer's count of open connections, per client
// address and in all, and the choice of which one to close when a limit is
// reached (HttpServerOptions::max_connections_per_client, max_connections).
//
// A connection is "idle" while it waits for the first bytes of a request
// headers (fresh or kept alive); idle ones are what many open sockets cost
// without doing anything, so a new connection beyond a limit closes the
// oldest idle one, first of the same client, and is refused only when none is
// idle. Thread-safe: sessions on any strand call it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace twinflow {

// What the registry can ask of a connection: to close if it is still idle
// (or, if it is busy by now, after its current response). Called from any
// thread; the connection does the work on its own strand.
class Evictable {
 public:
  virtual ~Evictable() = default;
  virtual void evict() = 0;
};

class ConnectionRegistry {
 public:
  ConnectionRegistry(int per_client_limit, int total_limit);

  struct Admission {
    bool admitted = false;
    uint64_t id = 0;                                  // for set_idle and remove
    std::vector<std::shared_ptr<Evictable>> evicted;  // to be told evict(), outside the lock
  };
  // Counts a new connection from `client` (an address without port), making
  // room by choosing idle connections to evict; not admitted when there are none.
  Admission admit(const std::string& client, std::weak_ptr<Evictable> connection);
  void set_idle(uint64_t id, bool idle);
  // Idempotent; the connection's destructor calls it.
  void remove(uint64_t id);

  size_t open_connections() const;
  int total_limit() const { return total_limit_; }

  // max_connections 0: RLIMIT_NOFILE less a reserve of max(64, limit / 8), at least 16.
  static int default_total_limit();

 private:
  struct Entry {
    std::string client;
    std::weak_ptr<Evictable> connection;
    bool idle = true;
  };
  // The oldest idle entry (of `client` when not empty); entries_.end() when none.
  std::map<uint64_t, Entry>::iterator oldest_idle(const std::string& client);
  void erase(std::map<uint64_t, Entry>::iterator it);

  const int per_client_limit_;
  const int total_limit_;
  mutable std::mutex mutex_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Entry> entries_;  // by id: oldest first
  std::unordered_map<std::string, int> per_client_;
};

}  // namespace twinflow
