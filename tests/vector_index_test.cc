// Tests for tasks/search/vector_index.h: top-k equals a brute-force sort of
// every score on random data (several k, one and two threads), ties come back
// by ascending id, k beyond the size returns everything, and vectors that are
// not unit length are normalised; the int8 code scan (top_k_coded) finds at
// least 95% of the exact top 10 on clustered data, with exact scores, and the
// code dot product is exact. Random data come from fixed seeds.
#include "tasks/search/vector_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "util/error.h"
#include "util/int8_codes.h"

namespace twinflow {
namespace {

std::vector<float> random_unit_vector(std::mt19937& random, int dimension) {
  std::normal_distribution<float> normal;
  std::vector<float> v(dimension);
  double norm2 = 0;
  for (float& x : v) {
    x = normal(random);
    norm2 += static_cast<double>(x) * x;
  }
  for (float& x : v) x = static_cast<float>(x / std::sqrt(norm2));
  return v;
}

// Random vectors with scattered ids, kept for the brute-force reference.
struct RandomData {
  int dimension;
  std::vector<std::vector<float>> vectors;
  std::vector<int64_t> ids;
};

RandomData random_data(size_t count, int dimension, unsigned seed) {
  std::mt19937 random(seed);
  RandomData data{dimension, {}, {}};
  for (size_t i = 0; i < count; ++i) {
    data.vectors.push_back(random_unit_vector(random, dimension));
    data.ids.push_back(static_cast<int64_t>(i * 7919 % 100003) - 500);
  }
  return data;
}

VectorIndex index_of(const RandomData& data) {
  VectorIndex index(data.dimension);
  index.reserve(data.vectors.size());
  for (size_t i = 0; i < data.vectors.size(); ++i) index.add(data.ids[i], data.vectors[i].data());
  return index;
}

// Every score computed plainly in double, sorted: the reference.
std::vector<int64_t> brute_force_ids(const RandomData& data, const std::vector<float>& query,
                                     size_t k) {
  std::vector<std::pair<double, int64_t>> scored;
  for (size_t i = 0; i < data.vectors.size(); ++i) {
    double score = 0;
    for (int j = 0; j < data.dimension; ++j) score += double{data.vectors[i][j]} * query[j];
    scored.emplace_back(-score, data.ids[i]);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<int64_t> ids;
  for (size_t i = 0; i < std::min(k, scored.size()); ++i) ids.push_back(scored[i].second);
  return ids;
}

std::vector<int64_t> ids_of(const std::vector<VectorIndex::Hit>& hits) {
  std::vector<int64_t> ids;
  for (const auto& hit : hits) ids.push_back(hit.id);
  return ids;
}

TEST(VectorIndex, TopKMatchesBruteForce) {
  // 70,000 vectors, so that two threads really split the scan; dimension 100
  // is not a multiple of the vector width, so the tail loop runs too.
  const RandomData data = random_data(70000, 100, 1);
  const VectorIndex index = index_of(data);
  ASSERT_EQ(index.size(), 70000u);
  std::mt19937 random(2);
  for (int trial = 0; trial < 3; ++trial) {
    const std::vector<float> query = random_unit_vector(random, 100);
    for (size_t k : {1, 10, 100}) {
      const std::vector<int64_t> expected = brute_force_ids(data, query, k);
      for (int threads : {1, 2}) {
        const auto hits = index.top_k(query.data(), k, threads);
        EXPECT_EQ(ids_of(hits), expected) << "k=" << k << " threads=" << threads;
        for (size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].score, hits[i].score);
      }
    }
  }
}

TEST(VectorIndex, ScoresAreCosines) {
  const RandomData data = random_data(50, 256, 3);
  const VectorIndex index = index_of(data);
  std::vector<float> query = data.vectors[17];
  for (float& x : query) x *= 3;  // a query need not be unit length
  const auto hits = index.top_k(query.data(), 1);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, data.ids[17]);
  EXPECT_NEAR(hits[0].score, 1.0f, 1e-5);
}

TEST(VectorIndex, TiesAreOrderedByAscendingId) {
  VectorIndex index(4);
  const float same[4] = {1, 0, 0, 0};
  const float other[4] = {0, 1, 0, 0};
  for (int64_t id : {42, 7, 19, -3}) index.add(id, same);
  index.add(1, other);
  const float query[4] = {1, 0, 0, 0};
  for (int threads : {1, 2}) {
    EXPECT_EQ(ids_of(index.top_k(query, 3, threads)), (std::vector<int64_t>{-3, 7, 19}));
  }
}

TEST(VectorIndex, KBeyondSizeReturnsEverything) {
  const RandomData data = random_data(5, 8, 4);
  const VectorIndex index = index_of(data);
  const auto hits = index.top_k(data.vectors[0].data(), 50);
  EXPECT_EQ(ids_of(hits), brute_force_ids(data, data.vectors[0], 50));
  EXPECT_EQ(hits.size(), 5u);
  EXPECT_TRUE(index.top_k(data.vectors[0].data(), 0).empty());
  EXPECT_TRUE(VectorIndex(8).top_k(data.vectors[0].data(), 3).empty());
}

TEST(VectorIndex, NormalisesVectorsAndKeepsZeroVectors) {
  VectorIndex index(2);
  const float long_vector[2] = {3, 4};
  const float zero[2] = {0, 0};
  index.add(1, long_vector);
  index.add(2, zero);
  const float query[2] = {0.6f, 0.8f};
  const auto hits = index.top_k(query, 2);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].id, 1);
  EXPECT_NEAR(hits[0].score, 1.0f, 1e-6);
  EXPECT_EQ(hits[1].id, 2);
  EXPECT_EQ(hits[1].score, 0.0f);
}

// Vectors around 40 seeded centres, as embeddings of texts on a few topics
// are: the case where many scores are close and codes could misorder them.
RandomData clustered_data(size_t count, int dimension, unsigned seed) {
  std::mt19937 random(seed);
  std::vector<std::vector<float>> centres;
  for (int c = 0; c < 40; ++c) centres.push_back(random_unit_vector(random, dimension));
  RandomData data{dimension, {}, {}};
  for (size_t i = 0; i < count; ++i) {
    std::vector<float> v = random_unit_vector(random, dimension);
    const std::vector<float>& centre = centres[i % centres.size()];
    for (int j = 0; j < dimension; ++j) v[j] = 2 * centre[j] + v[j];
    data.vectors.push_back(v);
    data.ids.push_back(static_cast<int64_t>(i));
  }
  return data;
}

TEST(VectorIndex, CodedTopKFindsTheExactTopTenWithExactScores) {
  const RandomData data = clustered_data(40000, 256, 5);
  const VectorIndex index = index_of(data);
  std::mt19937 random(6);
  int found = 0, asked = 0;
  for (int q = 0; q < 50; ++q) {
    std::vector<float> query = random_unit_vector(random, 256);
    const std::vector<float>& near = data.vectors[random() % data.vectors.size()];
    for (int j = 0; j < 256; ++j) query[j] += near[j];
    const auto exact = index.top_k(query.data(), 10);
    const auto coded = index.top_k_coded(query.data(), 10, coded_candidates(10));
    ASSERT_EQ(coded.size(), 10u);
    for (const auto& hit : coded) {
      // Scores are the exact ones: the same as top_k gives for that vector.
      const auto same = std::find_if(exact.begin(), exact.end(),
                                     [&](const VectorIndex::Hit& e) { return e.id == hit.id; });
      if (same != exact.end()) {
        EXPECT_EQ(same->score, hit.score);
      }
      found += same != exact.end();
    }
    asked += 10;
  }
  EXPECT_GE(static_cast<double>(found) / asked, 0.95) << found << " of " << asked;
  // With every vector a candidate, it is top_k.
  const std::vector<float>& query = data.vectors[3];
  EXPECT_EQ(ids_of(index.top_k_coded(query.data(), 10, index.size())),
            ids_of(index.top_k(query.data(), 10)));
}

TEST(Int8Codes, DotProductIsExactAndCodesStayWithinTheRange) {
  std::mt19937 random(8);
  for (size_t n : {size_t{1}, size_t{31}, size_t{32}, size_t{100}, size_t{256}}) {
    std::vector<int8_t> a(n), b(n);
    int32_t expected = 0;
    for (size_t i = 0; i < n; ++i) {
      a[i] = static_cast<int8_t>(static_cast<int>(random() % 255) - 127);
      b[i] = i % 2 ? int8_t{127} : int8_t{-127};
      expected += a[i] * b[i];
    }
    EXPECT_EQ(int8_dot(a.data(), b.data(), n), expected) << n;
  }
  const float x[3] = {0.5f, -1.0f, 0.25f}, zero[2] = {0, 0};
  int8_t code[3];
  EXPECT_EQ(encode_int8(x, 3, code), 1.0f);
  EXPECT_EQ(code[0], 64);  // round(63.5)
  EXPECT_EQ(code[1], -127);
  EXPECT_EQ(code[2], 32);
  EXPECT_EQ(encode_int8(zero, 2, code), 0.0f);
  EXPECT_EQ(code[0], 0);
}

TEST(VectorIndex, AnIndexSharingAnotherSearchesTheKeptVectorsAndItsOwn) {
  // Three segments (a base, a derived index's own, a second derivation's
  // own), each filtered, and big enough that two threads split the scan
  // across segment boundaries.
  const RandomData data = random_data(90000, 64, 9);
  VectorIndex base(64);
  for (size_t i = 0; i < 40000; ++i) base.add(data.ids[i], data.vectors[i].data(), 1);
  std::vector<bool> keep(base.size());
  for (size_t i = 0; i < keep.size(); ++i) keep[i] = i % 3 != 0;
  VectorIndex derived(base, keep);
  for (size_t i = 40000; i < 70000; ++i) derived.add(data.ids[i], data.vectors[i].data(), 2);
  std::vector<bool> keep_again(derived.size());
  for (size_t i = 0; i < keep_again.size(); ++i) keep_again[i] = i % 5 != 0;
  VectorIndex again(derived, keep_again);
  for (size_t i = 70000; i < 90000; ++i) again.add(data.ids[i], data.vectors[i].data(), 3);
  EXPECT_EQ(again.segments(), 3u);

  // The reference: the same vectors in one plain index.
  RandomData searched{64, {}, {}};
  for (size_t i = 0; i < again.size(); ++i) {
    searched.ids.push_back(again.id_at(i));
    searched.vectors.emplace_back(again.vector_at(i), again.vector_at(i) + 64);
  }
  // 40,000 - 13,334 + 30,000 = 56,666 in derived; - 11,334 + 20,000.
  ASSERT_EQ(searched.ids.size(), 65332u);
  const VectorIndex plain = index_of(searched);
  EXPECT_EQ(again.resident(), 90000u);
  std::mt19937 random(10);
  for (int trial = 0; trial < 3; ++trial) {
    const std::vector<float> query = random_unit_vector(random, 64);
    for (int threads : {1, 2}) {
      EXPECT_EQ(ids_of(again.top_k(query.data(), 20, threads)),
                brute_force_ids(searched, query, 20));
      EXPECT_EQ(ids_of(again.top_k_coded(query.data(), 10, again.size(), threads)),
                ids_of(plain.top_k(query.data(), 10)));
    }
  }
  // Adding to the base afterwards goes to a segment of its own: the indexes
  // sharing its first one do not see it.
  base.add(123456, data.vectors[0].data());
  EXPECT_EQ(base.segments(), 2u);
  EXPECT_EQ(derived.size(), 56666u);
  EXPECT_EQ(again.version_at(0), 1u);
  EXPECT_EQ(again.version_at(again.size() - 1), 3u);
}

TEST(VectorIndex, RejectsNonPositiveDimension) {
  EXPECT_THROW(VectorIndex(0), Error);
}

}  // namespace
}  // namespace twinflow
