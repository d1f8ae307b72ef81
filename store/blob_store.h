// BlobStore: the content-addressed directory that holds artifact contents.
//
// A step's output (a file or a directory) is moved into
// $TWINFLOW_HOME/artifacts/sha256/ab/abcdef... named by the sha256 of its
// content, so identical content is stored once, whichever step made it. Writes
// are atomic: content goes to a temporary name, is fsynced, then renamed into
// place, so a crash never leaves a partial blob under a final name. Blobs are
// never modified after they are written; steps must treat them as read-only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace twinflow {

struct BlobRef {
  std::string content_hash;  // sha256 hex
  std::filesystem::path path;
  int64_t size_bytes = 0;
  bool is_directory = false;
};

class BlobStore {
 public:
  explicit BlobStore(std::filesystem::path root);

  // Moves (or, across file systems, copies) a file or directory into the store
  // and returns where it now lives. The source is gone afterwards.
  BlobRef put(const std::filesystem::path& source);

  // Hash of a file's content, or of a directory: sha256 over the sorted list of
  // (relative path, executable bit, content hash) of its regular files.
  static std::string content_hash(const std::filesystem::path& path);

  const std::filesystem::path& root() const { return root_; }

  // Where the blob with this content hash lives (whether or not it exists).
  std::filesystem::path final_path(const std::string& hash) const;

 private:
  void move_into_place(const std::filesystem::path& source, const std::filesystem::path& target);

  std::filesystem::path root_;
};

}  // namespace twinflow
