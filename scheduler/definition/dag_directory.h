// DagDirectory: every DAG file under a directory, loaded, and loaded again
// only when it changes.
//
// The scheduler daemon looks at its DAGs directory on every pass, the
// dashboard on every request, `twinflow schedules` once; all three go
// through this class. A file is a regular file (or a link to one) named
// *.yaml or *.yml at any depth under the directory. refresh() lists them and
// loads a file only when it is new or its identity and stamp (device, inode,
// size, modification and change times) differ from the last load, so a
// broken or hostile file costs one load per change, not one per pass, and
// never delays the other files for longer than one load (which YamlLimits
// keeps short). Files that went away are forgotten.
//
// Not thread-safe: one owner calls refresh() and reads the results.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "scheduler/definition/dag_loader.h"

namespace twinflow {

struct DagFile {
  std::filesystem::path path;  // as listed: the directory joined with the relative path
  LoadResult loaded;
  bool fresh = false;  // loaded by the latest refresh() (new or changed since the one before)
};

class DagDirectory {
 public:
  explicit DagDirectory(std::filesystem::path dir);

  // Lists the directory and loads new and changed files. Never throws: a
  // directory that cannot be listed leaves error() set and files() holding
  // what could be listed (nothing when the directory is missing).
  void refresh();

  // The files of the latest refresh(), sorted by path.
  const std::vector<DagFile>& files() const { return files_; }
  // Why the directory could not be listed (fully), such as
  // "dags: No such file or directory"; empty when it could.
  const std::string& error() const { return error_; }
  // Whether error() differs from the refresh() before.
  bool error_fresh() const { return error_fresh_; }

  // For the daemon: refresh(), then the valid DAGs in path order. Appends to
  // `new_errors` what is new since the refresh before: the diagnostics of each
  // fresh file that failed to load, and a changed listing error.
  std::vector<Dag> refresh_dags(std::vector<std::string>& new_errors);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  struct Stamp {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    int64_t modified_ns = 0;
    int64_t changed_ns = 0;
    bool operator==(const Stamp&) const = default;
  };

  std::filesystem::path dir_;
  std::vector<DagFile> files_;  // sorted by path
  std::vector<Stamp> stamps_;   // parallel to files_: what each was loaded from
  std::string error_;
  bool error_fresh_ = false;
};

// The DAG files under `dir` loaded once, for a caller that asks once (a CLI
// command, a web request): DagDirectory(dir) refreshed.
std::vector<DagFile> load_dag_directory(const std::filesystem::path& dir, std::string* error);

}  // namespace twinflow
