// Small non-cryptographic hashes whose output is the same on every platform
// and every run (seeded choices, shingles, ETags). For content addresses use
// util/sha256.h.
#pragma once

#include <cstdint>
#include <string_view>

namespace twinflow {

constexpr uint64_t kFnv1aOffset = 1469598103934665603ULL;

// 64-bit FNV-1a of `bytes`, continuing from `hash` (chain calls to hash
// several strings as one).
constexpr uint64_t fnv1a(std::string_view bytes, uint64_t hash = kFnv1aOffset) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

// splitmix64's finaliser: spreads the bits of `z` over the whole word.
constexpr uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace twinflow
