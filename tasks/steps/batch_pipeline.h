// BatchPipeline: the data steps' loop of "read a page, do the CPU work, write
// it in one transaction", with the reading and the CPU work of the next pages
// on a thread of their own while the current page is written. The producer
// (which must use a database connection of its own) fills batches; the
// consumer, on the calling thread, writes them in the order they were made.
//
// At most `depth` finished batches wait between the two, so memory stays
// bounded by depth + 2 batches whatever the corpus size. An exception on
// either side stops both and is rethrown by run() on the calling thread (the
// producer's first); batches not yet written are dropped, so a failure, like
// a kill, loses at most what was not committed.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace twinflow {

template <typename Batch>
class BatchPipeline {
 public:
  // Fills `batch` (given empty) and returns true, or returns false at the end.
  using Producer = std::function<bool(Batch& batch)>;
  using Consumer = std::function<void(Batch& batch)>;

  static void run(const Producer& produce, const Consumer& consume, size_t depth = 2) {
    BatchPipeline pipeline(depth);
    std::thread producer([&] { pipeline.produce_all(produce); });
    std::exception_ptr consumer_error;
    try {
      Batch batch;
      while (pipeline.next(batch)) {
        consume(batch);
        batch = Batch();
      }
    } catch (...) {
      consumer_error = std::current_exception();
      pipeline.stop();
    }
    producer.join();
    if (pipeline.producer_error_) std::rethrow_exception(pipeline.producer_error_);
    if (consumer_error) std::rethrow_exception(consumer_error);
  }

 private:
  explicit BatchPipeline(size_t depth) : depth_(depth == 0 ? 1 : depth) {}

  void produce_all(const Producer& produce) {
    try {
      for (;;) {
        Batch batch;
        if (!produce(batch)) break;
        std::unique_lock lock(mutex_);
        space_.wait(lock, [&] { return stopped_ || ready_.size() < depth_; });
        if (stopped_) return;
        ready_.push_back(std::move(batch));
        filled_.notify_one();
      }
    } catch (...) {
      std::lock_guard lock(mutex_);
      producer_error_ = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    done_ = true;
    filled_.notify_one();
  }

  // The next batch in order; false when the producer is done (or failed).
  bool next(Batch& batch) {
    std::unique_lock lock(mutex_);
    filled_.wait(lock, [&] { return !ready_.empty() || done_; });
    if (producer_error_ || ready_.empty()) return false;
    batch = std::move(ready_.front());
    ready_.pop_front();
    space_.notify_one();
    return true;
  }

  void stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    space_.notify_one();
  }

  const size_t depth_;
  std::mutex mutex_;
  std::condition_variable filled_, space_;
  std::deque<Batch> ready_;
  bool done_ = false, stopped_ = false;
  std::exception_ptr producer_error_;
};

// How many rows a step reads next so that a page holds about `page_bytes` of
// text: `first` rows at first, then as many as the average row seen so far
// allows, between `min_rows` and `max_rows`. Bounds a page's memory by its
// bytes rather than its row count (a page of 1,000 book-length documents
// would not fit), while short documents still come many per round trip.
class PageSize {
 public:
  explicit PageSize(int64_t page_bytes = int64_t{4} << 20, int first = 250, int min_rows = 16,
                    int max_rows = 2000)
      : page_bytes_(page_bytes), next_(first), min_(min_rows), max_(max_rows) {}

  // Pages of about `page_bytes` of text, of 16 to `max_rows` rows, starting
  // at 250: what the clean and chunk steps read (`batch_documents` is
  // max_rows).
  static PageSize of_documents(int max_rows, int64_t page_bytes = int64_t{4} << 20) {
    return PageSize(page_bytes, std::min(250, max_rows), std::min(16, max_rows), max_rows);
  }

  int next() const { return next_; }

  void saw(size_t rows, int64_t bytes) {
    rows_ += static_cast<int64_t>(rows);
    bytes_ += bytes;
    if (rows_ == 0) return;
    const int64_t average = std::max<int64_t>(1, bytes_ / rows_);
    next_ = static_cast<int>(std::clamp<int64_t>(page_bytes_ / average, min_, max_));
  }

 private:
  int64_t page_bytes_;
  int next_, min_, max_;
  int64_t rows_ = 0, bytes_ = 0;
};

}  // namespace twinflow
