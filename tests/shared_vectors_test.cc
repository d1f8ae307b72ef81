// SharedVectors: one load per key for concurrent sessions, a stale snapshot
// served while another session reloads, the recheck interval, errors retried.
#include "tasks/search/shared_vectors.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "util/error.h"

namespace twinflow {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<VectorIndex> index_of(int64_t id) {
  auto index = std::make_unique<VectorIndex>(2);
  const float v[2] = {1, 0};
  index->add(id, v);
  return index;
}

int64_t first_id(const std::shared_ptr<const VectorIndex>& index) {
  const float q[2] = {1, 0};
  return index->top_k(q, 1).at(0).id;
}

TEST(SharedVectors, ConcurrentSessionsLoadOnceAndShareTheSnapshot) {
  SharedVectors shared;
  std::atomic<int> loads{0};
  std::vector<std::shared_ptr<const VectorIndex>> got(8);
  std::vector<std::thread> sessions;
  for (size_t i = 0; i < got.size(); ++i)
    sessions.emplace_back([&, i] {
      got[i] = shared.get(
          "m1", 1h, [] { return std::string("sig-1"); },
          [&](const VectorIndex*) {
            ++loads;
            std::this_thread::sleep_for(100ms);  // a slow load: the others must wait
            return index_of(7);
          });
    });
  for (auto& t : sessions) t.join();
  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(shared.loads(), 1u);
  for (const auto& index : got) {
    ASSERT_TRUE(index);
    EXPECT_EQ(index.get(), got[0].get());
  }
}

TEST(SharedVectors, ReloadsOnlyWhenTheSignatureChangesAfterTheInterval) {
  SharedVectors shared;
  int signatures = 0;
  std::string state = "a";
  auto get = [&](std::chrono::milliseconds recheck, int64_t id) {
    return shared.get(
        "m1", recheck,
        [&] {
          ++signatures;
          return state;
        },
        [&](const VectorIndex*) { return index_of(id); });
  };
  EXPECT_EQ(first_id(get(1h, 1)), 1);
  EXPECT_EQ(signatures, 1);
  state = "b";
  EXPECT_EQ(first_id(get(1h, 2)), 1);  // within the interval: not even asked
  EXPECT_EQ(signatures, 1);
  EXPECT_EQ(first_id(get(0ms, 2)), 1);  // the old entry's interval is an hour
  EXPECT_EQ(signatures, 1);

  SharedVectors quick;
  std::string q_state = "a";
  const VectorIndex* given = nullptr;  // the previous snapshot the last load was given
  auto quick_get = [&](int64_t id) {
    return quick.get(
        "m1", 0ms, [&] { return q_state; },
        [&](const VectorIndex* previous) {
          given = previous;
          return index_of(id);
        });
  };
  const auto first = quick_get(1);
  EXPECT_EQ(first_id(first), 1);
  EXPECT_EQ(given, nullptr);             // the key's first load
  EXPECT_EQ(first_id(quick_get(2)), 1);  // asked, unchanged: kept
  q_state = "b";
  EXPECT_EQ(first_id(quick_get(3)), 3);  // changed: reloaded, from the snapshot it replaces
  EXPECT_EQ(given, first.get());
  EXPECT_EQ(quick.loads(), 2u);
}

TEST(SharedVectors, AnotherSessionAnswersFromTheOldSnapshotDuringAReload) {
  SharedVectors shared;
  std::string state = "a";
  shared.get(
      "m1", 0ms, [&] { return state; }, [](const VectorIndex*) { return index_of(1); });
  state = "b";
  std::atomic<bool> loading{false}, release{false};
  std::thread reloader([&] {
    shared.get(
        "m1", 0ms, [&] { return state; },
        [&](const VectorIndex*) {
          loading = true;
          while (!release) std::this_thread::sleep_for(1ms);
          return index_of(2);
        });
  });
  while (!loading) std::this_thread::sleep_for(1ms);
  // The reload is running: this session is not kept waiting for it.
  EXPECT_EQ(first_id(shared.get(
                "m1", 0ms, [&] { return state; }, [](const VectorIndex*) { return index_of(9); })),
            1);
  release = true;
  reloader.join();
  EXPECT_EQ(first_id(shared.get(
                "m1", 1h, [&] { return state; }, [](const VectorIndex*) { return index_of(9); })),
            2);
}

TEST(SharedVectors, AFailedLoadReachesItsCallerAndTheNextOneRetries) {
  SharedVectors shared;
  EXPECT_THROW(
      shared.get(
          "m1", 1h, [] { return std::string("s"); },
          [](const VectorIndex*) -> std::unique_ptr<VectorIndex> { throw Error("database gone"); }),
      Error);
  EXPECT_EQ(first_id(shared.get(
                "m1", 1h, [] { return std::string("s"); },
                [](const VectorIndex*) { return index_of(4); })),
            4);
}

TEST(SharedVectors, HoldsAtMostMaxKeysAndASnapshotInUseOutlivesItsEviction) {
  SharedVectors shared(2);
  auto a = shared.get(
      "a", 1h, [] { return std::string("s"); }, [](const VectorIndex*) { return index_of(1); });
  shared.get(
      "b", 1h, [] { return std::string("s"); }, [](const VectorIndex*) { return index_of(2); });
  shared.get(
      "c", 1h, [] { return std::string("s"); }, [](const VectorIndex*) { return index_of(3); });
  EXPECT_EQ(first_id(a), 1);  // evicted from the cache, still alive here
  // "a" was the least recently used: asking again loads it again.
  shared.get(
      "a", 1h, [] { return std::string("s"); }, [](const VectorIndex*) { return index_of(5); });
  EXPECT_EQ(shared.loads(), 4u);
}

}  // namespace
}  // namespace twinflow
