// LISTEN/NOTIFY for the scheduler. See event_listener.h.
#include "store/event_listener.h"

#include <poll.h>

#include <pqxx/pqxx>
#include <thread>

namespace twinflow {
namespace {

class CountingReceiver : public pqxx::notification_receiver {
 public:
  CountingReceiver(pqxx::connection_base& c, int& count)
      : pqxx::notification_receiver(c, EventListener::kChannel), count_(count) {}
  void operator()(const std::string& /*payload*/, int /*backend_pid*/) override { ++count_; }

 private:
  int& count_;
};

}  // namespace

struct EventListener::Impl {
  explicit Impl(const std::string& conninfo) : connection(conninfo), receiver(connection, count) {}
  pqxx::connection connection;
  int count = 0;
  CountingReceiver receiver;
};

EventListener::EventListener(std::string conninfo) : conninfo_(std::move(conninfo)) {}

EventListener::~EventListener() = default;

bool EventListener::wait(std::chrono::milliseconds timeout, int wake_fd) {
  try {
    if (!impl_) impl_ = std::make_unique<Impl>(conninfo_);
    impl_->count = 0;
    impl_->connection.get_notifs();  // any that arrived since the last wait
    if (impl_->count > 0) return true;
    pollfd fds[2] = {{impl_->connection.sock(), POLLIN, 0}, {wake_fd, POLLIN, 0}};
    ::poll(fds, wake_fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
    impl_->connection.get_notifs();
    return impl_->count > 0;
  } catch (const std::exception&) {
    // The database is away: drop the connection, sleep the poll interval, and
    // let the caller's next pass find out (and the next wait reconnect).
    impl_.reset();
    std::this_thread::sleep_for(timeout);
    return false;
  }
}

}  // namespace twinflow
