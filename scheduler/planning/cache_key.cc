#include "scheduler/planning/cache_key.h"

#include <algorithm>

#include "util/error.h"
#include "util/sha256.h"

namespace twinflow {

std::string compute_cache_key(const Step& step, const std::string& build_id,
                              const std::vector<NamedVersion>& inputs,
                              const std::filesystem::path& base_dir) {
  Sha256 key;
  key.field("twinflow-cache-v1").field(step.id).field(step.type);
  if (step.type == "command") {
    key.field(step.shell ? "shell" : "argv");
    for (const auto& arg : step.command) key.field(arg);
    for (const auto& [name, value] : step.env) key.field(name).field(value);
    for (const auto& file : step.cache.files) {
      std::filesystem::path path = base_dir / file;
      try {
        key.field(file).field(sha256_file(path));
      } catch (const Error& e) {
        throw Error("cache.files of step '" + step.id + "': " + e.what());
      }
    }
  } else {
    key.field(build_id);
  }
  key.field(step.params.dump());  // nlohmann::json objects dump with sorted keys
  std::vector<std::pair<std::string, std::string>> input_hashes;
  for (const auto& input : inputs)
    input_hashes.emplace_back(input.name, input.version.content_hash);
  std::sort(input_hashes.begin(), input_hashes.end());
  for (const auto& [name, hash] : input_hashes) key.field(name).field(hash);
  for (const auto& output : step.outputs) key.field(output.name).field(output.artifact);
  return key.hex_digest();
}

}  // namespace twinflow
