// DagDirectory, the one loader of a DAGs directory (daemon, dashboard,
// `twinflow schedules`): which files it lists, that it loads a file again only
// when the file changed, and that a hostile file (billion laughs) neither
// slows nor blocks the daemon's other DAGs and is reported once per change.
#include "scheduler/definition/dag_directory.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "scheduler/daemon/daemon.h"
#include "store/run_ledger.h"
#include "tests/support/hostile_yaml.h"
#include "tests/support/twinflow_fixture.h"

namespace twinflow {
namespace {

namespace fs = std::filesystem;

const char kGood[] = "name: good\nsteps:\n  - id: greet\n    command: echo hello\n";

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

class DagDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "dag_directory.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> paths(const DagDirectory& directory) const {
    std::vector<std::string> out;
    for (const DagFile& file : directory.files())
      out.push_back(file.path.lexically_relative(dir_).string() + (file.fresh ? " fresh" : ""));
    return out;
  }

  fs::path dir_;
};

TEST_F(DagDirectoryTest, ListsRegularYamlFilesAtAnyDepthInPathOrder) {
  write(dir_ / "b.yml", kGood);
  write(dir_ / "a.yaml", kGood);
  write(dir_ / "sub" / "c.yaml", kGood);
  write(dir_ / "notes.txt", "not a DAG");
  fs::create_directories(dir_ / "folder.yaml");                // a directory, not a file
  ASSERT_EQ(::mkfifo((dir_ / "pipe.yaml").c_str(), 0600), 0);  // would block a reader
  fs::create_symlink(dir_ / "a.yaml", dir_ / "link.yaml");
  DagDirectory directory(dir_);
  directory.refresh();
  EXPECT_EQ(paths(directory), (std::vector<std::string>{"a.yaml fresh", "b.yml fresh",
                                                        "link.yaml fresh", "sub/c.yaml fresh"}));
  EXPECT_EQ(directory.error(), "");
  for (const DagFile& file : directory.files()) EXPECT_TRUE(file.loaded.ok());
}

TEST_F(DagDirectoryTest, LoadsAFileAgainOnlyWhenItChanged) {
  write(dir_ / "a.yaml", kGood);
  write(dir_ / "b.yaml", "name: b\nsteps: []\n");
  DagDirectory directory(dir_);
  directory.refresh();
  EXPECT_EQ(paths(directory), (std::vector<std::string>{"a.yaml fresh", "b.yaml fresh"}));
  directory.refresh();
  EXPECT_EQ(paths(directory), (std::vector<std::string>{"a.yaml", "b.yaml"}));
  EXPECT_FALSE(directory.files()[1].loaded.ok());  // kept from the first load

  write(dir_ / "b.yaml", "name: b\nsteps:\n  - {id: x, command: echo}\n");  // changed size
  write(dir_ / "c.yaml", kGood);
  fs::remove(dir_ / "a.yaml");
  directory.refresh();
  EXPECT_EQ(paths(directory), (std::vector<std::string>{"b.yaml fresh", "c.yaml fresh"}));
  EXPECT_TRUE(directory.files()[0].loaded.ok());

  // Same size, new modification time: loaded again.
  struct timespec times[2] = {{0, UTIME_OMIT}, {1'000'000'000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir_ / "c.yaml").c_str(), times, 0), 0);
  directory.refresh();
  EXPECT_EQ(paths(directory), (std::vector<std::string>{"b.yaml", "c.yaml fresh"}));
}

TEST_F(DagDirectoryTest, ReportsABadFileOncePerChangeAndKeepsTheGoodOnes) {
  write(dir_ / "good.yaml", kGood);
  write(dir_ / "laughs.yaml", billion_laughs_dag());
  DagDirectory directory(dir_);
  std::vector<std::string> errors;
  std::vector<Dag> dags = directory.refresh_dags(errors);
  ASSERT_EQ(dags.size(), 1u);
  EXPECT_EQ(dags[0].name, "good");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find((dir_ / "laughs.yaml").string() + ":8:10: YAML limit exceeded: alias"),
            std::string::npos)
      << errors[0];
  errors.clear();
  EXPECT_EQ(directory.refresh_dags(errors).size(), 1u);
  EXPECT_TRUE(errors.empty());  // unchanged: not again
  write(dir_ / "laughs.yaml", billion_laughs_dag() + "# edited\n");
  directory.refresh_dags(errors);
  EXPECT_EQ(errors.size(), 1u);
}

TEST_F(DagDirectoryTest, AMissingDirectoryIsAnErrorReportedOnce) {
  DagDirectory directory(dir_ / "nowhere");
  std::vector<std::string> errors;
  EXPECT_TRUE(directory.refresh_dags(errors).empty());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], (dir_ / "nowhere").string() + ": No such file or directory");
  errors.clear();
  directory.refresh_dags(errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_FALSE(directory.error().empty());
}

// The daemon with a billion-laughs file beside a good DAG, over a real
// database and the real binary.
class DagDirectoryDaemonTest : public TwinflowTest {};

TEST_F(DagDirectoryDaemonTest, ABillionLaughsFileNeitherDelaysOtherDagsNorIsReportedEveryPass) {
  const std::string good = write_dag("good", kGood);
  const std::string laughs = write_dag("laughs", billion_laughs_dag());

  // In-process: one daemon, two passes; the error is news in the first only.
  DaemonOptions options;
  options.dags_dir = home / "dags";
  options.executor = default_options();
  options.pid = static_cast<int>(::getpid());
  SchedulerDaemon in_process(*store, *blobs, options);
  PassSummary first = in_process.run_once();
  ASSERT_EQ(first.errors.size(), 1u);
  EXPECT_NE(first.errors[0].find(laughs + ":8:10: YAML limit exceeded"), std::string::npos);
  EXPECT_TRUE(in_process.run_once().errors.empty());

  // The binary: a run of the good DAG queued while the bad file sits there
  // runs (the bound is generous: it is how the test fails, not what it measures).
  const std::string log = (home / "daemon.log").string();
  pid_t daemon = spawn_twinflow(
      {"scheduler", "--dags-dir", (home / "dags").string(), "--poll-ms", "100", "--grace", "5"},
      log);
  auto queued = twinflow({"trigger", good, "--json"});
  ASSERT_EQ(queued.exit_code, 0) << queued.err;
  const int64_t run_id = nlohmann::json::parse(queued.out)["run_id"];
  std::string status;
  for (int i = 0; i < 1200 && status != "succeeded"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = store->runs().find_run(run_id)->status;
  }
  EXPECT_EQ(status, "succeeded") << read_file(log);

  // More passes go by (100 ms apart); the file is reported once, until it changes.
  const std::string error = laughs + ":8:10: YAML limit exceeded";
  const auto count = [&] {
    const std::string text = read_file(log);
    size_t n = 0;
    for (size_t at = text.find(error); at != std::string::npos; at = text.find(error, at + 1)) ++n;
    return n;
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_EQ(count(), 1u) << read_file(log);
  std::ofstream(laughs, std::ios::app) << "# edited\n";
  for (int i = 0; i < 200 && count() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(count(), 2u) << read_file(log);

  ASSERT_EQ(::kill(daemon, SIGTERM), 0);
  int wait_status = 0;
  ASSERT_EQ(::waitpid(daemon, &wait_status, 0), daemon);
  EXPECT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) << read_file(log);
}

TEST_F(DagDirectoryDaemonTest, ValidateRejectsBillionLaughsWithExitTwo) {
  const std::string laughs = write_dag("laughs", billion_laughs_dag());
  CommandResult result = twinflow({"validate", laughs});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err.substr(0, result.err.find('\n')),
            laughs +
                ":8:10: YAML limit exceeded: alias '*e' brings the nodes that aliases expand to "
                "past 100000 (aliases of aliases multiply; write the values out instead)");
}

}  // namespace
}  // namespace twinflow
