// Checks for command-line arguments, shared by the cli/cmd_*.cc subcommands.
//
// Contract: a bad argument is refused while parsing, before any subcommand
// touches the database or the home directory, with one line that names the
// argument and says what is wrong, and exit status 2 (docs/CLI.md). The
// validators below return CLI11 validators whose message CLI11 prefixes with
// the option's name ("--limit: must be a whole number from 1 to 10000, got
// '-1'"); bad_argument() is for checks that only a callback can make.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace twinflow {

// A base-10 whole number in [min, max]: no sign other than a leading '-', no
// spaces, no suffix ("1x"), no exponent.
CLI::Validator whole_number(int64_t min, int64_t max);
// A run id, version or other database id: a whole number >= 1.
CLI::Validator positive_id();
// HOST:PORT with PORT a whole number from 0 to 65535 (0: any free port).
CLI::Validator bind_address();
// NAME or NAME@N or NAME@vN, N >= 1.
CLI::Validator artifact_spec();

// Splits an ARTIFACT[@[v]N] spec checked by artifact_spec(): the name and the
// version (0 when none was given).
std::pair<std::string, int> split_artifact_spec(const std::string& spec);

// The first argument (argv[1..]) that is not valid UTF-8, as "argument N is
// not valid UTF-8"; nullopt when all are.
std::optional<std::string> non_utf8_argument(int argc, char** argv);

// Adds the checks every subcommand's -j/--jobs (1..1024) and --bind options
// need, wherever they are declared.
void check_common_options(CLI::App& app);

// Refuses an argument from inside a callback: main() prints
// "twinflow: NAME: WHAT" and exits 2.
[[noreturn]] void bad_argument(const std::string& name, const std::string& what);

}  // namespace twinflow
