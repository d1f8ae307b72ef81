// ResponseCache: response bodies the dashboard built, each kept with the
// validator PostgreSQL computed from the rows it shows (their ids and row
// versions), so that a request whose rows did not change gets the body again
// instead of having it built anew.
//
// Correctness does not rest on the cache: a route reads the validator on
// every request, in the same statement (and so the same snapshot) that would
// build the body, and uses a cached body only when the validator it just read
// is the one stored with it. A change committed before the request therefore
// always shows. A body that shows a time that depends on the clock (the
// duration of a run still running) is kept for `ttl` at most.
//
// Bounded: at most `max_entries` bodies and `max_bytes` of them in all; the
// least recently used goes first, and a body larger than a quarter of
// `max_bytes` is not kept. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace twinflow {

class ResponseCache {
 public:
  using Clock = std::chrono::steady_clock;

  ResponseCache(size_t max_entries, size_t max_bytes)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  struct Hit {
    std::string validator;
    std::shared_ptr<const std::string> body;
  };
  // The body kept under `key` and its validator; nullopt when there is none
  // or it has expired.
  std::optional<Hit> find(const std::string& key);
  // Keeps `body` under `key` with its validator, for `ttl` (zero: until the
  // validator changes or the entry is pushed out).
  void store(const std::string& key, std::string validator, std::string body,
             std::chrono::milliseconds ttl = std::chrono::milliseconds(0));

  size_t entries() const;
  size_t bytes() const;

 private:
  struct Entry {
    std::string key;
    std::string validator;
    std::shared_ptr<const std::string> body;
    std::optional<Clock::time_point> expires;
  };
  void erase(std::list<Entry>::iterator it);

  const size_t max_entries_, max_bytes_;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  size_t bytes_ = 0;
};

}  // namespace twinflow
