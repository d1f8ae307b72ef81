// ResponseCache (see response_cache.h): a least-recently-used map under one
// mutex; bodies are shared, so a hit copies no more than the caller asks.
#include "web/response_cache.h"

namespace twinflow {

std::optional<ResponseCache::Hit> ResponseCache::find(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  if (it->second->expires && Clock::now() >= *it->second->expires) {
    erase(it->second);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return Hit{it->second->validator, it->second->body};
}

void ResponseCache::store(const std::string& key, std::string validator, std::string body,
                          std::chrono::milliseconds ttl) {
  const size_t size = key.size() + validator.size() + body.size();
  std::lock_guard lock(mutex_);
  if (const auto it = index_.find(key); it != index_.end()) erase(it->second);
  if (max_entries_ == 0 || size > max_bytes_ / 4) return;
  Entry entry{key, std::move(validator), std::make_shared<const std::string>(std::move(body)),
              std::nullopt};
  if (ttl.count() > 0) entry.expires = Clock::now() + ttl;
  lru_.push_front(std::move(entry));
  index_[key] = lru_.begin();
  bytes_ += size;
  while (lru_.size() > max_entries_ || bytes_ > max_bytes_) erase(std::prev(lru_.end()));
}

size_t ResponseCache::entries() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

size_t ResponseCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

void ResponseCache::erase(std::list<Entry>::iterator it) {
  bytes_ -= it->key.size() + it->validator.size() + it->body->size();
  index_.erase(it->key);
  lru_.erase(it);
}

}  // namespace twinflow
