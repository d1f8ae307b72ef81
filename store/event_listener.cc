// LISTEN/NOTIFY for the scheduler. See event_listener.h.
#include "store/event_listener.h"

#include <poll.h>

#include <algorithm>
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

// Linux lets poll() wake up to 0.1% of its timeout late (timer slack: 59 ms
// on a 59 s wait, which is a cron tick's run starting 59 ms late), so a long
// wait is polled in slices of at most a second, each at most 1 ms late.
void poll_until(std::chrono::steady_clock::time_point deadline, int socket, int wake_fd) {
  constexpr std::chrono::milliseconds kSlice{1000};
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd fds[2] = {{socket, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    const int ready =
        ::poll(fds, wake_fd >= 0 ? 2 : 1, static_cast<int>(std::min(left, kSlice).count()));
    if (ready != 0) return;  // a notification, the wake fd, or an error for the caller to see
  }
}

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
    poll_until(std::chrono::steady_clock::now() + timeout, impl_->connection.sock(), wake_fd);
    impl_->connection.get_notifs();
    return impl_->count > 0;
  } catch (const std::exception&) {
    // The database is away: drop the connection, pause briefly, and let the
    // caller's next pass find out (its store waits for the database to come
    // back) and the next wait reconnect. Not the whole timeout: the pass
    // should run as soon as the database is back, not a poll interval later.
    impl_.reset();
    std::this_thread::sleep_for(std::min(timeout, std::chrono::milliseconds(500)));
    return false;
  }
}

}  // namespace twinflow
