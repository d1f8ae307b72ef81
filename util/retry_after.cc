// See retry_after.h. curl_getdate reads all three HTTP date forms.
#include "util/retry_after.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace twinflow {

std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value) {
  using Millis = std::chrono::milliseconds;
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return Millis(std::stoll(value.substr(0, 9)) * 1000);
  }
  const time_t when = curl_getdate(value.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  return Millis(std::max<long long>(0, static_cast<long long>(when - std::time(nullptr))) * 1000);
}

}  // namespace twinflow
