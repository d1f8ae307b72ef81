// Capped zip reading with libzip. See zip_archive.h.
#include "tasks/imports/zip_archive.h"

#include <zip.h>

#include <fstream>
#include <memory>

#include "util/error.h"

namespace twinflow {

namespace {

std::string mb(size_t bytes) {
  return std::to_string(bytes >> 20) + " MB";
}

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

}  // namespace

bool is_zip_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  if (!in.read(magic, 4)) return false;
  return magic[0] == 'P' && magic[1] == 'K' &&
         ((magic[2] == 3 && magic[3] == 4) || (magic[2] == 5 && magic[3] == 6));
}

ZipContents read_zip(const std::filesystem::path& path, const ZipLimits& limits,
                     const std::function<bool(const std::string& name)>& wanted) {
  int code = 0;
  std::unique_ptr<zip_t, ZipCloser> archive(
      zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
  if (!archive) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    const std::string message = zip_error_strerror(&error);
    zip_error_fini(&error);
    throw Error(path.string() + ": not a readable zip archive (" + message + ")");
  }
  const zip_int64_t count = zip_get_num_entries(archive.get(), 0);
  if (count < 0 || static_cast<size_t>(count) > limits.max_entries)
    throw Error(path.string() + ": more than " + std::to_string(limits.max_entries) +
                " entries in the archive");
  ZipContents out;
  size_t total = 0;
  std::string buffer(64 * 1024, '\0');
  for (zip_int64_t i = 0; i < count; ++i) {
    const char* raw_name = zip_get_name(archive.get(), static_cast<zip_uint64_t>(i), 0);
    if (!raw_name) continue;
    const std::string name = raw_name;
    if (name.empty() || name.back() == '/') continue;  // directories
    if (wanted && !wanted(name)) continue;
    std::unique_ptr<zip_file_t, ZipFileCloser> file(
        zip_fopen_index(archive.get(), static_cast<zip_uint64_t>(i), 0));
    if (!file) {
      out.skipped.push_back(name + ": " + zip_strerror(archive.get()));
      continue;
    }
    std::string data;
    bool too_large = false, failed = false;
    while (true) {
      const zip_int64_t n = zip_fread(file.get(), buffer.data(), buffer.size());
      if (n < 0) {
        failed = true;
        break;
      }
      if (n == 0) break;
      if (data.size() + static_cast<size_t>(n) > limits.max_entry_bytes) {
        too_large = true;
        break;
      }
      total += static_cast<size_t>(n);
      if (total > limits.max_total_bytes)
        throw Error(path.string() + ": inflates past " + mb(limits.max_total_bytes) +
                    " in total (a zip bomb?)");
      data.append(buffer.data(), static_cast<size_t>(n));
    }
    if (too_large) {
      out.skipped.push_back(name + ": inflates past " + mb(limits.max_entry_bytes) +
                            " (a zip bomb?)");
      continue;
    }
    if (failed) {
      out.skipped.push_back(name + ": " + zip_file_strerror(file.get()));
      continue;
    }
    out.files.push_back({name, std::move(data)});
  }
  return out;
}

}  // namespace twinflow
