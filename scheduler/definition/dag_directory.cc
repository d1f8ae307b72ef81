// Listing and cached loading of a DAGs directory. See dag_directory.h.
#include "scheduler/definition/dag_directory.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <system_error>
#include <utility>

namespace twinflow {
namespace fs = std::filesystem;

namespace {

bool is_yaml_name(const fs::path& path) {
  const std::string extension = path.extension().string();
  return extension == ".yaml" || extension == ".yml";
}

int64_t nanoseconds(const struct timespec& t) {
  return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

}  // namespace

DagDirectory::DagDirectory(fs::path dir) : dir_(std::move(dir)) {}

void DagDirectory::refresh() {
  // What is listed now, with its stamp (stat follows links, as loading does).
  std::map<fs::path, Stamp> listed;
  std::string error;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir_, ec);
  for (fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
    const fs::path& path = it->path();
    if (!is_yaml_name(path)) continue;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    listed[path] = {st.st_dev, st.st_ino, st.st_size, nanoseconds(st.st_mtim),
                    nanoseconds(st.st_ctim)};
  }
  if (ec) error = dir_.string() + ": " + ec.message();
  error_fresh_ = error != error_;
  error_ = std::move(error);

  std::vector<DagFile> files;
  std::vector<Stamp> stamps;
  files.reserve(listed.size());
  stamps.reserve(listed.size());
  size_t old = 0;  // files_ and listed are both in path order
  for (auto& [path, stamp] : listed) {
    while (old < files_.size() && files_[old].path < path) ++old;
    if (old < files_.size() && files_[old].path == path && stamps_[old] == stamp) {
      files.push_back(std::move(files_[old]));
      files.back().fresh = false;
    } else {
      files.push_back({path, load_dag_file(path.string()), true});
    }
    stamps.push_back(stamp);
  }
  files_ = std::move(files);
  stamps_ = std::move(stamps);
}

std::vector<Dag> DagDirectory::refresh_dags(std::vector<std::string>& new_errors) {
  refresh();
  if (error_fresh_ && !error_.empty()) new_errors.push_back(error_);
  std::vector<Dag> dags;
  for (const DagFile& file : files_) {
    if (file.loaded.ok()) {
      dags.push_back(*file.loaded.dag);
    } else if (file.fresh) {
      new_errors.push_back(format_diagnostics(file.loaded.diagnostics));
    }
  }
  return dags;
}

std::vector<DagFile> load_dag_directory(const fs::path& dir, std::string* error) {
  DagDirectory directory(dir);
  directory.refresh();
  if (error) *error = directory.error();
  return directory.files();
}

}  // namespace twinflow
