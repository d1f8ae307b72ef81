// See files.h.
#include "util/files.h"

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

std::string read_file(const fs::path& path, std::string_view what) {
  const auto fail = [&] {
    std::string message = "cannot read ";
    if (!what.empty()) message.append(what).append(" ");
    message += path.string();
    if (errno != 0) throw SystemError(message, errno);
    throw Error(message);
  };
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) fail();
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) fail();
  return std::move(content).str();
}

}  // namespace twinflow
