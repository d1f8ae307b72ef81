// Bm25PostingsCache: an LRU of decoded postings lists under one lock; see
// bm25_postings_cache.h.
#include "store/bm25_postings_cache.h"

namespace twinflow {

namespace {
std::string cache_key(const std::string& scope, const std::string& lexeme) {
  return scope + '\x1e' + lexeme;
}
}  // namespace

std::shared_ptr<const Bm25PostingsCache::Postings> Bm25PostingsCache::find(
    const std::string& scope, const std::string& version, const std::string& lexeme) {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(cache_key(scope, lexeme));
  if (it == entries_.end() || it->second.version != version) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.used);
  return it->second.postings;
}

void Bm25PostingsCache::put(const std::string& scope, const std::string& version,
                            const std::string& lexeme, std::shared_ptr<const Postings> postings) {
  if (!postings || size_of(*postings) > max_bytes_) return;
  std::lock_guard lock(mutex_);
  std::string key = cache_key(scope, lexeme);
  if (const auto old = entries_.find(key); old != entries_.end()) erase(old);
  bytes_ += size_of(*postings);
  lru_.push_front(key);
  entries_.emplace(std::move(key), Entry{version, std::move(postings), lru_.begin()});
  while (bytes_ > max_bytes_) erase(entries_.find(lru_.back()));
}

void Bm25PostingsCache::erase(std::unordered_map<std::string, Entry>::iterator it) {
  bytes_ -= size_of(*it->second.postings);
  lru_.erase(it->second.used);
  entries_.erase(it);
}

size_t Bm25PostingsCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

size_t Bm25PostingsCache::entries() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace twinflow
