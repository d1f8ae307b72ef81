// Bad command-line arguments (issue 17 item 11), against the real binary:
// each is refused with exit 2 and one line on stderr that names the input,
// before anything is written. The database URL points at a closed port on
// 127.0.0.1 and $TWINFLOW_HOME at a directory that does not exist, so a
// command that reached the database or the home would fail differently
// (exit 1, a connection error) or leave the home behind.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "tests/support/scratch_dir.h"
#include "tests/support/spawn_process.h"
#include "tests/support/twinflow_fixture.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

class CliBadArgsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(scratch_.path() / "files" / "a-directory");
    std::ofstream(scratch_.path() / "files" / "image.png", std::ios::binary)
        << std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
    std::ofstream(scratch_.path() / "files" / "dag.yaml")
        << "name: tiny\nsteps:\n  - id: a\n    command: echo hi\n";
  }

  CommandResult twinflow(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {TWINFLOW_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env = {"PATH=/usr/bin:/bin", "HOME=" + scratch_.path().string(),
                                    "TWINFLOW_HOME=" + home().string(),
                                    "TWINFLOW_DATABASE_URL=host=127.0.0.1 port=1 dbname=nothing "
                                    "user=nobody connect_timeout=2"};
    const std::string out = (scratch_.path() / "out").string();
    const std::string err = (scratch_.path() / "err").string();
    CommandResult result;
    pid_t pid = spawn_with_files(argv, env, out, err);
    if (pid < 0) return result;
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    result.out = read_file(out);
    result.err = read_file(err);
    return result;
  }

  // Runs `args` and checks the contract: exit 2, one line naming `needle`.
  void expect_refused(const std::vector<std::string>& args, const std::string& needle) {
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    SCOPED_TRACE(shown);
    CommandResult r = twinflow(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.find("pqxx"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(home())) << "the home was written";
  }

  fs::path home() const { return scratch_.path() / "home"; }
  std::string file(const std::string& name) const {
    return (scratch_.path() / "files" / name).string();
  }

  ScratchDir scratch_{"twinflow-badargs"};
};

TEST_F(CliBadArgsTest, AValidCommandReachesTheUnreachableDatabase) {
  // The control: what the cases below would do if their arguments passed.
  CommandResult r = twinflow({"runs", "--limit", "5"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
}

TEST_F(CliBadArgsTest, InvalidUtf8InAnyArgumentIsNamedByPosition) {
  expect_refused({"runs", "--pipeline", "caf\xe9"}, "argument 3 is not valid UTF-8");
  expect_refused({"lineage", "\xff\xfe@1"}, "argument 2 is not valid UTF-8");
  expect_refused({"search", "ok", "--author", "\xc0\xaf"}, "argument 4 is not valid UTF-8");
}

TEST_F(CliBadArgsTest, NumbersOutOfRangeOrWithSuffixes) {
  expect_refused({"runs", "--limit", "-1"},
                 "--limit: must be a whole number from 1 to 10000, got '-1'");
  expect_refused({"runs", "--limit", "5x"}, "'5x'");
  expect_refused({"runs", "--before", "0"}, "--before");
  expect_refused({"run", file("dag.yaml"), "-j", "-5"}, "'-5'");
  expect_refused({"run", file("dag.yaml"), "--jobs", "0"}, "jobs");
  expect_refused({"rerun", "1", "--failed", "-j", "100000"}, "'100000'");
  expect_refused({"scheduler", "--once", "-j", "-1"}, "jobs");
  expect_refused({"scheduler", "--once", "--poll-ms", "5"}, "--poll-ms");
  expect_refused({"show", "abc"}, "'abc'");
  expect_refused({"cancel", "-3"}, "'-3'");
  expect_refused({"logs", "1", "a", "--attempt", "0"}, "--attempt");
  expect_refused({"search", "x", "-k", "0"}, "'0'");
  expect_refused({"search", "x", "--original-weight", "1.5"}, "original_weight");
  expect_refused({"search", "x", "--feedback-terms", "0"}, "'0'");
  expect_refused({"prompts", "--limit", "1e3"}, "'1e3'");
  expect_refused({"schedules", "--count", "-2"}, "'-2'");
}

TEST_F(CliBadArgsTest, VersionSuffixesAreParsedStrictly) {
  expect_refused({"lineage", "docs@abc"}, "'docs@abc'");
  expect_refused({"lineage", "docs@1x"}, "'docs@1x'");
  expect_refused({"lineage", "docs@v0"}, "'docs@v0'");
  expect_refused({"lineage", "docs@"}, "'docs@'");
  expect_refused({"lineage", "@3"}, "'@3'");
  expect_refused({"models", "promote", "twin", "1x"}, "'1x'");
  expect_refused({"models", "promote", "twin", "0"}, "'0'");
}

TEST_F(CliBadArgsTest, ChoicesAndSubcommands) {
  expect_refused({"models", "promote", "twin", "1", "--stage", "bogus"}, "bogus");
  expect_refused({"db", "bogus"}, "unknown subcommand 'bogus'");
  expect_refused({"db"}, "migrate, status, stop, url");
}

TEST_F(CliBadArgsTest, BindAddressesOutsideThePortRange) {
  expect_refused({"web", "--bind", "127.0.0.1:99999"}, "'127.0.0.1:99999'");
  expect_refused({"serve", "--bind", "127.0.0.1:-1"}, "'127.0.0.1:-1'");
  expect_refused({"serve-files", file("a-directory"), "--bind", "127.0.0.1"}, "'127.0.0.1'");
  expect_refused({"web", "--bind", "localhost:80x"}, "'localhost:80x'");
}

TEST_F(CliBadArgsTest, ExtractRefusesWhatIsNotAnHtmlFile) {
  expect_refused({"extract", file("image.png")}, "image.png' is a binary file");
  expect_refused({"extract", file("a-directory")}, "a-directory' is a directory");
  expect_refused({"extract", file("missing.html")}, "no such file");
}

}  // namespace
}  // namespace twinflow
