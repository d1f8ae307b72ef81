// scan_repository: which files of a checked-out repository become documents.
//
// An LLM twin learns from what its author wrote. In a repository that is the
// source, the docs and the tests, not the dependencies copied into vendor/,
// the lock files a package manager wrote, the minified bundle a build made,
// the protobuf code a compiler generated, the logo or the data dump someone
// committed. Those are skipped, each with a reason, so a crawl report can say
// why a file is missing and a user can widen the lists when a repository
// really is different.
//
// The scan never leaves the root: symbolic links are skipped, not followed
// (a link to /etc/passwd or to ../../secrets must not become a document), and
// so is .git/. Results are sorted by path, so two scans of the same checkout
// give the same documents in the same order, and downstream cache keys hold.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace twinflow {

struct RepoFileOptions {
  size_t max_file_bytes = 256 * 1024;
  // Directory names (at any depth) that hold other people's code or build
  // output; their whole subtree is skipped as "vendored".
  std::vector<std::string> vendored_dirs = {"vendor", "node_modules", "third_party",
                                            ".venv",  "venv",         "dist",
                                            "build",  "target",       "__pycache__"};
  // File names (at any depth) that package managers write.
  std::vector<std::string> lock_files = {
      "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock",  "Pipfile.lock",
      "Cargo.lock",        "go.sum",    "composer.lock",  "Gemfile.lock", "uv.lock"};
};

struct RepoFile {
  std::string path;      // relative to the root, '/' separated
  std::string content;   // valid UTF-8
  std::string language;  // from the extension or name ("python", "markdown"); "" when unknown
};

struct SkippedFile {
  std::string path;  // relative; a skipped directory ends with '/' ("vendor/")
  // "binary", "not UTF-8", "vendored", "generated", "lock file",
  // "larger than 256 KiB", "symlink", "not a regular file", "unreadable: ..."
  std::string reason;
};

struct RepoScan {
  std::vector<RepoFile> files;       // sorted by path
  std::vector<SkippedFile> skipped;  // sorted by path
};

// Throws Error when `root` is not a readable directory.
RepoScan scan_repository(const std::filesystem::path& root, const RepoFileOptions& options = {});

// The language of a file by its name: "python" for "a/b.py", "dockerfile"
// for "Dockerfile", "" when unknown.
std::string language_of(const std::string& path);

}  // namespace twinflow
