#include "store/blob_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <vector>

#include "util/error.h"
#include "util/files.h"
#include "util/sha256.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

void fsync_path(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw SystemError("cannot open " + path.string() + " to fsync it", errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) throw SystemError("cannot fsync " + path.string(), err);
}

// Durably flushes every file and directory under `root`, and root itself.
void fsync_tree(const fs::path& root) {
  if (!fs::is_directory(root)) return fsync_path(root, false);
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file() || entry.is_directory())
      fsync_path(entry.path(), entry.is_directory());
  fsync_path(root, true);
}

std::string unique_suffix() {
  std::random_device device;
  return std::to_string(::getpid()) + "." + std::to_string(device());
}

int64_t tree_size(const fs::path& path) {
  if (!fs::is_directory(path)) return static_cast<int64_t>(fs::file_size(path));
  int64_t total = 0;
  for (const auto& entry : fs::recursive_directory_iterator(path))
    if (entry.is_regular_file()) total += static_cast<int64_t>(entry.file_size());
  return total;
}

}  // namespace

BlobStore::BlobStore(fs::path root) : root_(std::move(root)) {}

std::string BlobStore::content_hash(const fs::path& path) {
  if (!fs::is_directory(path)) return sha256_file(path);
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(path))
    if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), path));
  std::sort(files.begin(), files.end());
  Sha256 hasher;
  hasher.field("dir");
  for (const auto& rel : files) {
    auto perms = fs::status(path / rel).permissions();
    bool exec = (perms & fs::perms::owner_exec) != fs::perms::none;
    hasher.field(rel.string()).field(exec ? "x" : "-").field(sha256_file(path / rel));
  }
  return hasher.hex_digest();
}

fs::path BlobStore::final_path(const std::string& hash) const {
  return root_ / "sha256" / hash.substr(0, 2) / hash;
}

void BlobStore::move_into_place(const fs::path& source, const fs::path& target) {
  fs::path temp =
      target.parent_path() / (".tmp." + target.filename().string() + "." + unique_suffix());
  std::error_code ec;
  fs::rename(source, temp, ec);
  if (ec == std::errc::cross_device_link) {
    fs::copy(source, temp, fs::copy_options::recursive, ec);
    if (ec) {
      // A full disk, say (asked before the partial copy goes, which frees
      // it): no partial copy stays in the store.
      const std::string note = full_disk_note(root_);
      std::error_code ignored;
      fs::remove_all(temp, ignored);
      throw Error("cannot copy " + source.string() +
                  " into the artifact store: " + (note.empty() ? ec.message() : note));
    }
    fs::remove_all(source);
  } else if (ec) {
    throw Error("cannot move " + source.string() + " into the artifact store: " + ec.message());
  }
  fsync_tree(temp);
  fs::rename(temp, target, ec);
  if (ec) {
    // Another writer put the same content first: theirs is identical, keep it.
    fs::remove_all(temp);
    if (!fs::exists(target))
      throw Error("cannot rename into the artifact store at " + target.string() + ": " +
                  ec.message());
  }
  fsync_path(target.parent_path(), true);
}

BlobRef BlobStore::put(const fs::path& source) {
  if (!fs::exists(source)) throw Error("cannot store " + source.string() + ": it does not exist");
  BlobRef ref;
  ref.is_directory = fs::is_directory(source);
  ref.content_hash = content_hash(source);
  ref.size_bytes = tree_size(source);
  ref.path = final_path(ref.content_hash);
  fs::create_directories(ref.path.parent_path());
  if (fs::exists(ref.path)) {
    fs::remove_all(source);  // identical content is stored once
  } else {
    move_into_place(source, ref.path);
  }
  return ref;
}

}  // namespace twinflow
