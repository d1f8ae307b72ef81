#include "cli/arg_checks.h"

#include <charconv>
#include <limits>

#include "tasks/text/utf8.h"

namespace twinflow {
namespace {

std::optional<int64_t> parse_whole(const std::string& text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

// Quoted for a message, bounded so a hostile argument cannot flood the terminal.
std::string shown(const std::string& text) {
  constexpr size_t kShown = 60;
  if (text.size() <= kShown) return "'" + text + "'";
  return "'" + text.substr(0, utf8_floor(text, kShown)) + "...'";
}

std::string range_text(int64_t min, int64_t max) {
  if (max == std::numeric_limits<int64_t>::max()) return ">= " + std::to_string(min);
  return "from " + std::to_string(min) + " to " + std::to_string(max);
}

}  // namespace

CLI::Validator whole_number(int64_t min, int64_t max) {
  return CLI::Validator(
      [min, max](std::string& input) -> std::string {
        auto value = parse_whole(input);
        if (!value || *value < min || *value > max)
          return "must be a whole number " + range_text(min, max) + ", got " + shown(input);
        return "";
      },
      "INT " + range_text(min, max));
}

CLI::Validator positive_id() {
  return whole_number(1, std::numeric_limits<int64_t>::max());
}

CLI::Validator bind_address() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        const size_t colon = input.rfind(':');
        const std::string problem =
            "must be HOST:PORT with PORT from 0 to 65535, got " + shown(input);
        if (colon == std::string::npos || colon == 0) return problem;
        auto port = parse_whole(input.substr(colon + 1));
        if (!port || *port < 0 || *port > 65535) return problem;
        return "";
      },
      "HOST:PORT");
}

std::pair<std::string, int> split_artifact_spec(const std::string& spec) {
  const size_t at = spec.rfind('@');
  if (at == std::string::npos) return {spec, 0};
  std::string version = spec.substr(at + 1);
  if (!version.empty() && version[0] == 'v') version.erase(0, 1);
  auto value = parse_whole(version);
  if (!value || *value < 1 || *value > std::numeric_limits<int>::max()) return {"", -1};
  return {spec.substr(0, at), static_cast<int>(*value)};
}

CLI::Validator artifact_spec() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        auto [name, version] = split_artifact_spec(input);
        if (version < 0)
          return "the version after '@' must be a whole number >= 1 (NAME@3 or NAME@v3), got " +
                 shown(input);
        if (name.empty()) return "needs an artifact name before '@', got " + shown(input);
        return "";
      },
      "ARTIFACT[@VERSION]");
}

std::optional<std::string> non_utf8_argument(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (!is_valid_utf8(argv[i])) return "argument " + std::to_string(i) + " is not valid UTF-8";
  return std::nullopt;
}

void check_common_options(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (CLI::Option* jobs = sub->get_option_no_throw("--jobs")) jobs->check(whole_number(1, 1024));
    if (CLI::Option* bind = sub->get_option_no_throw("--bind")) bind->check(bind_address());
    check_common_options(*sub);
  }
}

void bad_argument(const std::string& name, const std::string& what) {
  throw CLI::ValidationError(name, what);
}

}  // namespace twinflow
