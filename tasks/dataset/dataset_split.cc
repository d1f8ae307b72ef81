// See dataset_split.h.
#include "tasks/dataset/dataset_split.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "util/error.h"

namespace twinflow {
namespace {

// splitmix64: the same sequence on every platform, unlike the standard
// distributions.
class SplitRandom {
 public:
  explicit SplitRandom(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// Sample count per document, in ascending id order.
template <typename Sample>
std::map<int64_t, size_t> samples_per_document(const std::vector<Sample>& samples) {
  std::map<int64_t, size_t> out;
  for (const Sample& s : samples) ++out[s.document_id];
  return out;
}

// The documents of the test side.
std::set<int64_t> choose_test_documents(const std::map<int64_t, size_t>& sizes,
                                        size_t total_samples, const SplitOptions& options) {
  std::vector<int64_t> order;
  for (const auto& [id, size] : sizes) order.push_back(id);
  SplitRandom random(options.seed);
  for (size_t i = order.size(); i > 1; --i)  // Fisher-Yates
    std::swap(order[i - 1], order[random.next() % i]);

  std::set<int64_t> test;
  if (options.test_fraction <= 0.0 || order.size() < 2) return test;
  const double target = options.test_fraction * static_cast<double>(total_samples);
  size_t test_samples = 0;
  for (int64_t id : order) {
    if (test.size() + 1 >= order.size()) break;  // keep one document for training
    const size_t size = sizes.at(id);
    if (!test.empty() && static_cast<double>(test_samples + size) > target) continue;
    test.insert(id);
    test_samples += size;
  }
  return test;
}

template <typename Sample>
DatasetSplit<Sample> split_any(std::vector<Sample> samples, const SplitOptions& options) {
  if (!(options.test_fraction >= 0.0 && options.test_fraction < 1.0))
    throw Error("dataset split: test_fraction must be in [0, 1), got " +
                std::to_string(options.test_fraction));
  const std::set<int64_t> test_documents =
      choose_test_documents(samples_per_document(samples), samples.size(), options);
  DatasetSplit<Sample> split;
  for (Sample& s : samples)
    (test_documents.count(s.document_id) ? split.test : split.train).push_back(std::move(s));
  return split;
}

}  // namespace

DatasetSplit<InstructSample> split_dataset(std::vector<InstructSample> samples,
                                           const SplitOptions& options) {
  return split_any(std::move(samples), options);
}

DatasetSplit<PreferenceSample> split_dataset(std::vector<PreferenceSample> samples,
                                             const SplitOptions& options) {
  return split_any(std::move(samples), options);
}

}  // namespace twinflow
