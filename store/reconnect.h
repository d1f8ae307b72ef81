// Riding out a lost database: which failures mean "the connection is gone"
// and how long a Store keeps retrying an operation before it gives up.
//
// A scheduler must survive a PostgreSQL restart or failover: its running
// steps go on, and what they produce is recorded once the database is back.
// Store operations that the executor and the daemon depend on run through
// Store::Impl::durable (store_impl.h), which on a lost connection waits with
// exponential backoff, lets libpqxx reconnect, and runs the operation again.
// Running an operation again is safe because each of those operations is
// idempotent: a commit whose acknowledgement was lost ("in doubt") and is then
// repeated records nothing twice (see migrations/0006_durable_records.sql).
// The one exception is record_metrics: a batch of metric points whose commit
// was in doubt may be recorded twice; a step's results never are.
//
// The default policy never retries, so an interactive command fails at once
// with a clear message; `twinflow scheduler` and `twinflow run` wait.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string>

namespace twinflow {

struct ReconnectPolicy {
  // How long one operation keeps trying while the database is unreachable;
  // zero: no retry. max() waits forever (the daemon).
  std::chrono::milliseconds give_up_after{0};
  std::chrono::milliseconds first_backoff{50};
  std::chrono::milliseconds max_backoff{2000};
  // Told once per outage when it starts and when it ends, e.g. the daemon's log.
  std::function<void(const std::string&)> log = [](const std::string&) {};

  static ReconnectPolicy forever(std::function<void(const std::string&)> log);
};

// True when `e` says the connection to the server is lost or the server is
// shutting down or starting (libpqxx's broken_connection and in_doubt_error;
// SQLSTATE class 08, 57P01-57P03), as opposed to a refused statement.
bool is_connection_loss(const std::exception& e);

// The waiting of one operation through one outage: after_loss() sleeps the
// next backoff, or throws Error once the policy gives up; recovered() says
// that the operation went through after all.
class OutageBackoff {
 public:
  OutageBackoff(const ReconnectPolicy& policy, const char* operation);
  void after_loss(const std::exception& e);
  void recovered();

 private:
  const ReconnectPolicy& policy_;
  const char* operation_;
  std::optional<std::chrono::steady_clock::time_point> lost_since_;
  std::chrono::milliseconds backoff_{0};
};

}  // namespace twinflow
