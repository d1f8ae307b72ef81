// Connection-loss detection and the backoff between retries. See reconnect.h.
#include "store/reconnect.h"

#include <cstdio>
#include <pqxx/except>
#include <thread>

#include "util/error.h"
#include "util/strings.h"

namespace twinflow {

ReconnectPolicy ReconnectPolicy::forever(std::function<void(const std::string&)> log) {
  ReconnectPolicy policy;
  policy.give_up_after = std::chrono::milliseconds::max();
  policy.log = std::move(log);
  return policy;
}

bool is_connection_loss(const std::exception& e) {
  if (dynamic_cast<const DatabaseUnavailable*>(&e)) return true;
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) return true;
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e)) return true;
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = sql->sqlstate();
    // 08xxx: connection exception; 57P01 admin shutdown, 57P02 crash
    // shutdown, 57P03 cannot connect now (starting up or shutting down).
    return state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03";
  }
  return false;
}

OutageBackoff::OutageBackoff(const ReconnectPolicy& policy, const char* operation)
    : policy_(policy), operation_(operation) {}

void OutageBackoff::after_loss(const std::exception& e) {
  const auto now = std::chrono::steady_clock::now();
  if (!lost_since_) {
    lost_since_ = now;
    backoff_ = policy_.first_backoff;
    if (policy_.give_up_after.count() > 0)
      policy_.log("database unreachable during " + std::string(operation_) + " (" + e.what() +
                  "); retrying");
  }
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - *lost_since_);
  if (policy_.give_up_after.count() == 0 || waited >= policy_.give_up_after)
    throw Error(std::string(operation_) + ": lost the connection to the database: " + e.what());
  std::this_thread::sleep_for(backoff_);
  backoff_ = std::min(backoff_ * 2, policy_.max_backoff);
}

void OutageBackoff::recovered() {
  if (!lost_since_) return;
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - *lost_since_).count();
  policy_.log("database reachable again; " + std::string(operation_) + " went through after " +
              std::to_string(seconds) + " s");
  lost_since_.reset();
}

OutageLog::OutageLog(std::string server, std::chrono::seconds every)
    : server_(std::move(server)), every_(every) {}

void OutageLog::report(const std::exception& cause) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t next = next_ms_.load();
  if (now < next ||
      !next_ms_.compare_exchange_strong(
          next, now + std::chrono::duration_cast<std::chrono::milliseconds>(every_).count()))
    return;
  std::fprintf(stderr, "%s: database unavailable (%s)\n", server_.c_str(),
               one_line(cause.what()).c_str());
}

}  // namespace twinflow
