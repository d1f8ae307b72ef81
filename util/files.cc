// See files.h.
#include "util/files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
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
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write " + temp.string());
    out << content;
    if (!out.flush()) throw Error("cannot write " + temp.string());
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) throw Error("cannot write " + path.string() + ": " + ec.message());
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
