// See files.h.
#include "util/files.h"

#include <fstream>

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

}  // namespace twinflow
