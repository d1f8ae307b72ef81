// GET /metrics: the orchestrator's state in Prometheus' text exposition
// format (version 0.0.4): runs by status, the queue's depth, a histogram of
// executed attempts' durations, and each live scheduler's last heartbeat.
#include <cstdio>
#include <sstream>

#include "web/dashboard_impl.h"

namespace twinflow {

namespace {

// Label values escape backslash, double quote and newline.
std::string label_value(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"')
      out += {'\\', c};
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string number(double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", value);
  return buf;
}

}  // namespace

HttpResponse Dashboard::Impl::prometheus(DashboardSession& s, const HttpRequest&,
                                         const PathParams&) {
  const DashboardFigures f = s.queries.figures();
  std::ostringstream out;
  out << "# HELP twinflow_runs Runs recorded, by status.\n# TYPE twinflow_runs gauge\n";
  for (const char* status :
       {"queued", "running", "succeeded", "failed", "cancelled", "interrupted"}) {
    int64_t count = 0;
    for (const auto& [name, n] : f.runs_by_status)
      if (name == status) count = n;
    out << "twinflow_runs{status=\"" << status << "\"} " << count << "\n";
  }
  out << "# HELP twinflow_queue_depth Runs queued for a scheduler.\n"
         "# TYPE twinflow_queue_depth gauge\ntwinflow_queue_depth "
      << f.queue_depth << "\n";
  out << "# HELP twinflow_step_duration_seconds Durations of finished, executed attempts.\n"
         "# TYPE twinflow_step_duration_seconds histogram\n";
  for (size_t i = 0; i < f.duration_bounds.size(); ++i)
    out << "twinflow_step_duration_seconds_bucket{le=\"" << number(f.duration_bounds[i]) << "\"} "
        << f.duration_cumulative[i] << "\n";
  out << "twinflow_step_duration_seconds_bucket{le=\"+Inf\"} " << f.duration_count << "\n"
      << "twinflow_step_duration_seconds_sum " << number(f.duration_sum) << "\n"
      << "twinflow_step_duration_seconds_count " << f.duration_count << "\n";
  out << "# HELP twinflow_scheduler_heartbeat_timestamp_seconds Last heartbeat of each running "
         "scheduler.\n# TYPE twinflow_scheduler_heartbeat_timestamp_seconds gauge\n";
  for (const auto& sch : f.schedulers)
    out << "twinflow_scheduler_heartbeat_timestamp_seconds{scheduler=\"" << sch.id << "\",host=\""
        << label_value(sch.host) << "\",pid=\"" << sch.pid << "\"} " << number(sch.heartbeat_epoch)
        << "\n";
  out << "# HELP twinflow_scheduler_heartbeat_age_seconds Seconds since each running "
         "scheduler's last heartbeat.\n# TYPE twinflow_scheduler_heartbeat_age_seconds gauge\n";
  for (const auto& sch : f.schedulers)
    out << "twinflow_scheduler_heartbeat_age_seconds{scheduler=\"" << sch.id << "\",host=\""
        << label_value(sch.host) << "\",pid=\"" << sch.pid << "\"} "
        << number(sch.heartbeat_age_seconds) << "\n";
  out << "# HELP twinflow_schedulers Running schedulers.\n# TYPE twinflow_schedulers gauge\n"
      << "twinflow_schedulers " << f.schedulers.size() << "\n";
  HttpResponse r = HttpResponse::text(200, out.str());
  r.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  return r;
}

}  // namespace twinflow
