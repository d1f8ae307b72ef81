// The scheduler's run threads. See run_workers.h.
#include "scheduler/daemon/run_workers.h"

namespace twinflow {

RunWorkers::RunWorkers(std::string conninfo, ReconnectPolicy reconnect, int max_workers)
    : conninfo_(std::move(conninfo)),
      reconnect_(std::move(reconnect)),
      max_workers_(std::max(1, max_workers)) {}

RunWorkers::~RunWorkers() {
  wait_idle();
}

void RunWorkers::fill(const Drain& drain) {
  join_finished();
  std::lock_guard<std::mutex> lock(mu_);
  while (static_cast<int>(workers_.size()) < max_workers_) {
    Worker& worker = workers_.emplace_back();
    worker.thread = std::thread(&RunWorkers::work, this, &worker, drain);
  }
}

void RunWorkers::work(Worker* self, Drain drain) {
  try {
    Store store(conninfo_);
    store.set_reconnect_policy(reconnect_);
    drain(store);
  } catch (const std::exception& e) {
    // The drain reports the runs' failures; this is a worker that could not
    // even connect. It ends, and the next fill() starts another.
    reconnect_.log(std::string("a run worker stopped: ") + e.what());
  }
  std::lock_guard<std::mutex> lock(mu_);
  self->done = true;
}

void RunWorkers::join_finished() {
  std::list<Worker> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = workers_.begin(); it != workers_.end();) {
      auto next = std::next(it);
      if (it->done) finished.splice(finished.end(), workers_, it);
      it = next;
    }
  }
  for (Worker& worker : finished) worker.thread.join();
}

void RunWorkers::wait_idle() {
  std::list<Worker> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all.splice(all.end(), workers_);
  }
  for (Worker& worker : all) worker.thread.join();
}

int RunWorkers::busy() {
  join_finished();
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(workers_.size());
}

}  // namespace twinflow
