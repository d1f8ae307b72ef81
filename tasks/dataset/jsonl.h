// JSONL files of the dataset step's artifacts: one JSON object per line,
//   instruct:   {"instruction": "...", "answer": "...", "document_id": 12}
//   preference: {"prompt": "...", "chosen": "...", "rejected": "...",
//   "document_id": 12}
//
// Writing is atomic (util/files.h): a reader sees the old file or the new
// one. Reading accepts files written by hand too: blank lines are skipped,
// unknown keys ignored, and a missing document_id reads as 0; the text fields
// are required strings. Any other problem throws Error "FILE:LINE: what is
// wrong", naming the first bad line.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tasks/dataset/samples.h"

namespace twinflow {

// One line, without its newline.
std::string to_jsonl_line(const InstructSample& sample);
std::string to_jsonl_line(const PreferenceSample& sample);

void write_instruct_jsonl(const std::filesystem::path& path,
                          const std::vector<InstructSample>& samples);
void write_preference_jsonl(const std::filesystem::path& path,
                            const std::vector<PreferenceSample>& samples);

std::vector<InstructSample> read_instruct_jsonl(const std::filesystem::path& path);
std::vector<PreferenceSample> read_preference_jsonl(const std::filesystem::path& path);

}  // namespace twinflow
