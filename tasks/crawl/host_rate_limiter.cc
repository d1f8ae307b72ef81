// HostRateLimiter: per-host start-time reservations, see host_rate_limiter.h.
#include "tasks/crawl/host_rate_limiter.h"

#include <algorithm>

#include "util/error.h"

namespace twinflow {

HostRateLimiter::HostRateLimiter(double requests_per_second) {
  if (requests_per_second < 0) {
    throw Error("rate limit must be 0 (unlimited) or positive, not " +
                std::to_string(requests_per_second));
  }
  if (requests_per_second > 0) {
    default_interval_ = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1.0 / requests_per_second));
  }
}

HostRateLimiter::HostState& HostRateLimiter::state_of(const std::string& host) {
  const auto [it, inserted] = hosts_.try_emplace(host);
  if (inserted) it->second.interval = default_interval_;
  return it->second;
}

void HostRateLimiter::require_interval(const std::string& host, Clock::duration interval) {
  HostState& state = state_of(host);
  state.interval = std::max(state.interval, interval);
}

HostRateLimiter::Clock::time_point HostRateLimiter::reserve(const std::string& host,
                                                            Clock::time_point now) {
  HostState& state = state_of(host);
  const Clock::time_point start = std::max(now, state.next_start);
  state.next_start = start + state.interval;
  return start;
}

HostRateLimiter::Clock::duration HostRateLimiter::interval_for(const std::string& host) const {
  const auto it = hosts_.find(host);
  return it == hosts_.end() ? default_interval_ : it->second.interval;
}

}  // namespace twinflow
