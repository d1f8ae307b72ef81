// EventListener: a connection that LISTENs on the scheduler's events channel,
// so a waiting scheduler wakes the moment a step commits new data instead of
// at its next poll.
//
// The outbox triggers (migrations/0004_scheduler_queue.sql) NOTIFY
// 'twinflow_events' in the transaction that writes an event; PostgreSQL
// delivers it on commit. A lost connection only costs latency: the scheduler
// polls anyway, and wait() reconnects on the next call.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace twinflow {

class EventListener {
 public:
  explicit EventListener(std::string conninfo);
  ~EventListener();
  EventListener(const EventListener&) = delete;
  EventListener& operator=(const EventListener&) = delete;

  // Blocks until a notification arrives (true), `timeout` passes, or
  // `wake_fd` (if >= 0) becomes readable (false for both).
  bool wait(std::chrono::milliseconds timeout, int wake_fd = -1);

  static constexpr const char* kChannel = "twinflow_events";

 private:
  struct Impl;
  std::string conninfo_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace twinflow
