// The one-node Slurm cluster the Slurm tests and benchmark run jobs on.
//
// scripts/slurm_cluster.sh does the work (munged with its own key, slurmctld,
// slurmd, a minimal slurm.conf); this starts it once per directory and shares
// it: ctest runs every test as its own process, two at a time, so the first
// to come starts it under an exclusive lock file and the others find it
// answering. It stays up for the next test process; scripts/test.sh stops it
// at the end (`scripts/slurm_cluster.sh stop DIR`). Header-only so that the
// benchmark can use it too.
#pragma once

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)

namespace twinflow {

struct SlurmClusterStart {
  bool ok = false;
  std::string slurm_conf;  // ok: the slurm.conf the client commands must use
  std::string output;      // what the start script said (its logs on failure)
};

// $TWINFLOW_TEST_SLURM_DIR, else a short path under /tmp (munge's socket path
// must stay short).
inline std::filesystem::path slurm_test_cluster_dir() {
  const char* dir = std::getenv("TWINFLOW_TEST_SLURM_DIR");
  return dir && *dir ? dir : "/tmp/twinflow-slurm-test";
}

// Runs scripts/slurm_cluster.sh `command` on `dir` under the lock file.
inline SlurmClusterStart run_slurm_cluster_script(const std::string& command,
                                                  const std::filesystem::path& dir) {
  SlurmClusterStart result;
  std::filesystem::create_directories(dir);
  const std::string lock_path = dir.string() + ".lock";
  int lock = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
    result.output = "cannot lock " + lock_path;
    if (lock >= 0) ::close(lock);
    return result;
  }
  const std::string script = std::string(TWINFLOW_SOURCE_DIR) + "/scripts/slurm_cluster.sh";
  const std::string shell = "bash '" + script + "' " + command + " '" + dir.string() + "' 2>&1";
  if (FILE* out = ::popen(shell.c_str(), "r")) {
    char buffer[4096];
    size_t n;
    while ((n = ::fread(buffer, 1, sizeof buffer, out)) > 0) result.output.append(buffer, n);
    int status = ::pclose(out);
    result.ok = status == 0;
  } else {
    result.output = "cannot run " + script;
  }
  ::flock(lock, LOCK_UN);
  ::close(lock);
  if (result.ok && command == "start") {
    std::string conf = result.output;
    while (!conf.empty() && conf.back() == '\n') conf.pop_back();
    result.slurm_conf = conf.substr(conf.rfind('\n') + 1);
  }
  return result;
}

// Starts the shared cluster unless it answers already, and points this
// process's Slurm client commands (and its children's) at it.
inline SlurmClusterStart start_shared_slurm_cluster(
    const std::filesystem::path& dir = slurm_test_cluster_dir()) {
  SlurmClusterStart started = run_slurm_cluster_script("start", dir);
  if (started.ok) ::setenv("SLURM_CONF", started.slurm_conf.c_str(), 1);
  return started;
}

}  // namespace twinflow
