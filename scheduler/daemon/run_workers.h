// RunWorkers: the threads on which a scheduler executes the runs it claims,
// so that a long run (a finetune) does not hold back a short one (this
// week's crawl) queued behind it.
//
// Each worker owns a Store (a connection of its own: Store is not
// thread-safe) and repeats the daemon's drain function, which claims a queued
// run and executes it, until the function returns (the queue is empty or the
// daemon is stopping). fill() starts workers up to the limit and returns at
// once; the daemon calls it every pass, so a newly queued run finds a worker
// within a pass. Workers that finished are joined by the next fill() or by
// wait_idle().
#pragma once

#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>

#include "store/reconnect.h"
#include "store/store.h"

namespace twinflow {

class RunWorkers {
 public:
  using Drain = std::function<void(Store& store)>;

  RunWorkers(std::string conninfo, ReconnectPolicy reconnect, int max_workers);
  ~RunWorkers();  // waits for every worker
  RunWorkers(const RunWorkers&) = delete;
  RunWorkers& operator=(const RunWorkers&) = delete;

  // Starts workers running `drain` until max_workers are busy.
  void fill(const Drain& drain);
  // Blocks until every worker has returned.
  void wait_idle();
  int busy();

 private:
  struct Worker {
    std::thread thread;
    bool done = false;  // guarded by mu_
  };
  void join_finished();
  void work(Worker* self, Drain drain);

  const std::string conninfo_;
  const ReconnectPolicy reconnect_;
  const int max_workers_;
  std::mutex mu_;
  std::list<Worker> workers_;  // a list: a Worker's address is stable while it runs
};

}  // namespace twinflow
