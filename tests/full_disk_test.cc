// A full disk, caused for real: the attempts' directories (home/runs) live on
// a 2 MB tmpfs that a step fills, or that is full before a step starts. The
// attempt fails with a reason that says the disk is full (the step's own log
// may be empty for the same reason), the run ends failed rather than
// interrupted, nothing is left running or half-written, and a rerun after
// space is freed succeeds with each step recorded once more, no more.
//
// Mounting a tmpfs needs root allowed to mount (scripts/test.sh runs as root,
// as CI does); elsewhere these tests skip: that is their documented limit.
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "store/run_ledger.h"
#include "tests/support/twinflow_fixture.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

class FullDiskTest : public TwinflowTest {
 protected:
  void SetUp() override {
    TwinflowTest::SetUp();
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
    size_file = home / "size";
    set_size(3'000'000);  // more than the disk holds
    dag = write_dag("disk",
                    "name: disk\nsteps:\n"
                    "  - id: write\n    outputs: [blob]\n"
                    "    command: head -c \"$(cat '" +
                        size_file.string() +
                        "')\" /dev/zero > \"$TWINFLOW_OUTPUT_DIR/blob\"\n"
                        "  - id: read\n    inputs: {b: write.blob}\n"
                        "    command: test -s \"$TWINFLOW_INPUT_B\"\n");
  }
  // Puts home/`dir` on a 2 MB disk of its own.
  void mount_small_disk(const std::string& dir) {
    disk = home / dir;
    fs::create_directories(disk);
    if (::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=2m,mode=0755") != 0) {
      // A container without CAP_SYS_ADMIN refuses even root.
      if (errno == EPERM) GTEST_SKIP() << "this machine does not let root mount a tmpfs";
      FAIL() << "cannot mount a tmpfs on " << disk << ": " << std::strerror(errno);
    }
    mounted = true;
  }
  void TearDown() override {
    if (mounted) ::umount2(disk.c_str(), MNT_DETACH);
    TwinflowTest::TearDown();
  }

  void set_size(int bytes) { std::ofstream(size_file) << bytes; }

  // Writes a file on the disk until it is full.
  void fill() {
    std::ofstream out(disk / "filler", std::ios::binary);
    const std::string block(64 << 10, 'x');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }

  int64_t newest_run() {
    RunFilter filter;
    filter.pipeline = "disk";
    filter.limit = 1;
    return store->runs().list_runs(filter).at(0).id;
  }

  // The run failed with `write`'s one attempt failed for `why`, and nothing
  // runs any more.
  void expect_failed_for(int64_t run_id, const std::string& why) {
    EXPECT_EQ(store->runs().find_run(run_id)->status, "failed");
    const auto attempts = store->runs().step_runs(run_id);
    ASSERT_EQ(attempts.size(), 1u);
    EXPECT_EQ(attempts[0].step_id, "write");
    EXPECT_EQ(attempts[0].status, "failed");
    EXPECT_NE(attempts[0].error.find(why), std::string::npos) << attempts[0].error;
    EXPECT_NE(attempts[0].error.find("the disk holding " + disk.string()), std::string::npos)
        << attempts[0].error;
    EXPECT_NE(attempts[0].error.find(" is full ("), std::string::npos) << attempts[0].error;
    EXPECT_EQ(step_state(run_id, "read"), "upstream_failed");
  }

  // `twinflow rerun RUN --failed` succeeds, and runs each step once.
  void expect_rerun_succeeds(int64_t run_id) {
    const CommandResult rerun = twinflow({"rerun", std::to_string(run_id), "--failed"});
    ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
    const int64_t again = newest_run();
    EXPECT_NE(again, run_id);
    EXPECT_EQ(store->runs().find_run(again)->status, "succeeded");
    EXPECT_EQ(attempts_of(again, "write"), 1);
    EXPECT_EQ(attempts_of(again, "read"), 1);
  }

  fs::path disk, size_file;
  std::string dag;
  bool mounted = false;
};

TEST_F(FullDiskTest, AStepThatFillsTheDiskFailsSayingSo) {
  mount_small_disk("runs");
  const CommandResult run = twinflow({"run", dag});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const int64_t run_id = newest_run();
  expect_failed_for(run_id, "exited with code 1");
  // The user makes room (the failed attempt's partial output) and asks less.
  fs::remove_all(disk / std::to_string(run_id));
  set_size(1000);
  expect_rerun_succeeds(run_id);
}

TEST_F(FullDiskTest, ADiskFullBeforeAStepStartsFailsThatAttemptNotTheRun) {
  mount_small_disk("runs");
  set_size(1000);
  fill();
  const CommandResult run = twinflow({"run", dag});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_NE(run.err.find("run "), std::string::npos) << run.err;
  const int64_t run_id = newest_run();
  expect_failed_for(run_id, "No space left on device");
  // Nothing half-written is left behind: no context, no temporary file.
  for (const auto& entry : fs::recursive_directory_iterator(disk / std::to_string(run_id)))
    EXPECT_TRUE(entry.is_directory()) << entry.path();
  fs::remove(disk / "filler");
  expect_rerun_succeeds(run_id);
}

// The output fits where the step wrote it, but not in the artifact store on
// a disk of its own: the attempt fails, and no partial copy stays in the
// store.
TEST_F(FullDiskTest, AnOutputTheArtifactStoreCannotHoldFailsItsAttempt) {
  mount_small_disk("artifacts");
  const CommandResult run = twinflow({"run", dag});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const int64_t run_id = newest_run();
  EXPECT_EQ(store->runs().find_run(run_id)->status, "failed");
  const auto attempts = store->runs().step_runs(run_id);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].status, "failed");
  EXPECT_NE(attempts[0].error.find("into the artifact store: the disk holding " + disk.string() +
                                   " is full ("),
            std::string::npos)
      << attempts[0].error;
  for (const auto& entry : fs::recursive_directory_iterator(disk))
    EXPECT_TRUE(entry.is_directory()) << entry.path();
  set_size(1000);
  expect_rerun_succeeds(run_id);
}

}  // namespace
}  // namespace twinflow
