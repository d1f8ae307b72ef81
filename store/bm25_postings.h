// The packed postings of a BM25 block row, in one of two codecs named by the
// row's `codec` (migration 0029), each posting a chunk's id, its term
// frequencies in body and title, and its field lengths:
//   1 (migration 0023): 20 bytes per chunk, in chunk id order, big-endian as
//     PostgreSQL's int8send, int2send and int4send give them, so that SQL
//     (twinflow_bm25_pack, twinflow_bm25_unpack) writes and reads them too.
//     The database's own path (twinflow_bm25_add) still writes it.
//   2 (migration 0029): per chunk five unsigned LEB128 varints: the id's
//     distance from the one before (the first: the id itself), body_tf,
//     title_tf, body_length, title_length. About 6 bytes per chunk instead of
//     20; what the chunk writer and compaction write.
// Internal to store/.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace twinflow {

struct Bm25Posting {
  int64_t chunk_id = 0;
  int body_tf = 0, title_tf = 0;  // at most 255: a tsvector keeps 255 positions
  int body_length = 0, title_length = 0;
};

enum class Bm25Codec : int { kFixed = 1, kVarint = 2 };

inline constexpr size_t kBm25FixedPostingBytes = 20;

// The most postings `size` bytes of `codec` can hold (codec 2: five varints
// of at least a byte each), to reserve room before decoding.
inline size_t max_postings(size_t size, int codec) {
  return codec == static_cast<int>(Bm25Codec::kFixed) ? size / kBm25FixedPostingBytes : size / 5;
}

// A word's decoded postings in a search's scope (bm25_postings_cache.h), with
// its peaks (bm25_scoring.h: bm25_peaks), which bound its scores.
struct Bm25PostingList {
  std::vector<Bm25Posting> postings;  // ascending chunk id
  std::vector<Bm25Posting> peaks;
};

namespace bm25_postings_detail {
inline uint64_t get_fixed(const unsigned char* in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = value << 8 | in[i];
  return value;
}
inline void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}
// The varint at `at` (moved past it); false when it runs past `end` or
// beyond 63 bits.
inline bool get_varint(const unsigned char*& at, const unsigned char* end, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 63; shift += 7) {
    if (at == end) return false;
    const unsigned char b = *at++;
    value |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) return true;
  }
  return false;
}
}  // namespace bm25_postings_detail

// Writes a block row's postings in codec 2, one chunk at a time in ascending
// chunk id order.
class Bm25PostingEncoder {
 public:
  void add(const Bm25Posting& p) {
    using bm25_postings_detail::put_varint;
    put_varint(bytes_, static_cast<uint64_t>(p.chunk_id - last_id_));
    put_varint(bytes_, static_cast<uint32_t>(p.body_tf));
    put_varint(bytes_, static_cast<uint32_t>(p.title_tf));
    put_varint(bytes_, static_cast<uint32_t>(p.body_length));
    put_varint(bytes_, static_cast<uint32_t>(p.title_length));
    last_id_ = p.chunk_id;
    ++count_;
  }
  const std::string& bytes() const { return bytes_; }
  int count() const { return count_; }

 private:
  std::string bytes_;
  int64_t last_id_ = 0;
  int count_ = 0;
};

// Appends the `size` bytes of postings at `data`, written in `codec` (the
// row's column), to `out`, but those of the `dead` chunks (sorted ascending;
// may be null). False when the bytes are not postings of that codec: a size
// that is no whole number of postings, ids not ascending, a field out of
// range, or an unknown codec.
inline bool decode_postings(const unsigned char* data, size_t size, int codec,
                            const std::vector<int64_t>* dead, std::vector<Bm25Posting>& out) {
  using namespace bm25_postings_detail;
  const auto keep = [&](const Bm25Posting& p) {
    if (!dead || !std::binary_search(dead->begin(), dead->end(), p.chunk_id)) out.push_back(p);
  };
  if (codec == static_cast<int>(Bm25Codec::kFixed)) {
    if (size % kBm25FixedPostingBytes != 0) return false;
    for (size_t at = 0; at < size; at += kBm25FixedPostingBytes) {
      const unsigned char* in = data + at;
      Bm25Posting p;
      p.chunk_id = static_cast<int64_t>(get_fixed(in, 8));
      p.body_tf = static_cast<int16_t>(get_fixed(in + 8, 2));
      p.title_tf = static_cast<int16_t>(get_fixed(in + 10, 2));
      p.body_length = static_cast<int32_t>(get_fixed(in + 12, 4));
      p.title_length = static_cast<int32_t>(get_fixed(in + 16, 4));
      keep(p);
    }
    return true;
  }
  if (codec != static_cast<int>(Bm25Codec::kVarint)) return false;
  const unsigned char* at = data;
  const unsigned char* const end = data + size;
  uint64_t id = 0;
  while (at != end) {
    uint64_t delta = 0, field[4];
    if (!get_varint(at, end, delta) || delta == 0 || delta > uint64_t{INT64_MAX} - id) return false;
    id += delta;
    for (uint64_t& f : field)
      if (!get_varint(at, end, f) || f > uint64_t{INT32_MAX}) return false;
    keep({static_cast<int64_t>(id), static_cast<int>(field[0]), static_cast<int>(field[1]),
          static_cast<int>(field[2]), static_cast<int>(field[3])});
  }
  return true;
}

}  // namespace twinflow
