// Tests of SubprocessSet, with real processes. Timed assertions are loose:
// the machine running them may be busy.
#include "process/subprocess.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "process/process_tree.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
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

// Every test runs twice: the command as our child, and under the step
// supervisor (`twinflow __supervise`, supervisor.h), whose contract is the same.
class SubprocessTest : public ::testing::TestWithParam<bool> {
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
    if (GetParam()) s.supervisor = TWINFLOW_BINARY;
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

TEST_P(SubprocessTest, ReportsExitCodes) {
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

TEST_P(SubprocessTest, KilledBySignalDiffersFromExitNine) {
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

TEST_P(SubprocessTest, MissingProgramIsASpawnFailureNamingIt) {
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

TEST_P(SubprocessTest, LooksProgramsUpInThePathOfItsEnvironment) {
  SubprocessSet set;
  ProcessSpec s = spec({"sh", "-c", "true"});
  s.env = {"PATH=" + dir_};
  set.start(s);
  std::vector<ProcessResult> results = set.wait(Millis(5000));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::kSpawnFailed);
}

TEST_P(SubprocessTest, MissingDirectoryIsASpawnFailure) {
  SubprocessSet set;
  ProcessSpec s = spec({"true"});
  s.cwd = dir_ + "/missing";
  ProcessResult r = run(set, s);
  EXPECT_EQ(r.outcome, Outcome::kSpawnFailed);
  EXPECT_NE(r.error.find("missing"), std::string::npos) << r.error;
}

TEST_P(SubprocessTest, UnwritableLogFileThrows) {
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

TEST_P(SubprocessTest, StdoutAndStderrGoToTheAppendedLog) {
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

TEST_P(SubprocessTest, DeliversStdoutLinesInOrderWithTheLastUnterminated) {
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

TEST_P(SubprocessTest, LongLinesAreLoggedButNotDelivered) {
  std::vector<std::string> lines;
  SubprocessSet set([&](uint64_t, std::string_view line) { lines.emplace_back(line); });
  ProcessResult r =
      run(set, shell("head -c 2000000 /dev/zero | tr '\\0' x; echo; echo short; echo end"));
  EXPECT_EQ(lines, (std::vector<std::string>{"short", "end"}));
  EXPECT_EQ(r.output_bytes, 2000000u + 1 + 6 + 4);
  EXPECT_EQ(std::filesystem::file_size(log_), r.output_bytes);
}

TEST_P(SubprocessTest, TimeoutSendsSigterm) {
  SubprocessSet set;
  ProcessSpec s = spec({"sleep", "30"});
  s.timeout = Millis(200);
  ProcessResult r = run(set, s);
  EXPECT_EQ(r.outcome, Outcome::kTimedOut);
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_GE(took(r), Millis(150));
  EXPECT_LT(took(r), Millis(5000));
}

TEST_P(SubprocessTest, IgnoredSigtermIsFollowedBySigkillAfterTheGrace) {
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

TEST_P(SubprocessTest, TimeoutKillsTheWholeProcessGroup) {
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

TEST_P(SubprocessTest, GrandchildHoldingStdoutDoesNotDelayTheResult) {
  std::vector<std::string> lines;
  SubprocessSet set([&](uint64_t, std::string_view line) { lines.emplace_back(line); });
  ProcessResult r = run(set, shell("sleep 30 & echo $!; printf done"));
  EXPECT_EQ(r.outcome, Outcome::kExited);
  EXPECT_LT(took(r), Millis(5000));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "done");
  kill(std::stoi(lines[0]), SIGKILL);
}

TEST_P(SubprocessTest, TerminateStopsOneChild) {
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

TEST_P(SubprocessTest, TerminateAllEscalatesToSigkill) {
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

TEST_P(SubprocessTest, FiftyMegabytesOfOutputAreLoggedExactly) {
  size_t line_count = 0;
  SubprocessSet set([&](uint64_t, std::string_view) { ++line_count; });
  ProcessResult r = run(set, spec({"head", "-c", "50000000", "/dev/zero"}));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output_bytes, 50000000u);
  EXPECT_EQ(std::filesystem::file_size(log_), 50000000u);
  EXPECT_EQ(line_count, 0u);  // one 50 MB "line": too long to deliver
}

TEST_P(SubprocessTest, FiftyChildrenAreEachReportedOnce) {
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

TEST_P(SubprocessTest, PassesEnvironmentAndDirectory) {
  std::vector<std::string> lines;
  SubprocessSet set([&](uint64_t, std::string_view line) { lines.emplace_back(line); });
  ProcessSpec s = shell("echo \"$GREETING\"; pwd; echo \"${HOME:-unset}\"");
  s.env = {"GREETING=hello world", "PATH=/usr/bin:/bin"};
  s.cwd = dir_;
  ProcessResult r = run(set, s);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(lines, (std::vector<std::string>{"hello world", dir_, "unset"}));
}

TEST_P(SubprocessTest, StdinIsDevNull) {
  SubprocessSet set;
  ProcessSpec s = spec({"cat"});
  s.timeout = Millis(10000);
  ProcessResult r = run(set, s);
  EXPECT_EQ(r.outcome, Outcome::kExited);
  EXPECT_EQ(r.exit_code, 0);
}

TEST_P(SubprocessTest, ChildGetsDefaultSignalStateWhateverWeBlockOrIgnore) {
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

TEST_P(SubprocessTest, WakeFdMakesWaitReturnEarly) {
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

TEST_P(SubprocessTest, WaitWithNothingToDoReturnsEmptyAfterMaxWait) {
  SubprocessSet set;
  const auto before = Clock::now();
  EXPECT_TRUE(set.wait(Millis(50)).empty());
  EXPECT_GE(Clock::now() - before, Millis(40));
}

TEST_P(SubprocessTest, DestructorKillsAndReapsWhatIsStillRunning) {
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

TEST_P(SubprocessTest, ClosesEveryFdItOpened) {
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

INSTANTIATE_TEST_SUITE_P(Child, SubprocessTest, ::testing::Values(false));
INSTANTIATE_TEST_SUITE_P(Supervised, SubprocessTest, ::testing::Values(true));

// What only a supervisor does: no process of a step outlives the step or
// us, not even one that left the step's process group with setsid.
class SupervisorTest : public SubprocessTest {
 protected:
  // A script that starts `setsid sleep 60` (its own session and group),
  // writes its pid to a file, then runs `rest`.
  std::string with_setsid_sleeper(const std::string& rest) {
    return "setsid sleep 60 & echo $! > '" + pid_file() + "'; " + rest;
  }
  std::string pid_file() const { return dir_ + "/sleeper.pid"; }
  // The sleeper's pid once it is written, and its start time.
  std::pair<pid_t, int64_t> sleeper() {
    for (auto give_up = Clock::now() + Millis(10000); Clock::now() < give_up;) {
      std::string text = slurp(pid_file());
      if (!text.empty() && text.back() == '\n') {
        const pid_t pid = std::stoi(text);
        // setsid has exec'd sleep once its session is its own.
        for (int i = 0; i < 200 && getsid(pid) != pid; ++i) std::this_thread::sleep_for(Millis(10));
        return {pid, process_start_time(pid)};
      }
      std::this_thread::sleep_for(Millis(10));
    }
    ADD_FAILURE() << "the step never wrote its sleeper's pid";
    return {0, 0};
  }
  bool gone(std::pair<pid_t, int64_t> p) {
    return process_state(p.first, p.second) == ProcessState::kGone;
  }
};

INSTANTIATE_TEST_SUITE_P(Supervised, SupervisorTest, ::testing::Values(true));

TEST_P(SupervisorTest, WhatACommandLeavesBehindEndsWithIt) {
  SubprocessSet set;
  set.start(shell(with_setsid_sleeper("sleep 0.3; exit 4")));
  auto setsid_sleeper = sleeper();
  ASSERT_GT(setsid_sleeper.first, 0);
  ASSERT_FALSE(gone(setsid_sleeper));
  ASSERT_NE(getsid(setsid_sleeper.first), getsid(0)) << "the sleeper did not leave our session";
  std::vector<ProcessResult> results = collect(set, 1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::kExited);
  EXPECT_EQ(results[0].exit_code, 4);
  EXPECT_TRUE(gone(setsid_sleeper)) << "pid " << setsid_sleeper.first << " outlived its step";
}

TEST_P(SupervisorTest, TerminateReachesDescendantsThatLeftTheGroup) {
  SubprocessSet set;
  ProcessSpec s =
      shell("setsid sh -c 'trap \"\" TERM; sleep 60' & echo $! > '" + pid_file() + "'; sleep 60");
  s.kill_grace = Millis(300);
  set.start(s);
  auto stubborn = sleeper();
  ASSERT_GT(stubborn.first, 0);
  set.terminate_all();
  std::vector<ProcessResult> results = collect(set, 1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::kTerminated);
  EXPECT_TRUE(gone(stubborn)) << "a setsid'd process that ignores SIGTERM outlived its step";
}

TEST_P(SupervisorTest, DestroyingTheSetKillsEveryProcessOfTheStep) {
  std::pair<pid_t, int64_t> setsid_sleeper;
  {
    SubprocessSet set;
    set.start(shell(with_setsid_sleeper("sleep 60")));
    setsid_sleeper = sleeper();
    ASSERT_GT(setsid_sleeper.first, 0);
  }
  EXPECT_TRUE(gone(setsid_sleeper));
}

// The owner (here a forked copy of this test) dies with SIGKILL, so it
// cleans up nothing: the supervisor does, through PR_SET_PDEATHSIG.
TEST_P(SupervisorTest, KillingTheOwnerWithSigkillKillsEveryProcessOfTheStep) {
  const pid_t owner = fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    SubprocessSet set;
    set.start(shell(with_setsid_sleeper("sleep 60")));
    set.wait(Millis(60000));
    _exit(0);
  }
  auto setsid_sleeper = sleeper();
  ASSERT_GT(setsid_sleeper.first, 0);
  ASSERT_EQ(kill(owner, SIGKILL), 0);
  ASSERT_EQ(waitpid(owner, nullptr, 0), owner);
  // Well within the few seconds allowed; a busy machine may be slow.
  const auto give_up = Clock::now() + Millis(5000);
  while (!gone(setsid_sleeper) && Clock::now() < give_up) std::this_thread::sleep_for(Millis(20));
  EXPECT_TRUE(gone(setsid_sleeper)) << "the step's setsid'd process outlived its owner by 5 s";
}

TEST_P(SupervisorTest, AnAttemptIsFencedFromOutsideByItsPidAndStartTime) {
  SubprocessSet set;
  const pid_t supervisor = set.start(shell(with_setsid_sleeper("sleep 60")));
  auto setsid_sleeper = sleeper();
  ASSERT_GT(setsid_sleeper.first, 0);
  const int64_t start = process_start_time(supervisor);
  // A wrong start time is another process that had the pid: left alone.
  EXPECT_TRUE(ensure_attempt_dead(supervisor, start + 1, Millis(1000)));
  EXPECT_FALSE(gone(setsid_sleeper));
  EXPECT_TRUE(ensure_attempt_dead(supervisor, start, Millis(5000)));
  EXPECT_TRUE(gone(setsid_sleeper));
  std::vector<ProcessResult> results = collect(set, 1);
  ASSERT_EQ(results.size(), 1u);
}

}  // namespace
}  // namespace twinflow
