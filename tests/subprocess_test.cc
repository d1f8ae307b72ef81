// Tests of SubprocessSet, with real processes. Timed assertions are loose:
// the machine running them may be busy.
#include "scheduler/subprocess.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "util/error.h"

namespace twinflow {
namespace {

using Outcome = ProcessResult::Outcome;
using Clock = std::chrono::steady_clock;

// Waits until `count` results came back or `limit` passed.
std::vector<ProcessResult> collect(SubprocessSet& set, size_t count, Millis limit = Millis(10000)) {
  std::vector<ProcessResult> results;
  const auto give_up = Clock::now() + limit;
  while (results.size() < count && Clock::now() < give_up) {
    for (ProcessResult& r : set.wait(Millis(500))) results.push_back(std::move(r));
  }
  return results;
}

Millis took(const ProcessResult& r) {
  return std::chrono::duration_cast<Millis>(r.finished - r.started);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// Alive and not a zombie: an orphan's zombie lingers until init reaps it,
// and in a container init may not bother.
bool alive(pid_t pid) {
  if (kill(pid, 0) != 0) return false;
  std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

bool dies_within(pid_t pid, Millis limit) {
  const auto give_up = Clock::now() + limit;
  while (alive(pid)) {
    if (Clock::now() > give_up) return false;
    std::this_thread::sleep_for(Millis(20));
  }
  return true;
}

class SubprocessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/subprocess_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    log_ = dir_ + "/step.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ProcessSpec spec(std::vector<std::string> argv, uint64_t tag = 1) {
    ProcessSpec s;
    s.tag = tag;
    s.argv = std::move(argv);
    s.env = {"PATH=/usr/bin:/bin"};
    s.log_path = log_;
    return s;
  }
  ProcessSpec shell(const std::string& script, uint64_t tag = 1) {
    return spec({"sh", "-c", script}, tag);
  }

  // Runs one child to its end.
  ProcessResult run(SubprocessSet& set, const ProcessSpec& s) {
    set.start(s);
    std::vector<ProcessResult> results = collect(set, 1);
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? ProcessResult{} : results[0];
  }

  std::string dir_;
  std::string log_;
};

TEST_F(SubprocessTest, ReportsExitCodes) {
  SubprocessSet set;
  ProcessResult ok = run(set, spec({"true"}, 7));
  EXPECT_EQ(ok.tag, 7u);
  EXPECT_GT(ok.pid, 0);
  EXPECT_EQ(ok.outcome, Outcome::kExited);
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_EQ(ok.signal, 0);
  EXPECT_TRUE(ok.error.empty());

  ProcessResult three = run(set, shell("exit 3"));
  EXPECT_EQ(three.outcome, Outcome::kExited);
  EXPECT_EQ(three.exit_code, 3);
  EXPECT_EQ(set.running(), 0u);
}

TEST_F(SubprocessTest, KilledBySignalDiffersFromExitNine) {
  SubprocessSet set;
  ProcessResult killed = run(set, shell("kill -9 $$"));
  EXPECT_EQ(killed.outcome, Outcome::kSignaled);
  EXPECT_EQ(killed.signal, SIGKILL);
  EXPECT_EQ(killed.exit_code, -1);

  ProcessResult nine = run(set, shell("exit 9"));
  EXPECT_EQ(nine.outcome, Outcome::kExited);
  EXPECT_EQ(nine.exit_code, 9);
  EXPECT_EQ(nine.signal, 0);
}

TEST_F(SubprocessTest, MissingProgramIsASpawnFailureNamingIt) {
  SubprocessSet set;
  EXPECT_EQ(set.start(spec({"nosuchprog", "x"}, 4)), -1);
  EXPECT_EQ(set.running(), 0u);
  std::vector<ProcessResult> results = set.wait(Millis(5000));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].tag, 4u);
  EXPECT_EQ(results[0].outcome, Outcome::kSpawnFailed);
  EXPECT_EQ(results[0].error, "cannot run 'nosuchprog': No such file or directory");

  set.start(spec({"/no/such/prog"}));
  results = set.wait(Millis(5000));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::kSpawnFailed);
  EXPECT_NE(results[0].error.find("'/no/such/prog'"), std::string::npos) << results[0].error;
}

TEST_F(SubprocessTest, LooksProgramsUpInThePathOfItsEnvironment) {
  SubprocessSet set;
  ProcessSpec s = spec({"sh", "-c", "true"});
  s.env = {"PATH=" + dir_};
  set.start(s);
  std::vector<ProcessResult> results = set.wait(Millis(5000));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::kSpawnFailed);
}

TEST_F(SubprocessTest, MissingDirectoryIsASpawnFailure) {
  SubprocessSet set;
  ProcessSpec s = spec({"true"});
  s.cwd = dir_ + "/missing";
  ProcessResult r = run(set, s);
  EXPECT_EQ(r.outcome, Outcome::kSpawnFailed);
  EXPECT_NE(r.error.find("missing"), std::string::npos) << r.error;
}

TEST_F(SubprocessTest, UnwritableLogFileThrows) {
  SubprocessSet set;
  ProcessSpec s = spec({"true"});
  s.log_path = dir_ + "/no/such/dir/step.log";
  try {
    set.start(s);
    FAIL() << "no exception";
  } catch (const SystemError& e) {
    EXPECT_NE(std::string(e.what()).find(s.log_path), std::string::npos) << e.what();
    EXPECT_EQ(e.err(), ENOENT);
  }
  EXPECT_EQ(set.running(), 0u);
}

TEST_F(SubprocessTest, StdoutAndStderrGoToTheAppendedLog) {
  SubprocessSet set;
  run(set, shell("echo before"));
  ProcessResult r = run(set, shell("echo out; echo err >&2"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output_bytes, 4u);  // "out\n"; stderr does not pass through us
  std::string log = slurp(log_);
  EXPECT_EQ(log.find("before\n"), 0u) << log;
  EXPECT_NE(log.find("out\n"), std::string::npos) << log;
  EXPECT_NE(log.find("err\n"), std::string::npos) << log;
}

TEST_F(SubprocessTest, DeliversStdoutLinesInOrderWithTheLastUnterminated) {
  std::vector<std::pair<uint64_t, std::string>> lines;
  SubprocessSet set(
      [&](uint64_t tag, std::string_view line) { lines.emplace_back(tag, std::string(line)); });
  run(set, shell(R"(printf '{"a":1}\n{"b":2}\n\n'; sleep 0.1; printf '{"c":3}')", 5));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], std::make_pair(uint64_t{5}, std::string(R"({"a":1})")));
  EXPECT_EQ(lines[1].second, R"({"b":2})");
  EXPECT_EQ(lines[2].second, "");
  EXPECT_EQ(lines[3].second, R"({"c":3})");
}

TEST_F(SubprocessTest, LongLinesAreLoggedButNotDelivered) {
  std::vector<std::string> lines;
  SubprocessSet set([&](uint64_t, std::string_view line) { lines.emplace_back(line); });
  ProcessResult r =
      run(set, shell("head -c 2000000 /dev/zero | tr '\\0' x; echo; echo short; echo end"));
  EXPECT_EQ(lines, (std::vector<std::string>{"short", "end"}));
  EXPECT_EQ(r.output_bytes, 2000000u + 1 + 6 + 4);
  EXPECT_EQ(std::filesystem::file_size(log_), r.output_bytes);
}

TEST_F(SubprocessTest, TimeoutSendsSigterm) {
  SubprocessSet set;
  ProcessSpec s = spec({"sleep", "30"});
  s.timeout = Millis(200);
  ProcessResult r = run(set, s);
  EXPECT_EQ(r.outcome, Outcome::kTimedOut);
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_GE(took(r), Millis(150));
  EXPECT_LT(took(r), Millis(5000));
}

TEST_F(SubprocessTest, IgnoredSigtermIsFollowedBySigkillAfterTheGrace) {
  SubprocessSet set;
  ProcessSpec s = shell("trap '' TERM; sleep 30");
  s.timeout = Millis(500);  // time enough for the shell to reach its trap
  s.kill_grace = Millis(200);
  ProcessResult r = run(set, s);
  EXPECT_EQ(r.outcome, Outcome::kTimedOut);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_GE(took(r), Millis(650));
  EXPECT_LT(took(r), Millis(5000));
}

TEST_F(SubprocessTest, TimeoutKillsTheWholeProcessGroup) {
  pid_t grandchild = 0;
  SubprocessSet set(
      [&](uint64_t, std::string_view line) { grandchild = std::stoi(std::string(line)); });
  ProcessSpec s = shell("sleep 30 & echo $!; wait");
  s.timeout = Millis(500);  // time enough for the shell to print the pid
  ProcessResult r = run(set, s);
  EXPECT_EQ(r.outcome, Outcome::kTimedOut);
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(dies_within(grandchild, Millis(5000)));
}

TEST_F(SubprocessTest, GrandchildHoldingStdoutDoesNotDelayTheResult) {
  std::vector<std::string> lines;
  SubprocessSet set([&](uint64_t, std::string_view line) { lines.emplace_back(line); });
  ProcessResult r = run(set, shell("sleep 30 & echo $!; printf done"));
  EXPECT_EQ(r.outcome, Outcome::kExited);
  EXPECT_LT(took(r), Millis(5000));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "done");
  kill(std::stoi(lines[0]), SIGKILL);
}

TEST_F(SubprocessTest, TerminateStopsOneChild) {
  SubprocessSet set;
  pid_t first = set.start(spec({"sleep", "30"}, 1));
  set.start(spec({"sleep", "0.2"}, 2));
  EXPECT_EQ(set.running(), 2u);
  EXPECT_EQ(set.pid_of(1), first);
  EXPECT_EQ(set.pid_of(3), -1);

  set.terminate(1);
  set.terminate(99);  // unknown: nothing happens
  std::vector<ProcessResult> results = collect(set, 2);
  ASSERT_EQ(results.size(), 2u);
  std::map<uint64_t, ProcessResult> by_tag;
  for (const ProcessResult& r : results) by_tag[r.tag] = r;
  EXPECT_EQ(by_tag[1].outcome, Outcome::kTerminated);
  EXPECT_EQ(by_tag[1].signal, SIGTERM);
  EXPECT_EQ(by_tag[1].pid, first);
  EXPECT_EQ(by_tag[2].outcome, Outcome::kExited);
  EXPECT_EQ(set.running(), 0u);
}

TEST_F(SubprocessTest, TerminateAllEscalatesToSigkill) {
  int ready = 0;
  SubprocessSet set([&](uint64_t, std::string_view) { ++ready; });
  for (uint64_t tag = 1; tag <= 3; ++tag) {
    ProcessSpec s = shell("trap '' TERM; echo ready; sleep 30", tag);
    s.kill_grace = Millis(200);
    set.start(s);
  }
  // A SIGTERM that came before the trap would simply end the shell.
  for (auto give_up = Clock::now() + Millis(5000); ready < 3 && Clock::now() < give_up;)
    EXPECT_TRUE(set.wait(Millis(100)).empty());
  set.terminate_all();
  std::vector<ProcessResult> results = collect(set, 3);
  ASSERT_EQ(results.size(), 3u);
  for (const ProcessResult& r : results) {
    EXPECT_EQ(r.outcome, Outcome::kTerminated);
    EXPECT_EQ(r.signal, SIGKILL);
    EXPECT_LT(took(r), Millis(5000));
  }
}

TEST_F(SubprocessTest, FiftyMegabytesOfOutputAreLoggedExactly) {
  size_t line_count = 0;
  SubprocessSet set([&](uint64_t, std::string_view) { ++line_count; });
  ProcessResult r = run(set, spec({"head", "-c", "50000000", "/dev/zero"}));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output_bytes, 50000000u);
  EXPECT_EQ(std::filesystem::file_size(log_), 50000000u);
  EXPECT_EQ(line_count, 0u);  // one 50 MB "line": too long to deliver
}

TEST_F(SubprocessTest, FiftyChildrenAreEachReportedOnce) {
  SubprocessSet set;
  for (uint64_t tag = 0; tag < 50; ++tag) {
    ProcessSpec s = shell("exit " + std::to_string(tag % 7), tag);
    s.log_path = dir_ + "/" + std::to_string(tag) + ".log";
    ASSERT_GT(set.start(s), 0);
  }
  std::vector<ProcessResult> results = collect(set, 50, Millis(20000));
  ASSERT_EQ(results.size(), 50u);
  std::map<uint64_t, int> exit_codes;
  for (const ProcessResult& r : results) {
    EXPECT_EQ(r.outcome, Outcome::kExited);
    EXPECT_TRUE(exit_codes.emplace(r.tag, r.exit_code).second) << "tag twice: " << r.tag;
  }
  for (uint64_t tag = 0; tag < 50; ++tag) EXPECT_EQ(exit_codes[tag], static_cast<int>(tag % 7));
  EXPECT_TRUE(set.wait(Millis(0)).empty());
}

TEST_F(SubprocessTest, PassesEnvironmentAndDirectory) {
  std::vector<std::string> lines;
  SubprocessSet set([&](uint64_t, std::string_view line) { lines.emplace_back(line); });
  ProcessSpec s = shell("echo \"$GREETING\"; pwd; echo \"${HOME:-unset}\"");
  s.env = {"GREETING=hello world", "PATH=/usr/bin:/bin"};
  s.cwd = dir_;
  ProcessResult r = run(set, s);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(lines, (std::vector<std::string>{"hello world", dir_, "unset"}));
}

TEST_F(SubprocessTest, StdinIsDevNull) {
  SubprocessSet set;
  ProcessSpec s = spec({"cat"});
  s.timeout = Millis(10000);
  ProcessResult r = run(set, s);
  EXPECT_EQ(r.outcome, Outcome::kExited);
  EXPECT_EQ(r.exit_code, 0);
}

TEST_F(SubprocessTest, ChildGetsDefaultSignalStateWhateverWeBlockOrIgnore) {
  sigset_t term, old_mask;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &term, &old_mask), 0);
  struct sigaction ignore = {}, old_action;
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGTERM, &ignore, &old_action), 0);

  SubprocessSet set;
  ProcessSpec s = spec({"sleep", "30"});
  s.timeout = Millis(200);
  s.kill_grace = Millis(10000);
  ProcessResult r = run(set, s);
  EXPECT_EQ(r.outcome, Outcome::kTimedOut);
  EXPECT_EQ(r.signal, SIGTERM);  // not SIGKILL after the grace

  sigaction(SIGTERM, &old_action, nullptr);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
}

TEST_F(SubprocessTest, WakeFdMakesWaitReturnEarly) {
  int wake[2];
  ASSERT_EQ(pipe(wake), 0);
  SubprocessSet set;
  set.set_wake_fd(wake[0]);
  set.start(spec({"sleep", "30"}));
  ASSERT_EQ(write(wake[1], "x", 1), 1);
  const auto before = Clock::now();
  EXPECT_TRUE(set.wait(Millis(10000)).empty());
  EXPECT_LT(Clock::now() - before, Millis(5000));
  char byte;
  EXPECT_EQ(read(wake[0], &byte, 1), 1);  // left for the caller to drain
  set.set_wake_fd(-1);
  set.terminate_all();
  EXPECT_EQ(collect(set, 1).size(), 1u);
  close(wake[0]);
  close(wake[1]);
}

TEST_F(SubprocessTest, WaitWithNothingToDoReturnsEmptyAfterMaxWait) {
  SubprocessSet set;
  const auto before = Clock::now();
  EXPECT_TRUE(set.wait(Millis(50)).empty());
  EXPECT_GE(Clock::now() - before, Millis(40));
}

TEST_F(SubprocessTest, DestructorKillsAndReapsWhatIsStillRunning) {
  pid_t pid;
  {
    SubprocessSet set;
    pid = set.start(spec({"sleep", "30"}));
    ASSERT_GT(pid, 0);
  }
  errno = 0;
  EXPECT_EQ(kill(pid, 0), -1);  // reaped, not merely a zombie
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(SubprocessTest, ClosesEveryFdItOpened) {
  auto open_fds = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                         std::filesystem::directory_iterator());
  };
  const auto before = open_fds();
  {
    SubprocessSet set;
    run(set, shell("echo hi"));
    run(set, spec({"nosuchprog"}));
    set.start(spec({"sleep", "30"}));  // left for the destructor
  }
  EXPECT_EQ(open_fds(), before);
}

}  // namespace
}  // namespace twinflow
