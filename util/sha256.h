// SHA-256 digests as lowercase hex, for content addressing and cache keys.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace twinflow {

// Incremental hasher: feed bytes, then take the hex digest once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& update(std::string_view bytes);
  // Feeds a length-prefixed field, so that ("ab","c") and ("a","bc") differ.
  Sha256& field(std::string_view bytes);
  std::string hex_digest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string sha256_hex(std::string_view bytes);
// Hashes a regular file's content. Throws SystemError when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace twinflow
