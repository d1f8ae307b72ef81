// Durations: one spelling for DAG files (timeouts, retry delays) and step params.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace twinflow {

using Millis = std::chrono::milliseconds;

// Parses "500ms", "30s", "5m", "2h", combinations such as "1h30m", decimals
// such as "1.5s", or a plain number of seconds. nullopt when malformed.
std::optional<Millis> parse_duration(const std::string& text);

// "10 s", "0.5 s": a duration as an error message shows it.
std::string describe_seconds(Millis duration);

// Seconds from `start` to now, on the steady clock.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace twinflow
