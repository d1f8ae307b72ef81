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

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string>

#include "util/error.h"

namespace twinflow {

// The database cannot be reached: connecting failed, or the connection was
// lost. A server answers it with 503 and the same request succeeds once the
// database is back (a lost libpqxx connection reconnects on its next use);
// a command says it and exits.
class DatabaseUnavailable : public Error {
 public:
  using Error::Error;
};

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
// shutting down or starting (DatabaseUnavailable, libpqxx's broken_connection
// and in_doubt_error; SQLSTATE class 08, 57P01-57P03), as opposed to a
// refused statement.
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

// What a server tells a client whose request failed because the database is
// away (is_connection_loss): the cause stays in the server's log (a
// socket path or a host name is not the client's business).
constexpr const char* kDatabaseUnavailable = "the database is unavailable; try again shortly";
// Seconds a client is asked to wait (Retry-After) before trying again.
constexpr int kRetryAfterSeconds = 5;

// A server's log of outages: `server: database unavailable (cause)` on
// stderr, at most once per `every`, so that a client retrying in a loop
// does not fill the log. Thread-safe.
class OutageLog {
 public:
  OutageLog(std::string server, std::chrono::seconds every = std::chrono::seconds(10));
  void report(const std::exception& cause);

 private:
  std::string server_;
  std::chrono::seconds every_;
  std::atomic<int64_t> next_ms_{0};  // steady clock, ms
};

}  // namespace twinflow
