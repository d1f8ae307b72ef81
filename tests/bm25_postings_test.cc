// The two codecs of a BM25 block row's postings (store/bm25_postings.h,
// migration 0029): codec 2 reads back what it wrote for any id, frequency and
// length a posting can hold, both codecs leave out the dead chunks, and bytes
// that are not postings of the row's codec are refused rather than misread.
// That SQL and C++ agree on both codecs is tested against PostgreSQL in
// bm25_test.cc.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "store/bm25_postings.h"

namespace twinflow {
namespace {

bool same(const Bm25Posting& a, const Bm25Posting& b) {
  return a.chunk_id == b.chunk_id && a.body_tf == b.body_tf && a.title_tf == b.title_tf &&
         a.body_length == b.body_length && a.title_length == b.title_length;
}

std::vector<Bm25Posting> decode(const std::string& bytes, Bm25Codec codec,
                                const std::vector<int64_t>* dead = nullptr) {
  std::vector<Bm25Posting> out;
  EXPECT_TRUE(decode_postings(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                              static_cast<int>(codec), dead, out));
  return out;
}

bool refused(const std::string& bytes, int codec) {
  std::vector<Bm25Posting> out;
  return !decode_postings(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), codec,
                          nullptr, out);
}

// What twinflow_bm25_pack writes (migration 0023): big-endian int8, int2,
// int2, int4, int4.
std::string fixed(const Bm25Posting& p) {
  std::string out;
  auto put = [&](uint64_t v, int bytes) {
    for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((v >> shift) & 0xff));
  };
  put(static_cast<uint64_t>(p.chunk_id), 8);
  put(static_cast<uint16_t>(p.body_tf), 2);
  put(static_cast<uint16_t>(p.title_tf), 2);
  put(static_cast<uint32_t>(p.body_length), 4);
  put(static_cast<uint32_t>(p.title_length), 4);
  return out;
}

TEST(Bm25PostingCodec, VarintPostingsReadBackExactlyAndAreSmall) {
  std::mt19937_64 random(7);
  std::vector<Bm25Posting> postings;
  int64_t id = 0;
  for (int i = 0; i < 5000; ++i) {
    // Mostly near neighbours, now and then a jump as far as ids go.
    id += i % 997 == 0 ? int64_t{1} << (20 + i % 40) : 1 + static_cast<int64_t>(random() % 40);
    postings.push_back({id, static_cast<int>(random() % 256), static_cast<int>(random() % 3),
                        static_cast<int>(random() % 400), static_cast<int>(random() % 12)});
  }
  postings.push_back({std::numeric_limits<int64_t>::max(), 255, 255,
                      std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::max()});
  Bm25PostingEncoder encoder;
  for (const Bm25Posting& p : postings) encoder.add(p);
  ASSERT_EQ(encoder.count(), static_cast<int>(postings.size()));
  const std::vector<Bm25Posting> back = decode(encoder.bytes(), Bm25Codec::kVarint);
  ASSERT_EQ(back.size(), postings.size());
  for (size_t i = 0; i < back.size(); ++i) EXPECT_TRUE(same(back[i], postings[i])) << i;
  // Under a third of codec 1's 20 bytes per posting for such lists.
  EXPECT_LT(encoder.bytes().size(), postings.size() * kBm25FixedPostingBytes / 3);
}

TEST(Bm25PostingCodec, BothCodecsLeaveOutTheDeadChunks) {
  const std::vector<Bm25Posting> postings = {
      {3, 1, 0, 10, 2}, {9, 2, 1, 12, 2}, {10, 1, 0, 7, 0}, {400, 4, 0, 90, 3}};
  const std::vector<int64_t> dead = {9, 400, 401};
  std::string in_fixed;
  Bm25PostingEncoder in_varint;
  for (const Bm25Posting& p : postings) {
    in_fixed += fixed(p);
    in_varint.add(p);
  }
  for (const auto& kept : {decode(in_fixed, Bm25Codec::kFixed, &dead),
                           decode(in_varint.bytes(), Bm25Codec::kVarint, &dead)}) {
    ASSERT_EQ(kept.size(), 2u);
    EXPECT_TRUE(same(kept[0], postings[0]));
    EXPECT_TRUE(same(kept[1], postings[2]));
  }
  const std::vector<Bm25Posting> all = decode(in_fixed, Bm25Codec::kFixed);
  ASSERT_EQ(all.size(), postings.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_TRUE(same(all[i], postings[i]));
}

TEST(Bm25PostingCodec, BytesThatAreNotPostingsOfTheRowsCodecAreRefused) {
  Bm25PostingEncoder two;
  two.add({5, 1, 0, 300, 2});
  two.add({6, 2, 0, 301, 2});
  const std::string good = two.bytes();
  EXPECT_FALSE(refused(good, 2));
  EXPECT_TRUE(refused(good.substr(0, good.size() - 1), 2));   // cut in the last posting
  EXPECT_TRUE(refused(good + std::string(1, '\x81'), 2));     // a varint that never ends
  EXPECT_TRUE(refused(std::string(10, '\xff') + '\x01', 2));  // past 63 bits
  Bm25PostingEncoder repeated;  // ids must ascend: a distance of 0 is no posting
  repeated.add({5, 1, 0, 3, 0});
  repeated.add({5, 1, 0, 3, 0});
  EXPECT_TRUE(refused(repeated.bytes(), 2));
  Bm25PostingEncoder too_long;  // a length past int32
  too_long.add({5, 1, 0, 3, 0});
  std::string bytes = too_long.bytes();
  bytes.back() = '\x80';
  bytes += std::string("\x80\x80\x80\x10", 4);  // title_length 2^32
  EXPECT_TRUE(refused(bytes, 2));
  EXPECT_TRUE(refused(fixed({5, 1, 0, 3, 0}).substr(1), 1));  // not 20 bytes a posting
  EXPECT_TRUE(refused(good, 3));                              // no such codec
  EXPECT_TRUE(refused(good, 0));
  EXPECT_FALSE(refused("", 2));  // an empty row holds no posting
}

}  // namespace
}  // namespace twinflow
