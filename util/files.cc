// See files.h.
#include "util/files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "util/error.h"

namespace twinflow {
namespace fs = std::filesystem;

void write_file_atomically(const fs::path& path, const std::string& content) {
  fs::path temp = path;
  temp += ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw SystemError("cannot write " + path.string(), errno);
  const auto fail = [&](int err, bool open) {
    if (open) ::close(fd);
    ::unlink(temp.c_str());
    throw SystemError("cannot write " + path.string(), err);
  };
  for (size_t done = 0; done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(errno, true);
    done += static_cast<size_t>(n);
  }
  // close() is where some file systems (NFS) report a full disk.
  if (::close(fd) != 0) fail(errno, false);
  if (::rename(temp.c_str(), path.c_str()) != 0) fail(errno, false);
}

std::optional<uint64_t> free_bytes(const fs::path& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

std::string full_disk_note(const fs::path& path) {
  const auto free = free_bytes(path);
  if (!free || *free >= kFullDiskBytes) return "";
  return "the disk holding " + path.string() + " is full (" + std::to_string(*free) +
         " bytes free)";
}

namespace {

[[noreturn]] void fail_to_read(const fs::path& path, std::string_view what) {
  std::string message = "cannot read ";
  if (!what.empty()) message.append(what).append(" ");
  message += path.string();
  if (errno != 0) throw SystemError(message, errno);
  throw Error(message);
}

}  // namespace

std::string read_file(const fs::path& path, std::string_view what) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_to_read(path, what);
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) fail_to_read(path, what);
  return std::move(content).str();
}

MappedFile::MappedFile(const fs::path& path, std::string_view what) {
  errno = 0;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_to_read(path, what);
  struct stat st {};
  const bool stated = ::fstat(fd, &st) == 0;
  if (!stated || !S_ISREG(st.st_mode)) {
    const int err = !stated ? errno : S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    ::close(fd);
    errno = err;
    fail_to_read(path, what);
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (data_ == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      data_ = nullptr;
      errno = err;
      fail_to_read(path, what);
    }
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

}  // namespace twinflow
