#include "scheduler/execution/recovery.h"

#include <signal.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <sstream>

#include "process/process_tree.h"
#include "store/run_ledger.h"
#include "store/run_queue.h"

namespace twinflow {
namespace {

// The process group of `pid` as /proc says, or -1.
int process_group_of(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return -1;
  // Fields after the parenthesised command: state ppid pgrp ...
  auto close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 1));
  std::string state;
  int ppid = 0, pgrp = -1;
  rest >> state >> ppid >> pgrp;
  return pgrp;
}

}  // namespace

bool is_live_twinflow_process(int pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
  std::string argv0;
  std::getline(cmdline, argv0, '\0');
  if (process_state(pid, 0) == ProcessState::kGone) return false;  // a zombie or gone
  return argv0.ends_with("twinflow");
}

RunLedger::OwnerLiveness owner_liveness(int pid, int64_t pid_start) {
  // Without a recorded start time (a run recorded before it was known),
  // a live twinflow process with that pid counts as the owner.
  if (pid_start == 0 && !is_live_twinflow_process(pid)) return RunLedger::OwnerLiveness::kDead;
  switch (process_state(pid, pid_start)) {
    case ProcessState::kGone:
      return RunLedger::OwnerLiveness::kDead;
    case ProcessState::kStopped:
      return RunLedger::OwnerLiveness::kFrozen;
    case ProcessState::kRunning:
      break;
  }
  return RunLedger::OwnerLiveness::kAlive;
}

bool fence_attempt(const RunLedger::AttemptProcess& attempt, const std::string& host,
                   std::chrono::milliseconds limit) {
  if (attempt.host != host || attempt.pid <= 0) return true;
  if (attempt.pid_start != 0) return ensure_attempt_dead(attempt.pid, attempt.pid_start, limit);
  // Recorded without a start time: each step led its own process group
  // (pgid == pid); only a group that still has that leader is killed, so a
  // recycled pid is left alone.
  if (process_group_of(attempt.pid) == attempt.pid) ::kill(-attempt.pid, SIGKILL);
  return true;
}

int recover_interrupted_runs(Store& store, const std::string& host,
                             std::chrono::seconds stale_after) {
  RunLedger::ReapRequest request;
  request.host = host;
  request.owner_liveness = owner_liveness;
  request.stale_after_seconds = static_cast<int>(stale_after.count());
  auto orphans = store.runs().reap_dead_owners(request);
  for (const auto& attempt : orphans) fence_attempt(attempt, host, std::chrono::seconds(5));
  store.queue().revoke_claims_of_dead_schedulers(
      host, [](int pid) { return !is_live_twinflow_process(pid); });
  return static_cast<int>(orphans.size());
}

OwnerReaper::OwnerReaper(std::string conninfo, std::string host, std::chrono::seconds stale_after,
                         std::function<void(const std::string&)> log,
                         std::chrono::milliseconds interval)
    : conninfo_(std::move(conninfo)),
      host_(std::move(host)),
      stale_after_(stale_after),
      log_(std::move(log)),
      interval_(interval),
      thread_([this] { loop(); }) {}

OwnerReaper::~OwnerReaper() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void OwnerReaper::loop() {
  std::unique_ptr<Store> store;
  bool failing = false;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    try {
      if (!store) store = std::make_unique<Store>(conninfo_);
      const int orphans = recover_interrupted_runs(*store, host_, stale_after_);
      if (orphans > 0)
        log_("recorded " + std::to_string(orphans) +
             " attempt(s) of runs whose twinflow process died as interrupted");
      if (failing) log_("reaper: the database is reachable again");
      failing = false;
    } catch (const std::exception& e) {
      store.reset();  // a new connection next time
      if (!failing) log_(std::string("reaper: ") + e.what() + "; trying again every second");
      failing = true;
    }
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

}  // namespace twinflow
