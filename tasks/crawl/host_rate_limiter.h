// HostRateLimiter: spaces out the starts of requests to the same host.
//
// A polite crawler sends each host at most a few requests per second, however
// many URLs of that host it has queued. The limiter hands out start times:
// each reservation for a host comes at least one interval after the previous
// one. It is pure state with the time passed in, so the fetcher can defer a
// request until its slot without sleeping, and tests need no clock.
//
// Not thread-safe: the fetcher's loop owns it.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>

namespace twinflow {

class HostRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // 0 means unlimited. Throws Error when negative.
  explicit HostRateLimiter(double requests_per_second);

  // Makes `host`'s interval at least `interval` (e.g. robots.txt's
  // Crawl-delay). Never shortens it, whatever the order of calls.
  void require_interval(const std::string& host, Clock::duration interval);

  // Reserves the next start slot for `host` and returns it: `now` when the
  // host has been quiet long enough, else the earliest allowed time.
  Clock::time_point reserve(const std::string& host, Clock::time_point now);

  Clock::duration interval_for(const std::string& host) const;

 private:
  struct HostState {
    Clock::time_point next_start{};  // earliest start of the next reservation
    Clock::duration interval{};
  };

  HostState& state_of(const std::string& host);

  Clock::duration default_interval_{};
  std::unordered_map<std::string, HostState> hosts_;
};

}  // namespace twinflow
