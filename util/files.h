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

}  // namespace twinflow
