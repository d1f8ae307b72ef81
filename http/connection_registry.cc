// ConnectionRegistry (connection_registry.h).
#include "http/connection_registry.h"

#include <sys/resource.h>

#include <algorithm>

namespace twinflow {

ConnectionRegistry::ConnectionRegistry(int per_client_limit, int total_limit)
    : per_client_limit_(std::max(1, per_client_limit)),
      total_limit_(total_limit > 0 ? total_limit : default_total_limit()) {}

int ConnectionRegistry::default_total_limit() {
  rlimit limit{};
  rlim_t files = 1024;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    files = limit.rlim_cur;
  files = std::min<rlim_t>(files, 1 << 20);
  const rlim_t reserve = std::max<rlim_t>(64, files / 8);
  return files > reserve + 16 ? static_cast<int>(files - reserve) : 16;
}

ConnectionRegistry::Admission ConnectionRegistry::admit(const std::string& client,
                                                        std::weak_ptr<Evictable> connection) {
  Admission out;
  std::lock_guard lock(mutex_);
  auto make_room = [&](const std::string& of_client) {
    const auto victim = oldest_idle(of_client);
    if (victim == entries_.end()) return false;
    if (auto alive = victim->second.connection.lock()) out.evicted.push_back(std::move(alive));
    erase(victim);
    return true;
  };
  const auto count = per_client_.find(client);
  if (count != per_client_.end() && count->second >= per_client_limit_ && !make_room(client))
    return out;
  if (static_cast<int>(entries_.size()) >= total_limit_ && !make_room("")) return out;
  out.admitted = true;
  out.id = next_id_++;
  entries_.emplace(out.id, Entry{client, std::move(connection), true});
  ++per_client_[client];
  return out;
}

void ConnectionRegistry::set_idle(uint64_t id, bool idle) {
  std::lock_guard lock(mutex_);
  if (const auto it = entries_.find(id); it != entries_.end()) it->second.idle = idle;
}

void ConnectionRegistry::remove(uint64_t id) {
  std::lock_guard lock(mutex_);
  if (const auto it = entries_.find(id); it != entries_.end()) erase(it);
}

size_t ConnectionRegistry::open_connections() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::map<uint64_t, ConnectionRegistry::Entry>::iterator ConnectionRegistry::oldest_idle(
    const std::string& client) {
  return std::find_if(entries_.begin(), entries_.end(), [&](const auto& entry) {
    return entry.second.idle && (client.empty() || entry.second.client == client);
  });
}

void ConnectionRegistry::erase(std::map<uint64_t, Entry>::iterator it) {
  const auto count = per_client_.find(it->second.client);
  if (count != per_client_.end() && --count->second <= 0) per_client_.erase(count);
  entries_.erase(it);
}

}  // namespace twinflow
