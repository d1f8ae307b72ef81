// Confined paths: where a download may be read from.
//
// The dashboard serves step logs (their paths come from the database) and
// files inside artifact versions (a relative path from the URL). Neither may
// reach outside its directory: not with `..` segments (the server has already
// decoded `%2e%2e` to `..`), not with an absolute path, not through a symlink
// that points elsewhere. Both checks resolve symlinks with canonical paths, so
// what is checked is what is opened.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace twinflow {

// Why a path was refused, or nothing when it is inside.
struct Confinement {
  std::filesystem::path resolved;  // canonical, when accepted
  std::string refusal;             // empty when accepted
  bool missing = false;            // refused because it does not exist
};

// `path` (absolute) resolved through symlinks must lie under `root`.
Confinement confine(const std::filesystem::path& root, const std::filesystem::path& path);

// `relative` (from a URL, already percent-decoded) joined to `root`: refused
// when empty, absolute, or with `.`, `..` or empty segments, a backslash or a
// NUL byte, and then as confine() refuses.
Confinement confine_relative(const std::filesystem::path& root, const std::string& relative);

}  // namespace twinflow
