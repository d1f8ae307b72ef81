#include "cli/console_progress.h"

#include <cstdio>
#include <ostream>
#include <sstream>

namespace twinflow {

std::ostream& ConsoleProgress::prefix() {
  double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "[%8.2fs] ", t);
  return out_ << buf;
}

void ConsoleProgress::run_started(int64_t run_id, const Dag& dag, size_t steps_to_run) {
  out_ << "run " << run_id << " of " << dag.name << ": " << steps_to_run << " of "
       << dag.steps.size() << " steps to run\n";
  out_.flush();
}

void ConsoleProgress::step_started(const Step& step, int attempt, const std::string&) {
  prefix() << "started   " << step.id;
  if (attempt > 1) out_ << " (attempt " << attempt << ")";
  out_ << "\n";
  out_.flush();
}

void ConsoleProgress::step_ended(const Step& step, const StepEnd& end) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2fs", end.seconds);
  if (end.status == "succeeded") {
    prefix() << "succeeded " << step.id << " in " << secs << "\n";
  } else if (end.status == "cached") {
    prefix() << "cached    " << step.id << " (outputs reused from an earlier run)\n";
  } else {
    prefix() << (end.status == "timed_out"   ? "timed out "
                 : end.status == "cancelled" ? "cancelled "
                                             : "failed    ")
             << step.id << " after " << secs << ": " << end.reason;
    if (end.will_retry)
      out_ << " (attempt " << end.attempt << " of " << step.retries.count + 1 << ", retrying in "
           << end.retry_in.count() << "ms)";
    out_ << "\n";
    if (!end.log_tail.empty()) {
      std::istringstream lines(end.log_tail);
      for (std::string line; std::getline(lines, line);) out_ << "             | " << line << "\n";
    }
    if (!end.log_path.empty()) out_ << "             log: " << end.log_path << "\n";
  }
  out_.flush();
}

void ConsoleProgress::steps_skipped(const std::vector<const Step*>& steps,
                                    const std::string& status) {
  for (const Step* step : steps) prefix() << status << " " << step->id << "\n";
  out_.flush();
}

void ConsoleProgress::run_finished(int64_t run_id, const std::string& status, double seconds) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2fs", seconds);
  out_ << "run " << run_id << " " << status << " in " << secs << "\n";
  out_.flush();
}

}  // namespace twinflow
