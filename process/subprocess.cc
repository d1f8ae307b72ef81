// SubprocessSet: see subprocess.h.
#include "process/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "process/supervisor.h"
#include "util/error.h"

namespace twinflow {
namespace {

constexpr size_t kChunk = 64 * 1024;      // one read() of a child's stdout
constexpr size_t kMaxLine = 1024 * 1024;  // longer stdout lines are logged, not delivered
// A supervisor enforces the kill grace itself; we SIGKILL its group only if
// it has not ended this long after the grace (it is stuck, or not one).
constexpr Millis kSupervisorSlack{2000};
// How long the destructor waits for supervisors to kill their trees.
constexpr Millis kSupervisorShutdown{5000};

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~Fd() { reset(); }

  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// posix_spawn* functions return an error number instead of setting errno.
void check(int err, const char* what) {
  if (err != 0) throw SystemError(what, err);
}

// posix_spawn's attributes and file actions for one child, freed however
// start() is left.
class SpawnSetup {
 public:
  SpawnSetup() {
    check(posix_spawnattr_init(&attr_), "posix_spawnattr_init");
    if (int err = posix_spawn_file_actions_init(&actions_)) {
      posix_spawnattr_destroy(&attr_);
      throw SystemError("posix_spawn_file_actions_init", err);
    }
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // The child leads a new process group, so that stopping a step stops all it
  // started. It gets an empty signal mask and default dispositions whatever
  // we block or ignore (a shell would otherwise pass on e.g. SIGPIPE ignored).
  void set_group_and_signals() {
    check(posix_spawnattr_setflags(
              &attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF),
          "posix_spawnattr_setflags");
    check(posix_spawnattr_setpgroup(&attr_, 0), "posix_spawnattr_setpgroup");
    sigset_t none;
    sigemptyset(&none);
    check(posix_spawnattr_setsigmask(&attr_, &none), "posix_spawnattr_setsigmask");
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGKILL);  // these two cannot be changed anyway
    sigdelset(&all, SIGSTOP);
    check(posix_spawnattr_setsigdefault(&attr_, &all), "posix_spawnattr_setsigdefault");
  }

  // stdin from /dev/null, stdout to our pipe, stderr straight to the log.
  // dup2 clears FD_CLOEXEC on the copy, so exactly these are inherited.
  void redirect(int stdout_fd, int log_fd, const std::string& cwd) {
    check(posix_spawn_file_actions_addopen(&actions_, 0, "/dev/null", O_RDONLY, 0),
          "posix_spawn_file_actions_addopen");
    check(posix_spawn_file_actions_adddup2(&actions_, stdout_fd, 1),
          "posix_spawn_file_actions_adddup2");
    check(posix_spawn_file_actions_adddup2(&actions_, log_fd, 2),
          "posix_spawn_file_actions_adddup2");
    if (!cwd.empty())
      check(posix_spawn_file_actions_addchdir_np(&actions_, cwd.c_str()),
            "posix_spawn_file_actions_addchdir_np");
  }

  const posix_spawnattr_t* attr() const { return &attr_; }
  const posix_spawn_file_actions_t* actions() const { return &actions_; }

 private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

// A null-terminated array of pointers into `strings`, as exec wants; it does
// not write through them, the const_cast only satisfies its old signature.
std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const std::string& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

// The PATH the child will see: the one in its environment, else ours.
std::string search_path(const std::vector<std::string>& env) {
  for (const std::string& entry : env)
    if (entry.starts_with("PATH=")) return entry.substr(5);
  const char* ours = std::getenv("PATH");
  return ours ? ours : "/usr/local/bin:/usr/bin:/bin";
}

// Finds `name` the way execvp does, but here, so that a missing program is
// reported by name. Returns 0 and sets *found, or the errno execvp would give.
// An empty PATH entry means "." to execvp; we skip it rather than run
// whatever lies in a directory the user did not name.
int find_program(const std::string& name, const std::string& path, std::string* found) {
  if (name.find('/') != std::string::npos) {
    *found = name;
    return 0;
  }
  int err = ENOENT;
  size_t begin = 0;
  while (begin <= path.size() && !name.empty()) {
    size_t end = std::min(path.find(':', begin), path.size());
    std::string candidate = path.substr(begin, end - begin) + "/" + name;
    begin = end + 1;
    struct stat st;
    if (candidate.size() == name.size() + 1 || stat(candidate.c_str(), &st) != 0 ||
        !S_ISREG(st.st_mode))
      continue;
    if (access(candidate.c_str(), X_OK) == 0) {
      *found = candidate;
      return 0;
    }
    err = EACCES;  // there but not executable; keep looking, report this if nothing else
  }
  return err;
}

void set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
    throw SystemError("cannot make a pipe non-blocking", errno);
}

// Milliseconds for poll() from now to `until`, rounded up so that we never
// wake just before a deadline and spin.
int poll_timeout(std::chrono::steady_clock::time_point now,
                 std::chrono::steady_clock::time_point until) {
  if (until <= now) return 0;
  auto ms = std::chrono::ceil<Millis>(until - now).count();
  return static_cast<int>(std::min<decltype(ms)>(ms, INT_MAX));
}

// For a child already sent SIGKILL, so the wait is short.
void reap_blocking(pid_t pid) {
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) continue;
}

}  // namespace

struct SubprocessSet::Child {
  uint64_t tag = 0;
  pid_t pid = -1;
  Fd pidfd;
  Fd out;  // read end of the stdout pipe; closed at EOF or exit
  Fd log;
  std::string log_path;
  Millis kill_grace{0};
  Clock::time_point started;
  std::optional<Clock::time_point> deadline;          // of spec.timeout
  std::optional<Clock::time_point> kill_at;           // SIGKILL due after our SIGTERM
  std::optional<ProcessResult::Outcome> stop_reason;  // set once we asked it to stop
  std::string line;                                   // stdout since the last '\n'
  bool line_too_long = false;
  uint64_t output_bytes = 0;
  std::string error;        // why its log could not be written
  bool exited = false;      // pidfd became readable; reap it
  bool supervised = false;  // pid is a `twinflow __supervise`

  void signal_leader(int sig) const {
    syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0);
  }

  // While the child is unreaped, even as a zombie, its pid and so its group id
  // cannot be reused. Should it have moved to another group, ours is empty and
  // at least the child itself gets the signal, through its pidfd.
  void signal_group(int sig) const {
    if (kill(-pid, sig) != 0) syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0);
  }
};

SubprocessSet::SubprocessSet(
    std::function<void(uint64_t tag, std::string_view line)> on_stdout_line)
    : on_stdout_line_(std::move(on_stdout_line)), buffer_(kChunk) {}

SubprocessSet::~SubprocessSet() {
  // Supervisors kill their trees (setsid'd descendants too); the wait is
  // bounded, and what is left then is killed by group.
  for (const auto& child : children_)
    if (child->supervised) child->signal_leader(kOwnerGoneSignal);
  const Clock::time_point give_up = Clock::now() + kSupervisorShutdown;
  for (const auto& child : children_) {
    if (child->supervised) {
      pollfd fd{child->pidfd.get(), POLLIN, 0};
      while (poll(&fd, 1, poll_timeout(Clock::now(), give_up)) < 0 && errno == EINTR) continue;
    }
    child->signal_group(SIGKILL);
    reap_blocking(child->pid);
  }
}

pid_t SubprocessSet::start(const ProcessSpec& spec) {
  const std::string log_path = spec.log_path.empty() ? "/dev/null" : spec.log_path;
  Fd log(open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (log.get() < 0) throw SystemError("cannot open log file '" + log_path + "'", errno);

  if (spec.argv.empty()) {
    fail_spawn(spec, "cannot run an empty command");
    return -1;
  }
  const std::string& name = spec.argv[0];
  std::string program;
  if (int err = find_program(name, search_path(spec.env), &program)) {
    fail_spawn(spec, "cannot run '" + name + "': " + std::strerror(err));
    return -1;
  }
  // A path is not searched, so check it here (relative to the child's cwd):
  // under a supervisor, exec would only fail inside it, as an exit code.
  if (name.find('/') != std::string::npos) {
    const std::string full = name[0] == '/' || spec.cwd.empty() ? name : spec.cwd + "/" + name;
    if (access(full.c_str(), X_OK) != 0) {
      fail_spawn(spec, "cannot run '" + name + "': " + std::strerror(errno));
      return -1;
    }
  }

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw SystemError("cannot create a stdout pipe for '" + name + "'", errno);
  Fd out(pipe_fds[0]);
  Fd out_for_child(pipe_fds[1]);
  set_nonblocking(out.get());  // only our end: the child's stdout must behave as usual

  // Under a supervisor: twinflow __supervise PARENT GRACE PROGRAM ARGV...
  std::vector<std::string> supervised_argv;
  if (!spec.supervisor.empty()) {
    std::string supervisor;
    if (int err = find_program(spec.supervisor, search_path({}), &supervisor))
      throw SystemError("cannot run the step supervisor '" + spec.supervisor + "'", err);
    supervised_argv = {supervisor, kSuperviseCommand, std::to_string(getpid()),
                       std::to_string(spec.kill_grace.count()), program};
    supervised_argv.insert(supervised_argv.end(), spec.argv.begin(), spec.argv.end());
    program = supervisor;
  }
  SpawnSetup setup;
  setup.set_group_and_signals();
  setup.redirect(out_for_child.get(), log.get(), spec.cwd);
  std::vector<char*> argv = c_strings(supervised_argv.empty() ? spec.argv : supervised_argv);
  std::vector<char*> envp = c_strings(spec.env);
  pid_t pid = -1;
  if (int err = posix_spawn(&pid, program.c_str(), setup.actions(), setup.attr(), argv.data(),
                            envp.data())) {
    std::string where = spec.cwd.empty() ? "" : " in '" + spec.cwd + "'";
    fail_spawn(spec, "cannot run '" + name + "'" + where + ": " + std::strerror(err));
    return -1;
  }
  out_for_child.reset();  // were we to keep it open, EOF would never come

  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd.get() < 0) {
    int err = errno;
    kill(-pid, SIGKILL);  // we could not watch it, so it must not run
    reap_blocking(pid);
    throw SystemError("pidfd_open for '" + name + "'", err);
  }

  auto child = std::make_unique<Child>();
  child->tag = spec.tag;
  child->pid = pid;
  child->pidfd = std::move(pidfd);
  child->out = std::move(out);
  child->log = std::move(log);
  child->log_path = log_path;
  child->kill_grace = spec.kill_grace;
  child->supervised = !supervised_argv.empty();
  child->started = Clock::now();
  if (spec.timeout) child->deadline = child->started + *spec.timeout;
  children_.push_back(std::move(child));
  return pid;
}

void SubprocessSet::fail_spawn(const ProcessSpec& spec, std::string error) {
  ProcessResult result;
  result.tag = spec.tag;
  result.outcome = ProcessResult::Outcome::kSpawnFailed;
  result.error = std::move(error);
  result.started = result.finished = Clock::now();
  spawn_failures_.push_back(std::move(result));
}

std::vector<ProcessResult> SubprocessSet::wait(Millis max_wait) {
  std::vector<ProcessResult> done = std::exchange(spawn_failures_, {});
  const Clock::time_point give_up = Clock::now() + std::max(max_wait, Millis(0));
  struct Watch {
    Child* child;  // nullptr: the wake fd
    bool exit;     // the child's pidfd, else its stdout
  };
  std::vector<pollfd> fds;
  std::vector<Watch> watches;
  for (;;) {
    const Clock::time_point now = Clock::now();
    enforce_deadlines(now);
    // With results in hand we only look for more that are already there.
    int timeout = done.empty() ? poll_timeout(now, next_deadline(give_up)) : 0;

    fds.clear();
    watches.clear();
    for (const auto& child : children_) {
      // stdout before pidfd: output read this round precedes the exit.
      if (child->out.get() >= 0) {
        fds.push_back({child->out.get(), POLLIN, 0});
        watches.push_back({child.get(), false});
      }
      fds.push_back({child->pidfd.get(), POLLIN, 0});
      watches.push_back({child.get(), true});
    }
    if (wake_fd_ >= 0) {
      fds.push_back({wake_fd_, POLLIN, 0});
      watches.push_back({nullptr, false});
    }
    if (poll(fds.data(), fds.size(), timeout) < 0) {
      if (errno == EINTR) continue;
      throw SystemError("poll", errno);
    }

    bool woken = false;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Watch& watch = watches[i];
      if (!watch.child)
        woken = true;
      else if (watch.exit)
        watch.child->exited = true;
      else
        read_stdout(*watch.child);
    }
    for (const auto& child : children_)
      if (child->exited) done.push_back(reap(*child));
    std::erase_if(children_, [](const auto& child) { return child->exited; });

    if (!done.empty() || woken || Clock::now() >= give_up) return done;
  }
}

void SubprocessSet::terminate(uint64_t tag) {
  const Clock::time_point now = Clock::now();
  for (const auto& child : children_)
    if (child->tag == tag) stop(*child, ProcessResult::Outcome::kTerminated, now);
}

void SubprocessSet::terminate_all() {
  const Clock::time_point now = Clock::now();
  for (const auto& child : children_) stop(*child, ProcessResult::Outcome::kTerminated, now);
}

pid_t SubprocessSet::pid_of(uint64_t tag) const {
  for (const auto& child : children_)
    if (child->tag == tag) return child->pid;
  return -1;
}

void SubprocessSet::enforce_deadlines(Clock::time_point now) {
  for (const auto& child : children_) {
    if (child->deadline && now >= *child->deadline)
      stop(*child, ProcessResult::Outcome::kTimedOut, now);
    if (child->kill_at && now >= *child->kill_at) {
      child->signal_group(SIGKILL);
      child->kill_at.reset();
    }
  }
}

SubprocessSet::Clock::time_point SubprocessSet::next_deadline(Clock::time_point limit) const {
  for (const auto& child : children_) {
    if (child->deadline) limit = std::min(limit, *child->deadline);
    if (child->kill_at) limit = std::min(limit, *child->kill_at);
  }
  return limit;
}

// The first reason to stop a child wins, and so does its grace period.
void SubprocessSet::stop(Child& child, ProcessResult::Outcome reason, Clock::time_point now) {
  if (child.stop_reason) return;
  child.stop_reason = reason;
  child.deadline.reset();
  if (child.supervised) {
    // It signals the command's group and every descendant that left it,
    // and SIGKILLs them after the grace.
    child.signal_leader(SIGTERM);
    child.kill_at = now + child.kill_grace + kSupervisorSlack;
    return;
  }
  child.signal_group(SIGTERM);
  child.kill_at = now + child.kill_grace;
}

// One chunk per call, so that a chatty child cannot starve the others.
void SubprocessSet::read_stdout(Child& child) {
  ssize_t n = read(child.out.get(), buffer_.data(), buffer_.size());
  if (n > 0) {
    consume(child, std::string_view(buffer_.data(), static_cast<size_t>(n)));
  } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
    close_stdout(child);  // EOF; a read error on a pipe we can only treat the same way
  }
}

// The child has exited but its last output may still sit in the pipe. Read
// what is there now and no more: a grandchild holding the pipe open could
// keep writing forever.
void SubprocessSet::drain_stdout(Child& child) {
  int available = 0;
  if (child.out.get() >= 0 && ioctl(child.out.get(), FIONREAD, &available) != 0) available = 0;
  while (available > 0) {
    ssize_t n = read(child.out.get(), buffer_.data(),
                     std::min(buffer_.size(), static_cast<size_t>(available)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    consume(child, std::string_view(buffer_.data(), static_cast<size_t>(n)));
    available -= static_cast<int>(n);
  }
  close_stdout(child);
}

void SubprocessSet::consume(Child& child, std::string_view data) {
  append_to_log(child, data);
  if (on_stdout_line_) split_lines(child, data);
}

// After the first failure we stop writing but keep reading, so that the child
// does not block on a full pipe; the result carries the error.
void SubprocessSet::append_to_log(Child& child, std::string_view data) {
  while (!data.empty() && child.error.empty()) {
    ssize_t n = write(child.log.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      child.error = "cannot write log file '" + child.log_path + "': " + std::strerror(errno);
      return;
    }
    data.remove_prefix(static_cast<size_t>(n));
    child.output_bytes += static_cast<uint64_t>(n);
  }
}

// A line is kept until its '\n' arrives, but only up to kMaxLine, so that a
// child printing binary junk costs bounded memory.
void SubprocessSet::split_lines(Child& child, std::string_view data) {
  while (!data.empty()) {
    const size_t newline = data.find('\n');
    keep_line_part(child, data.substr(0, newline));
    if (newline == std::string_view::npos) return;
    if (!child.line_too_long) on_stdout_line_(child.tag, child.line);
    child.line.clear();
    child.line_too_long = false;
    data.remove_prefix(newline + 1);
  }
}

void SubprocessSet::keep_line_part(Child& child, std::string_view part) {
  if (child.line_too_long) return;
  if (child.line.size() + part.size() > kMaxLine) {
    child.line_too_long = true;
    std::string().swap(child.line);  // give the memory back, not just the size
    return;
  }
  child.line.append(part);
}

// No more output will come: a final line without '\n' is still a line.
void SubprocessSet::close_stdout(Child& child) {
  if (child.out.get() < 0) return;
  child.out.reset();
  if (on_stdout_line_ && !child.line_too_long && !child.line.empty())
    on_stdout_line_(child.tag, child.line);
  child.line.clear();
  child.line_too_long = false;
}

ProcessResult SubprocessSet::reap(Child& child) {
  // Group members left behind by a leader we were stopping get no more grace.
  if (child.stop_reason) child.signal_group(SIGKILL);
  int status = 0;
  const pid_t reaped = waitpid(child.pid, &status, WNOHANG);
  const int wait_errno = errno;
  drain_stdout(child);

  ProcessResult result;
  result.tag = child.tag;
  result.pid = child.pid;
  result.started = child.started;
  result.finished = Clock::now();
  result.output_bytes = child.output_bytes;
  result.error = child.error;
  result.outcome = child.stop_reason.value_or(ProcessResult::Outcome::kExited);
  if (reaped != child.pid) {
    // Only if someone else reaped it (e.g. SIGCHLD set to SIG_IGN): the status is lost.
    result.error = "exit status of pid " + std::to_string(child.pid) +
                   " lost: " + (reaped < 0 ? std::strerror(wait_errno) : "not reaped");
    return result;
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
    if (!child.stop_reason) result.outcome = ProcessResult::Outcome::kSignaled;
  }
  return result;
}

}  // namespace twinflow
