// Writing a file so that readers see the old content or the new, never half:
// the content goes to "<path>.tmp", then a rename replaces the file. Step
// contexts, step results and step outputs are written this way, because the
// reader is another process that may look at any moment.
#pragma once

#include <filesystem>
#include <string>

namespace twinflow {

// Throws Error naming the path when it cannot be written.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

}  // namespace twinflow
