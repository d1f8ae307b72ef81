#include "scheduler/launchers/slurm_batch_script.h"

#include <charconv>

#include "util/error.h"

namespace twinflow {
namespace {

void check_one_line(const std::string& value, const std::string& what) {
  if (value.find_first_of("\r\n") != std::string::npos)
    throw Error(what + " must not contain a line break: it would end its #SBATCH line");
}

// "#SBATCH --name=value" when value is given.
void add_directive(std::string& script, const std::string& option, const std::string& value) {
  if (value.empty()) return;
  check_one_line(value, "slurm option --" + option);
  script += "#SBATCH --" + option + "=" + value + "\n";
}

}  // namespace

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::string slurm_batch_script(const AttemptLaunch& launch) {
  const ProcessSpec& process = launch.process;
  const SlurmResources& slurm = launch.slurm;
  if (process.argv.empty()) throw Error("a Slurm step needs a program to run");
  std::string script = "#!/bin/sh\n# Written by twinflow for one step attempt (docs/SLURM.md).\n";
  add_directive(script, "job-name", launch.job_name);
  add_directive(script, "output", process.log_path);
  add_directive(script, "error", process.log_path);
  add_directive(script, "open-mode", "append");
  add_directive(script, "chdir", process.cwd);
  add_directive(script, "partition", slurm.partition);
  add_directive(script, "time", slurm.time);
  if (slurm.cpus) add_directive(script, "cpus-per-task", std::to_string(*slurm.cpus));
  add_directive(script, "mem", slurm.mem);
  add_directive(script, "gres", slurm.gres);
  add_directive(script, "account", slurm.account);
  add_directive(script, "qos", slurm.qos);
  script += "\n";
  // A requeued job runs the script again: an old status must not stand for it.
  const std::string exit_file = shell_quote(launch.exit_file);
  script += "rm -f " + exit_file + "\n";
  for (const std::string& var : process.env) {
    if (!var.starts_with("TWINFLOW_")) continue;
    size_t eq = var.find('=');
    if (eq == std::string::npos) continue;
    script += "export " + var.substr(0, eq) + "=" + shell_quote(var.substr(eq + 1)) + "\n";
  }
  script += "cd " + shell_quote(process.cwd) + " || exit 1\n";
  std::string command;
  for (const std::string& arg : process.argv)
    command += (command.empty() ? "" : " ") + shell_quote(arg);
  script += command + " </dev/null\n";
  script += "status=$?\n";
  script += "printf '%s\\n' \"$status\" > " + shell_quote(launch.exit_file + ".tmp") +
            " && mv -f " + shell_quote(launch.exit_file + ".tmp") + " " + exit_file + "\n";
  script += "exit \"$status\"\n";
  return script;
}

std::vector<std::string> sbatch_arguments(const AttemptLaunch& launch,
                                          const std::string& script_path) {
  std::vector<std::string> args = {"--parsable"};
  for (const std::string& extra : launch.slurm.extra_args) args.push_back(extra);
  args.push_back(script_path);
  return args;
}

std::optional<int> parse_exit_status_file(const std::string& text) {
  size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return std::nullopt;
  int status = -1;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + end + 1, status);
  if (ec != std::errc() || ptr != text.data() + end + 1 || status < 0 || status > 255)
    return std::nullopt;
  return status;
}

}  // namespace twinflow
