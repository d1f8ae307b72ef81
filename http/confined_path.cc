// Confined paths (see confined_path.h).
#include "http/confined_path.h"

#include <system_error>

namespace twinflow {

namespace fs = std::filesystem;

Confinement confine(const fs::path& root, const fs::path& path) {
  Confinement out;
  std::error_code ec;
  const fs::path real_root = fs::canonical(root, ec);
  if (ec) {
    out.refusal = "the directory " + root.string() + " does not exist";
    out.missing = true;
    return out;
  }
  const fs::path real = fs::canonical(path, ec);
  if (ec) {
    out.refusal = "no such file";
    out.missing = true;
    return out;
  }
  // Component-wise, so /logs-other is not taken for a child of /logs.
  auto r = real_root.begin(), p = real.begin();
  for (; r != real_root.end(); ++r, ++p)
    if (p == real.end() || *p != *r) {
      out.refusal = "outside its directory";
      return out;
    }
  out.resolved = real;
  return out;
}

Confinement confine_relative(const fs::path& root, const std::string& relative) {
  Confinement out;
  if (relative.empty() || relative.front() == '/') {
    out.refusal = "the path must be relative";
    return out;
  }
  if (relative.find('\0') != std::string::npos || relative.find('\\') != std::string::npos) {
    out.refusal = "the path has a forbidden character";
    return out;
  }
  size_t start = 0;
  while (start <= relative.size()) {
    size_t end = relative.find('/', start);
    if (end == std::string::npos) end = relative.size();
    const std::string_view segment(relative.data() + start, end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      out.refusal = "the path has an empty, '.' or '..' segment";
      return out;
    }
    start = end + 1;
  }
  return confine(root, root / relative);
}

}  // namespace twinflow
