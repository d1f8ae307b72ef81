// Where the public corpora shared between projects live (real pages,
// retrieval collections): $TWINFLOW_SHARED_DIR, else /work/shared or
// ../shared when it holds real-pages/. Empty when none is found.
#pragma once

#include <cstdlib>
#include <filesystem>

namespace twinflow {

inline std::filesystem::path shared_corpus_dir() {
  if (const char* env = std::getenv("TWINFLOW_SHARED_DIR")) return env;
  for (const char* candidate : {"/work/shared", "../shared"})
    if (std::filesystem::is_directory(std::filesystem::path(candidate) / "real-pages"))
      return candidate;
  return {};
}

}  // namespace twinflow
