// Parsing an HTTP Retry-After header, for the two HTTP clients that retry
// (the crawler's fetcher and the embeddings client).
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace twinflow {

// Delay-seconds ("120") or an HTTP date (RFC 9110 10.2.3), as the wait from
// now (0 for a date in the past); nullopt when empty or unreadable.
std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value);

}  // namespace twinflow
