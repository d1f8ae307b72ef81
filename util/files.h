// Whole files in and out. Writing is atomic, so that readers see the old
// content or the new, never half: the content goes to "<path>.tmp", then a
// rename replaces the file. Step contexts, step results and step outputs are
// written this way, because the reader is another process that may look at
// any moment.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace twinflow {

// Throws Error naming the path when it cannot be written.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

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
