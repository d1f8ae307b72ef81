// See shared_vectors.h.
#include "tasks/search/shared_vectors.h"

#include <algorithm>

namespace twinflow {

std::shared_ptr<const VectorIndex> SharedVectors::get(const std::string& key,
                                                      std::chrono::milliseconds recheck,
                                                      const Signature& signature,
                                                      const Load& load) {
  std::unique_lock lock(mutex_);
  Entry* entry = &entries_[key];
  for (;;) {
    entry->used = Clock::now();
    const bool fresh = entry->index && Clock::now() < entry->next_check;
    // Fresh, or someone else is checking and there is a snapshot to answer from.
    if (fresh || (entry->busy && entry->index)) return entry->index;
    if (!entry->busy) break;
    done_.wait(lock);  // the first load of this key is running elsewhere
    entry = &entries_[key];
  }
  entry->busy = true;
  const std::string known = entry->signature;
  const std::shared_ptr<const VectorIndex> previous = entry->index;
  lock.unlock();

  std::string now_signature;
  std::shared_ptr<const VectorIndex> loaded;
  try {
    now_signature = signature();
    if (!previous || now_signature != known) loaded = load(previous.get());
  } catch (...) {
    lock.lock();
    entries_[key].busy = false;
    done_.notify_all();
    throw;
  }

  lock.lock();
  entry = &entries_[key];
  entry->busy = false;
  entry->next_check = Clock::now() + recheck;
  if (loaded) {
    entry->index = std::move(loaded);
    entry->signature = now_signature;
    ++loads_;
  }
  std::shared_ptr<const VectorIndex> out = entry->index;
  // Bounded: the least recently used other keys go (a search holding one
  // keeps its snapshot alive).
  while (entries_.size() > max_keys_) {
    auto oldest = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (it->first != key && !it->second.busy &&
          (oldest == entries_.end() || it->second.used < oldest->second.used))
        oldest = it;
    if (oldest == entries_.end()) break;
    entries_.erase(oldest);
  }
  done_.notify_all();
  return out;
}

size_t SharedVectors::loads() const {
  std::lock_guard lock(mutex_);
  return loads_;
}

}  // namespace twinflow
