// Whole files in and out. Writing is atomic, so that readers see the old
// content or the new, never half: the content goes to "<path>.tmp", then a
// rename replaces the file. Step contexts, step results and step outputs are
// written this way, because the reader is another process that may look at
// any moment.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace twinflow {

// Throws SystemError "cannot write PATH: REASON" ("No space left on device")
// when it cannot be written, and leaves neither the temporary file nor a
// changed `path` behind.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

// The bytes an unprivileged process may still write on the file system that
// holds `path` (statvfs: f_bavail × f_frsize); nullopt when it cannot be asked
// (no such path).
std::optional<uint64_t> free_bytes(const std::filesystem::path& path);

// Below this many free bytes a file system counts as full.
inline constexpr uint64_t kFullDiskBytes = 1 << 20;

// "the disk holding PATH is full (N bytes free)" when the file system that
// holds `path` has less than kFullDiskBytes free, else "": what to add to an
// error whose cause may be a full disk (a library's own message may not say
// it: libstdc++ reports a copy onto a full disk as an input/output error).
std::string full_disk_note(const std::filesystem::path& path);

// The whole content of `path`, read as bytes. Throws SystemError "cannot read
// WHAT PATH: REASON" (without WHAT when it is empty) when the file cannot be
// opened or read.
std::string read_file(const std::filesystem::path& path, std::string_view what = {});

// A file mapped read-only into memory, for large files of which a reader
// needs a small part (an embedding model's rows for one query). The bytes
// stay valid while the object lives. Throws like read_file.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path, std::string_view what = {});
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace twinflow
