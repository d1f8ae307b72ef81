// See jsonl.h.
#include "tasks/dataset/jsonl.h"

#include <fstream>
#include <functional>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/files.h"

namespace twinflow {
namespace {

using Json = nlohmann::json;

// Invalid UTF-8 becomes U+FFFD rather than failing the whole file.
std::string dump_line(const Json& object) {
  return object.dump(-1, ' ', false, Json::error_handler_t::replace);
}

template <typename Sample>
void write_jsonl(const std::filesystem::path& path, const std::vector<Sample>& samples) {
  std::string content;
  for (const Sample& s : samples) content += to_jsonl_line(s) + "\n";
  write_file_atomically(path, content);
}

// A bad line: what is wrong with it, located by the reader.
struct LineProblem {
  std::string what;
};

std::string required_string(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) throw LineProblem{std::string("missing \"") + key + "\""};
  if (!it->is_string()) throw LineProblem{std::string("\"") + key + "\" must be a string"};
  return it->get<std::string>();
}

int64_t document_id(const Json& object) {
  auto it = object.find("document_id");
  if (it == object.end() || it->is_null()) return 0;
  if (!it->is_number_integer()) throw LineProblem{"\"document_id\" must be an integer"};
  return it->get<int64_t>();
}

InstructSample instruct_from(const Json& o) {
  return {required_string(o, "instruction"), required_string(o, "answer"), document_id(o)};
}

PreferenceSample preference_from(const Json& o) {
  return {required_string(o, "prompt"), required_string(o, "chosen"),
          required_string(o, "rejected"), document_id(o)};
}

bool is_blank(const std::string& line) {
  return line.find_first_not_of(" \t\r") == std::string::npos;
}

template <typename Sample>
std::vector<Sample> read_jsonl(const std::filesystem::path& path,
                               const std::function<Sample(const Json&)>& parse) {
  std::istringstream in(read_file(path));
  std::vector<Sample> samples;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (is_blank(line)) continue;
    try {
      const Json object = Json::parse(line);
      if (!object.is_object()) throw LineProblem{"expected a JSON object"};
      samples.push_back(parse(object));
    } catch (const LineProblem& p) {
      throw Error(path.string() + ":" + std::to_string(number) + ": " + p.what);
    } catch (const Json::parse_error& e) {
      throw Error(path.string() + ":" + std::to_string(number) + ": not valid JSON (" + e.what() +
                  ")");
    }
  }
  return samples;
}

}  // namespace

std::string to_jsonl_line(const InstructSample& s) {
  return dump_line(
      {{"instruction", s.instruction}, {"answer", s.answer}, {"document_id", s.document_id}});
}

std::string to_jsonl_line(const PreferenceSample& s) {
  return dump_line({{"prompt", s.prompt},
                    {"chosen", s.chosen},
                    {"rejected", s.rejected},
                    {"document_id", s.document_id}});
}

void write_instruct_jsonl(const std::filesystem::path& path,
                          const std::vector<InstructSample>& samples) {
  write_jsonl(path, samples);
}

void write_preference_jsonl(const std::filesystem::path& path,
                            const std::vector<PreferenceSample>& samples) {
  write_jsonl(path, samples);
}

std::vector<InstructSample> read_instruct_jsonl(const std::filesystem::path& path) {
  return read_jsonl<InstructSample>(path, instruct_from);
}

std::vector<PreferenceSample> read_preference_jsonl(const std::filesystem::path& path) {
  return read_jsonl<PreferenceSample>(path, preference_from);
}

}  // namespace twinflow
