// read_zip: the files of a zip archive (an author's data export), read with
// libzip under caps a stranger cannot get around: entry count, bytes per entry
// and total bytes are counted while inflating, never taken from the archive's
// own headers, so a zip bomb costs at most the caps. A truncated or corrupt
// archive is an Error naming the file; an entry over the per-entry cap is
// skipped with its reason.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace twinflow {

struct ZipLimits {
  size_t max_entries = 20000;                   // entries in the archive's directory
  size_t max_entry_bytes = 32u * 1024 * 1024;   // inflated, per entry read
  size_t max_total_bytes = 512u * 1024 * 1024;  // inflated, all entries read
};

struct ZipFile {
  std::string name;  // path inside the archive, '/'-separated
  std::string data;
};

struct ZipContents {
  std::vector<ZipFile> files;        // in archive order
  std::vector<std::string> skipped;  // "name: reason"
};

// Reads the entries `wanted` accepts (all regular files when empty). Throws
// Error ("PATH: not a readable zip archive (...)", "PATH: more than N entries",
// "PATH: inflates past N MB in total") when the archive as a whole is unusable.
ZipContents read_zip(const std::filesystem::path& path, const ZipLimits& limits,
                     const std::function<bool(const std::string& name)>& wanted = {});

// True when the file starts with a zip signature ("PK\3\4" or an empty archive's "PK\5\6").
bool is_zip_file(const std::filesystem::path& path);

}  // namespace twinflow
