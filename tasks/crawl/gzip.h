// gunzip_capped: inflates a gzip body with a hard cap on the output, so a
// gzip bomb (a few KB that inflate to gigabytes) costs at most the cap.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace twinflow {

struct GunzipResult {
  std::string data;
  std::string error;  // e.g. "gzip body inflates past 50 MB (a gzip bomb?)", "corrupt gzip data"
  bool ok() const { return error.empty(); }
};

// True when `bytes` start with the gzip magic (1f 8b).
bool is_gzip(std::string_view bytes);

// Inflates every member of a gzip stream; fails as soon as the output would
// pass `max_bytes`, and on corrupt or truncated data.
GunzipResult gunzip_capped(std::string_view bytes, size_t max_bytes);

}  // namespace twinflow
