// The operating-system side of running the embedded PostgreSQL server
// (embedded_postgres.h): its programs run without a shell, its pid files and
// sockets, the lock that serialises twinflow processes starting it, and the
// unprivileged user it runs as when twinflow runs as root. Internal to store/.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace twinflow::embedded_pg {

// The first line of a file; "" when it cannot be read.
std::string read_first_line(const std::filesystem::path& path);
bool is_executable_file(const std::filesystem::path& path);

// The pid on the first line of a PostgreSQL lock file; 0 when there is none.
pid_t read_lock_file_pid(const std::filesystem::path& path);

// What postmaster.pid says: its pid, and the status on line 8, which the
// postmaster sets to "ready" once it accepts connections (pg_ctl -w waits
// for the same).
struct PidFile {
  pid_t pid = 0;
  bool ready = false;
};

PidFile read_postmaster_pid_file(const std::filesystem::path& data_dir);

bool is_unix_socket(const std::filesystem::path& path);

// Whether pid is a live postmaster of data_dir. The postmaster works in its
// data directory, which tells it apart from a process that reused the pid.
bool is_postmaster_of(pid_t pid, const std::filesystem::path& data_dir);

// "exit status 1", "killed by signal 9".
std::string describe_wait_status(int status);

struct CommandResult {
  int status = 0;
  std::string output;  // stdout and stderr, interleaved
  bool ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

// Runs argv (argv[0] an absolute path) in cwd, without a shell, and waits for
// it; its output keeps the last max_output bytes. Nothing is left behind.
CommandResult run_command(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                          size_t max_output);
// argv joined by spaces, for messages.
std::string command_line(const std::vector<std::string>& argv);

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Holds an exclusive flock until destroyed. flock locks belong to the open
// file, so two threads of one process exclude each other too.
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& path);

 private:
  Fd fd_;
};

struct UserIds {
  uid_t uid;
  gid_t gid;
};

std::optional<UserIds> lookup_user(const std::string& name);
// runuser's path; throws Error saying what to install when there is none.
std::filesystem::path find_runuser();
// Creates dir (mode 0700) for the server's user, or checks an existing one.
void make_private_dir(const std::filesystem::path& dir, const UserIds& owner);
// The server's user must be able to walk down to `dir`: adds search
// permission (o+x) where it lacks, and says so on stderr.
void let_others_traverse(const std::filesystem::path& dir, const std::string& user);

}  // namespace twinflow::embedded_pg
