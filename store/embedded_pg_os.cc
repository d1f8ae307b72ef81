// See embedded_pg_os.h.
#include "store/embedded_pg_os.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "util/error.h"

namespace twinflow::embedded_pg {

namespace fs = std::filesystem;

std::string read_first_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

bool is_executable_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

namespace {

pid_t parse_pid(const std::string& line) {
  char* end = nullptr;
  long pid = std::strtol(line.c_str(), &end, 10);
  return pid > 0 && end != line.c_str() ? static_cast<pid_t>(pid) : 0;
}

}  // namespace

pid_t read_lock_file_pid(const fs::path& path) {
  return parse_pid(read_first_line(path));
}

PidFile read_postmaster_pid_file(const fs::path& data_dir) {
  std::ifstream in(data_dir / "postmaster.pid");
  PidFile out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (number == 1) out.pid = parse_pid(line);
    if (number == 8) out.ready = line.starts_with("ready");
  }
  return out;
}

bool is_unix_socket(const fs::path& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

namespace {

// kill(pid, 0) also succeeds for a zombie. Where init does not reap orphans
// (some containers) a postmaster killed with -9 stays a zombie for good.
bool process_alive(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  std::string stat = read_first_line("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return true;  // no /proc
  char state = stat[paren + 2];
  return state != 'Z' && state != 'X';
}

}  // namespace

bool is_postmaster_of(pid_t pid, const fs::path& data_dir) {
  if (pid <= 0 || !process_alive(pid)) return false;
  std::error_code ec;
  bool same = fs::equivalent("/proc/" + std::to_string(pid) + "/cwd", data_dir, ec);
  if (!ec) return same;
  // Without the right to inspect the process, trust the pid file.
  return ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted;
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

namespace {

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  off_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    offset += n;
  }
  return out;
}

// posix_spawn attributes and file actions, destroyed with the object.
class SpawnSetup {
 public:
  SpawnSetup(int output_fd, const fs::path& cwd) {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_addopen(&actions_, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions_, output_fd, 1);
    posix_spawn_file_actions_adddup2(&actions_, output_fd, 2);
    // The server outlives us: it must not inherit our locks, sockets or pipes.
    posix_spawn_file_actions_addclosefrom_np(&actions_, 3);
    // The server's user may not be allowed into our working directory.
    posix_spawn_file_actions_addchdir_np(&actions_, cwd.c_str());
    // Our caller may block or ignore signals; the server must not inherit that.
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2})
      sigaddset(&defaults, sig);
    posix_spawnattr_setsigmask(&attr_, &none);
    posix_spawnattr_setsigdefault(&attr_, &defaults);
    posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  const posix_spawn_file_actions_t* actions() const { return &actions_; }
  const posix_spawnattr_t* attr() const { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

}  // namespace

// Output goes to an anonymous memory file, so nothing is left behind.
CommandResult run_command(const std::vector<std::string>& argv, const fs::path& cwd,
                          size_t max_output) {
  Fd output(::memfd_create("twinflow-command", MFD_CLOEXEC));
  if (output.get() < 0) throw SystemError("cannot create a buffer for command output", errno);
  std::vector<char*> cargv;
  for (const std::string& arg : argv) cargv.push_back(const_cast<char*>(arg.c_str()));
  cargv.push_back(nullptr);
  SpawnSetup setup(output.get(), cwd);
  pid_t pid = 0;
  int err =
      ::posix_spawn(&pid, argv[0].c_str(), setup.actions(), setup.attr(), cargv.data(), environ);
  if (err != 0) throw SystemError("cannot run " + argv[0], err);
  CommandResult result;
  while (::waitpid(pid, &result.status, 0) < 0) {
    if (errno != EINTR) throw SystemError("cannot wait for " + argv[0], errno);
  }
  result.output = read_all(output.get());
  if (result.output.size() > max_output)
    result.output = "..." + result.output.substr(result.output.size() - max_output);
  return result;
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& arg : argv) out += (out.empty() ? "" : " ") + arg;
  return out;
}

std::optional<UserIds> lookup_user(const std::string& name) {
  std::vector<char> buf(16384);
  struct passwd pw;
  struct passwd* found = nullptr;
  int err = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  if (err != 0) throw SystemError("cannot look up user " + name, err);
  if (!found) return std::nullopt;
  return UserIds{pw.pw_uid, pw.pw_gid};
}

fs::path find_runuser() {
  for (const char* candidate : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"})
    if (is_executable_file(candidate)) return candidate;
  throw Error(
      "twinflow runs as root and needs runuser (from util-linux) to start PostgreSQL as "
      "the user `postgres`: install util-linux, or set TWINFLOW_DATABASE_URL");
}

void make_private_dir(const fs::path& dir, const UserIds& owner) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw SystemError("cannot create directory " + dir.string(), errno);
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) throw SystemError("cannot stat " + dir.string(), errno);
  if (!S_ISDIR(st.st_mode)) throw Error(dir.string() + " exists but is not a directory");
  if (st.st_uid != owner.uid) {
    // Hand over only what we own: a directory someone else made (in /tmp,
    // say) could be a trap for the server's socket.
    if (st.st_uid != ::geteuid())
      throw Error(dir.string() + " belongs to uid " + std::to_string(st.st_uid) + ", not to uid " +
                  std::to_string(owner.uid) + " that runs the PostgreSQL server: remove it");
    if (::chown(dir.c_str(), owner.uid, owner.gid) != 0)
      throw SystemError("cannot hand " + dir.string() + " to the PostgreSQL server's user", errno);
  }
  if ((st.st_mode & 07777) != 0700 && ::chmod(dir.c_str(), 0700) != 0)
    throw SystemError("cannot make " + dir.string() + " private (mode 0700)", errno);
}

// The server's user must be able to walk down to home/pg. Search permission
// (o+x) lets it pass through a directory without listing it.
void let_others_traverse(const fs::path& dir, const std::string& user) {
  for (fs::path p = dir;; p = p.parent_path()) {
    struct stat st;
    if (::stat(p.c_str(), &st) != 0) throw SystemError("cannot stat " + p.string(), errno);
    if (!(st.st_mode & S_IXOTH)) {
      if (::chmod(p.c_str(), (st.st_mode & 07777) | S_IXOTH) != 0)
        throw SystemError("cannot add search permission for others to " + p.string(), errno);
      std::fprintf(stderr,
                   "twinflow: added search permission for others (chmod o+x, not read) to %s so "
                   "that the PostgreSQL server, running as user %s, can reach %s\n",
                   p.c_str(), user.c_str(), dir.c_str());
    }
    if (p == p.parent_path()) break;
  }
}

FileLock::FileLock(const fs::path& path)
    : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
  if (fd_.get() < 0) throw SystemError("cannot open lock file " + path.string(), errno);
  while (::flock(fd_.get(), LOCK_EX) != 0) {
    if (errno != EINTR) throw SystemError("cannot lock " + path.string(), errno);
  }
}

}  // namespace twinflow::embedded_pg
