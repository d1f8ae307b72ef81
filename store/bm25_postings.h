// The packed postings of a BM25 block row (migration 0023): 20 bytes per
// chunk, in chunk id order, big-endian as PostgreSQL's int8send, int2send and
// int4send give them, so that SQL (twinflow_bm25_pack, twinflow_bm25_unpack)
// and C++ read and write the same bytes. Internal to store/.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace twinflow {

struct Bm25Posting {
  int64_t chunk_id = 0;
  int body_tf = 0, title_tf = 0;  // at most 255: a tsvector keeps 255 positions
  int body_length = 0, title_length = 0;
};

inline constexpr size_t kBm25PostingBytes = 20;

// A word's decoded postings in a search's scope (bm25_postings_cache.h), with
// its peaks (bm25_scoring.h: bm25_peaks), which bound its scores.
struct Bm25PostingList {
  std::vector<Bm25Posting> postings;  // ascending chunk id
  std::vector<Bm25Posting> peaks;
};

namespace bm25_postings_detail {
inline void put(std::string& out, uint64_t value, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((value >> shift) & 0xff));
}
inline uint64_t get(const unsigned char* in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = value << 8 | in[i];
  return value;
}
}  // namespace bm25_postings_detail

inline void append_posting(std::string& out, const Bm25Posting& p) {
  using bm25_postings_detail::put;
  put(out, static_cast<uint64_t>(p.chunk_id), 8);
  put(out, static_cast<uint16_t>(p.body_tf), 2);
  put(out, static_cast<uint16_t>(p.title_tf), 2);
  put(out, static_cast<uint32_t>(p.body_length), 4);
  put(out, static_cast<uint32_t>(p.title_length), 4);
}

// The posting at `in` (kBm25PostingBytes bytes).
inline Bm25Posting read_posting(const unsigned char* in) {
  using bm25_postings_detail::get;
  Bm25Posting p;
  p.chunk_id = static_cast<int64_t>(get(in, 8));
  p.body_tf = static_cast<int16_t>(get(in + 8, 2));
  p.title_tf = static_cast<int16_t>(get(in + 10, 2));
  p.body_length = static_cast<int32_t>(get(in + 12, 4));
  p.title_length = static_cast<int32_t>(get(in + 16, 4));
  return p;
}

// Removes in place, from the `size` bytes of postings at `data`, those of the
// `dead` chunks (sorted ascending); returns the bytes kept (migration 0025).
inline size_t drop_postings_of(unsigned char* data, size_t size, const std::vector<int64_t>& dead) {
  size_t kept = 0;
  for (size_t at = 0; at < size; at += kBm25PostingBytes)
    if (!std::binary_search(dead.begin(), dead.end(), read_posting(data + at).chunk_id)) {
      if (kept != at) std::memmove(data + kept, data + at, kBm25PostingBytes);
      kept += kBm25PostingBytes;
    }
  return kept;
}

}  // namespace twinflow
