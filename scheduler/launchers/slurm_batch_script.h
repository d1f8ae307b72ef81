// The batch script twinflow submits for a step attempt on Slurm.
//
// sbatch runs it on a node with the attempt directory as its working
// directory and the attempt's log as stdout and stderr (appended, so a
// requeued job adds to it and `twinflow logs` shows everything). It exports
// the step protocol's TWINFLOW_* variables itself, so the script alone says
// what context the step gets; the rest of the environment comes with sbatch's
// default --export=ALL. When the step's program ends, the script writes its
// exit status to a file in the attempt directory: Slurm forgets a job
// MinJobAge seconds after it ends, and without accounting nothing else would
// say how it ended.
#pragma once

#include <string>
#include <vector>

#include "scheduler/launchers/step_launcher.h"

namespace twinflow {

// The script's text. Throws Error when a value would break out of its line
// (a line break in a `slurm:` value or the job name).
std::string slurm_batch_script(const AttemptLaunch& launch);

// sbatch's arguments, without the program name: --parsable, the step's
// extra_args as written, then the script's path.
std::vector<std::string> sbatch_arguments(const AttemptLaunch& launch,
                                          const std::string& script_path);

// Quotes `text` for a POSIX shell: 'it'\''s'.
std::string shell_quote(const std::string& text);

// The exit status the batch script recorded: "N\n" with N the status of the
// step's program as the shell saw it. nullopt when the text is not one.
std::optional<int> parse_exit_status_file(const std::string& text);

}  // namespace twinflow
