// See lm_checkpoints.h.
#include "tasks/train/lm_checkpoints.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/files.h"
#include "util/sha256.h"

namespace twinflow {
namespace fs = std::filesystem;

namespace {

constexpr const char* kStateFormat = "twinflow-lm-checkpoint-1";
constexpr std::string_view kPrefix = "epoch-";

// The epoch of a complete checkpoint directory's name, or -1.
int epoch_of(const std::string& name) {
  if (name.size() != kPrefix.size() + 4 || name.compare(0, kPrefix.size(), kPrefix) != 0) {
    return -1;
  }
  int epoch = 0;
  for (size_t i = kPrefix.size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    epoch = epoch * 10 + (name[i] - '0');
  }
  return epoch;
}

std::vector<int> complete_epochs(const fs::path& dir) {
  std::vector<int> epochs;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const int epoch = epoch_of(it->path().filename().string());
    if (epoch > 0 && it->is_directory()) epochs.push_back(epoch);
  }
  if (ec) throw Error("cannot list checkpoint directory " + dir.string() + ": " + ec.message());
  std::sort(epochs.begin(), epochs.end());
  return epochs;
}

}  // namespace

LmCheckpoints::LmCheckpoints(fs::path dir) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw Error("cannot create checkpoint directory " + dir_.string() + ": " + ec.message());
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(kPrefix, 0) == 0 && name.size() > 4 && name.ends_with(".tmp")) {
      std::error_code remove_ec;
      fs::remove_all(it->path(), remove_ec);
      if (remove_ec) {
        throw Error("cannot remove unfinished checkpoint " + it->path().string() + ": " +
                    remove_ec.message());
      }
    }
  }
  if (ec) throw Error("cannot list checkpoint directory " + dir_.string() + ": " + ec.message());
}

std::optional<int> LmCheckpoints::last_epoch() const {
  const std::vector<int> epochs = complete_epochs(dir_);
  if (epochs.empty()) return std::nullopt;
  return epochs.back();
}

fs::path LmCheckpoints::path(int epoch) const {
  char name[32];
  std::snprintf(name, sizeof(name), "epoch-%04d", epoch);
  return dir_ / name;
}

fs::path LmCheckpoints::write(const LmCheckpointState& state, const NeuralLm& model,
                              const std::string& optimizer) const {
  const fs::path final_dir = path(state.epoch);
  fs::path temp_dir = final_dir;
  temp_dir += ".tmp";
  std::error_code ec;
  fs::remove_all(temp_dir, ec);
  model.save(temp_dir);
  write_file_atomically(temp_dir / "optimizer.bin", optimizer);
  const nlohmann::json json = {{"format", kStateFormat},
                               {"epoch", state.epoch},
                               {"step", state.step},
                               {"tokens", state.tokens},
                               {"train_loss", state.train_loss},
                               {"fingerprint", state.fingerprint},
                               {"optimizer_sha256", sha256_hex(optimizer)}};
  write_file_atomically(temp_dir / "state.json", json.dump(2) + "\n");
  fs::remove_all(final_dir, ec);  // a stale one of a different run; absent normally
  fs::rename(temp_dir, final_dir, ec);
  if (ec) {
    throw Error("cannot rename checkpoint " + temp_dir.string() + " to " + final_dir.string() +
                ": " + ec.message());
  }
  return final_dir;
}

LmCheckpoint LmCheckpoints::read(int epoch) const {
  const fs::path dir = path(epoch);
  const fs::path state_file = dir / "state.json";
  LmCheckpointState state;
  std::string optimizer_sha256;
  try {
    const auto json = nlohmann::json::parse(read_file(state_file, "checkpoint state"));
    if (json.value("format", "") != kStateFormat) {
      throw Error(std::string("not a ") + kStateFormat + " file");
    }
    state.epoch = json.at("epoch").get<int>();
    state.step = json.at("step").get<int64_t>();
    state.tokens = json.at("tokens").get<int64_t>();
    state.train_loss = json.at("train_loss").get<double>();
    state.fingerprint = json.at("fingerprint").get<std::string>();
    optimizer_sha256 = json.at("optimizer_sha256").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw Error("corrupt checkpoint state " + state_file.string() + ": " + e.what());
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.rfind("cannot read", 0) == 0) throw;
    throw Error("corrupt checkpoint state " + state_file.string() + ": " + what);
  }
  if (state.epoch != epoch) {
    throw Error("corrupt checkpoint state " + state_file.string() + ": says epoch " +
                std::to_string(state.epoch) + " in directory " + dir.filename().string());
  }
  const fs::path optimizer_file = dir / "optimizer.bin";
  std::string optimizer = read_file(optimizer_file, "optimizer state");
  if (sha256_hex(optimizer) != optimizer_sha256) {
    throw Error("corrupt optimizer state " + optimizer_file.string() +
                ": sha256 differs from the one in " + state_file.string());
  }
  return LmCheckpoint{state, NeuralLm::load(dir), std::move(optimizer), optimizer_file};
}

void LmCheckpoints::prune(int keep) const {
  if (keep <= 0) return;
  const std::vector<int> epochs = complete_epochs(dir_);
  for (size_t i = 0; i + static_cast<size_t>(keep) < epochs.size(); ++i) {
    std::error_code ec;
    fs::remove_all(path(epochs[i]), ec);
    if (ec)
      throw Error("cannot remove old checkpoint " + path(epochs[i]).string() + ": " + ec.message());
  }
}

}  // namespace twinflow
