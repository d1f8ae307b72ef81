// Error: the one exception type twinflow throws for failures it can explain.
//
// twinflow reports failures as exceptions that carry their context (the file
// and line of bad user input, the command that failed, the SQL statement's
// purpose). Library exceptions (libpqxx, libyaml, std::filesystem) are caught
// at the boundary of the part that called them and rethrown as Error with a
// sentence that says what twinflow was doing. Validation of user input that can
// find many problems at once returns a list of Diagnostic values instead (see
// scheduler/definition/diagnostic.h), so the user sees every mistake in one go.
#pragma once

#include <stdexcept>
#include <string>

namespace twinflow {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Thrown when the system refuses an operation: a syscall failed. Carries errno.
class SystemError : public Error {
 public:
  SystemError(const std::string& what, int err);
  int err() const { return err_; }

 private:
  int err_;
};

}  // namespace twinflow
