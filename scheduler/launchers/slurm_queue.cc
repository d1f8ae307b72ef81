#include "scheduler/launchers/slurm_queue.h"
#include "util/strings.h"

#include <charconv>

namespace twinflow {
namespace {

bool is_job_id(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (!(c >= '0' && c <= '9') && c != '_') return false;  // 12, or 12_3 for array tasks
  return true;
}

int to_int(std::string_view text) {
  int value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// Splits `text` into lines, without the '\n'.
template <typename F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    f(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

}  // namespace

std::optional<std::string> parse_sbatch_job_id(std::string_view output) {
  std::optional<std::string> id;
  for_each_line(output, [&](std::string_view line) {
    std::string_view candidate = trim(line.substr(0, line.find(';')));
    if (!id && is_job_id(candidate)) id = std::string(candidate);
  });
  return id;
}

std::vector<std::string> squeue_arguments(const std::vector<std::string>& job_ids) {
  std::string list;
  for (const std::string& id : job_ids) list += (list.empty() ? "" : ",") + id;
  return {"--noheader", "--states=all", "--jobs=" + list,
          "--Format=JobID:|,State:|,RestartCnt:|,Reason:200"};
}

std::vector<SlurmJobStatus> parse_squeue(std::string_view output) {
  std::vector<SlurmJobStatus> jobs;
  for_each_line(output, [&](std::string_view line) {
    std::string_view fields[4];
    for (int i = 0; i < 3; ++i) {
      size_t bar = line.find('|');
      if (bar == std::string_view::npos) return;
      fields[i] = trim(line.substr(0, bar));
      line.remove_prefix(bar + 1);
    }
    fields[3] = trim(line);
    if (!is_job_id(fields[0]) || fields[1].empty()) return;
    jobs.push_back({std::string(fields[0]), std::string(fields[1]), to_int(fields[2]),
                    std::string(fields[3])});
  });
  return jobs;
}

std::optional<SlurmJobStatus> parse_scontrol_job(std::string_view line) {
  SlurmJobStatus job;
  // Fields are space-separated Key=Value; a value never holds "<space>Key=",
  // but may hold spaces (Reason, Command), so a field runs to the next " X=".
  auto value_of = [&](std::string_view key) -> std::string_view {
    std::string needle = std::string(key) + "=";
    size_t at = line.starts_with(needle) ? 0 : line.find(" " + needle);
    if (at == std::string_view::npos) return {};
    size_t begin = at + (at == 0 ? 0 : 1) + needle.size();
    size_t end = begin;
    for (;;) {
      size_t space = line.find(' ', end);
      if (space == std::string_view::npos) {
        end = line.size();
        break;
      }
      size_t eq = line.find('=', space);
      size_t next_space = line.find(' ', space + 1);
      if (eq != std::string_view::npos &&
          (next_space == std::string_view::npos || eq < next_space)) {
        end = space;
        break;
      }
      end = space + 1;
    }
    return trim(line.substr(begin, end - begin));
  };
  job.job_id = std::string(value_of("JobId"));
  job.state = std::string(value_of("JobState"));
  if (!is_job_id(job.job_id) || job.state.empty()) return std::nullopt;
  job.restarts = to_int(value_of("Restarts"));
  job.reason = std::string(value_of("Reason"));
  return job;
}

bool squeue_knows_none(std::string_view error_output) {
  return error_output.find("Invalid job id") != std::string_view::npos;
}

}  // namespace twinflow
