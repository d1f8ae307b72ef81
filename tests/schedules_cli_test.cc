// `twinflow schedules` end to end: the real binary, run in a scratch project
// directory, listing the DAG files under its dags/ folder. The command must not
// need a database, so every run points TWINFLOW_DATABASE_URL at a closed port
// and TWINFLOW_HOME at an empty directory, and checks that nothing was started.
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scheduler/definition/cron.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)

extern char** environ;

namespace twinflow {
namespace {

namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class SchedulesCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "schedules_cli.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    scratch_ = pattern;
    project_ = scratch_ / "project";
    home_ = scratch_ / "home";
    fs::create_directories(project_ / "dags");
    fs::create_directories(home_);
  }
  void TearDown() override {
    // The command reads files only: it must not have set up a database.
    EXPECT_TRUE(fs::is_empty(home_)) << "TWINFLOW_HOME was written to";
    fs::remove_all(scratch_);
  }

  void write(const std::string& relative, const std::string& text) {
    fs::path path = project_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }

  // Runs `twinflow ARGS...` with the project directory as its cwd.
  Result twinflow(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {TWINFLOW_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env = {"TWINFLOW_HOME=" + home_.string(),
                                    "TWINFLOW_DATABASE_URL=postgresql://127.0.0.1:1/none"};
    for (char** e = environ; *e; ++e) {
      std::string_view var(*e);
      if (!var.starts_with("TWINFLOW_HOME=") && !var.starts_with("TWINFLOW_DATABASE_URL="))
        env.emplace_back(var);
    }
    fs::path out = scratch_ / "out", err = scratch_ / "err";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addchdir_np(&actions, project_.c_str());
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> cargv, cenv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    for (std::string& e : env) cenv.push_back(e.data());
    cenv.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), cenv.data());
    posix_spawn_file_actions_destroy(&actions);
    Result result;
    if (rc != 0) return result;
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    result.out = slurp(out);
    result.err = slurp(err);
    return result;
  }

  fs::path scratch_, project_, home_;
};

const char* const kWeekly =
    "name: weekly\n"
    "schedule: {cron: \"0 6 * * 1\", timezone: Europe/Berlin}\n"
    "steps:\n"
    "  - id: a\n"
    "    command: echo\n";

const char* const kNightly =
    "name: nightly\n"
    "schedule:\n"
    "  cron: 30 2 * * *\n"
    "  timezone: Europe/Berlin\n"
    "  catchup: true\n"
    "  max_active_runs: 2\n"
    "steps:\n"
    "  - id: a\n"
    "    command: echo\n";

const char* const kUnscheduled =
    "name: plain\n"
    "steps:\n"
    "  - id: a\n"
    "    command: echo\n";

using Strings = std::vector<std::string>;

TEST_F(SchedulesCliTest, ListsEveryScheduledDagUnderDagsRecursivelyAsJson) {
  write("dags/weekly.yaml", kWeekly);
  write("dags/team/nightly.yml", kNightly);
  write("dags/plain.yaml", kUnscheduled);
  write("dags/notes.txt", "not a DAG");
  Result result =
      twinflow({"schedules", "--json", "--count", "3", "--from", "2026-03-27T12:00:00Z"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  nlohmann::json doc = nlohmann::json::parse(result.out);
  ASSERT_EQ(doc.size(), 2u) << doc.dump(2);  // sorted by path; plain.yaml has no schedule
  EXPECT_EQ(doc[0]["file"], "dags/team/nightly.yml");
  EXPECT_EQ(doc[0]["name"], "nightly");
  EXPECT_EQ(doc[0]["cron"], "30 2 * * *");
  EXPECT_EQ(doc[0]["timezone"], "Europe/Berlin");
  EXPECT_EQ(doc[0]["catchup"], true);
  EXPECT_EQ(doc[0]["max_active_runs"], 2);
  // 02:30 does not exist on 2026-03-29 in Berlin: that day fires at 03:00 CEST.
  EXPECT_EQ(doc[0]["next"].get<Strings>(),
            (Strings{"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}));
  EXPECT_EQ(doc[1]["file"], "dags/weekly.yaml");
  EXPECT_EQ(doc[1]["catchup"], false);
  EXPECT_EQ(doc[1]["max_active_runs"], 1);
  EXPECT_EQ(doc[1]["next"].get<Strings>(),
            (Strings{"2026-03-30T04:00:00Z", "2026-04-06T04:00:00Z", "2026-04-13T04:00:00Z"}));
}

TEST_F(SchedulesCliTest, TextShowsUtcAndTheScheduleWallClock) {
  write("dags/weekly.yaml", kWeekly);
  Result result = twinflow({"schedules", "--count", "2", "--from", "2026-03-20"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "weekly  dags/weekly.yaml\n"
            "  cron '0 6 * * 1' in Europe/Berlin, catchup false, max_active_runs 1\n"
            "  2026-03-23T05:00:00Z  Mon 2026-03-23 06:00 CET\n"
            "  2026-03-30T04:00:00Z  Mon 2026-03-30 06:00 CEST\n");
}

TEST_F(SchedulesCliTest, MalformedFileExitsTwoWithDiagnosticsAndTheOthersAreStillListed) {
  write("dags/a_bad.yaml",
        "name: bad\n"
        "schedule:\n"
        "  cron: \"61 6 * * 1\"\n"
        "steps:\n"
        "  - id: a\n"
        "    command: echo\n");
  write("dags/weekly.yaml", kWeekly);
  Result text = twinflow({"schedules", "--count", "1", "--from", "2026-03-20T00:00:00Z"});
  EXPECT_EQ(text.exit_code, 2);
  EXPECT_EQ(text.err,
            "dags/a_bad.yaml:3:9: invalid cron expression for 'schedule.cron': bad minute field "
            "'61': value out of range 0-59\n"
            "  cron: \"61 6 * * 1\"\n"
            "        ^\n");
  EXPECT_NE(text.out.find("2026-03-23T05:00:00Z"), std::string::npos) << text.out;

  Result json = twinflow({"schedules", "--json", "--count", "1", "--from", "2026-03-20T00:00:00Z"});
  EXPECT_EQ(json.exit_code, 2);
  nlohmann::json doc = nlohmann::json::parse(json.out);
  ASSERT_EQ(doc.size(), 2u);
  EXPECT_EQ(doc[0]["file"], "dags/a_bad.yaml");
  EXPECT_EQ(doc[0]["ok"], false);
  ASSERT_EQ(doc[0]["errors"].size(), 1u);
  EXPECT_EQ(doc[0]["errors"][0]["line"], 3);
  EXPECT_EQ(doc[0]["errors"][0]["column"], 9);
  EXPECT_EQ(doc[1]["ok"], true);
  EXPECT_EQ(doc[1]["next"].get<Strings>(), (Strings{"2026-03-23T05:00:00Z"}));
}

TEST_F(SchedulesCliTest, WithoutFromListsFiveFireTimesAfterNow) {
  write("dags/hourly.yaml",
        "name: hourly\n"
        "schedule: \"@hourly\"\n"
        "steps:\n"
        "  - id: a\n"
        "    command: echo\n");
  const auto before = std::chrono::system_clock::now();
  Result result = twinflow({"schedules", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  Strings next = nlohmann::json::parse(result.out)[0]["next"].get<Strings>();
  ASSERT_EQ(next.size(), 5u);
  std::optional<std::chrono::system_clock::time_point> previous;
  for (const std::string& text : next) {
    std::optional<std::chrono::system_clock::time_point> t = parse_iso8601(text);
    ASSERT_TRUE(t.has_value()) << text;
    if (previous) {
      EXPECT_EQ(*t - *previous, std::chrono::hours(1));
    }
    previous = t;
  }
  EXPECT_GT(*parse_iso8601(next[0]), before);
}

TEST_F(SchedulesCliTest, OneFileOrAnotherDirectoryCanBeAsked) {
  write("elsewhere/deep/weekly.yaml", kWeekly);
  write("dags/plain.yaml", kUnscheduled);
  Result dir = twinflow({"schedules", "--dags-dir", "elsewhere", "--json", "--from", "2026-03-20"});
  ASSERT_EQ(dir.exit_code, 0) << dir.err;
  nlohmann::json doc = nlohmann::json::parse(dir.out);
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["file"], "elsewhere/deep/weekly.yaml");
  EXPECT_EQ(doc[0]["next"].size(), 5u);

  // Asked about one file, an unscheduled DAG is shown as such.
  Result plain = twinflow({"schedules", "--dag", "dags/plain.yaml"});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, "plain  dags/plain.yaml\n  no schedule\n");
  Result plain_json = twinflow({"schedules", "--dag", "dags/plain.yaml", "--json"});
  EXPECT_TRUE(nlohmann::json::parse(plain_json.out)[0]["cron"].is_null());

  // With no scheduled DAG under dags/, the listing says so.
  Result none = twinflow({"schedules"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out, "no scheduled DAGs under dags\n");
}

TEST_F(SchedulesCliTest, BadArgumentsAndMissingFilesAreErrors) {
  Result bad_from = twinflow({"schedules", "--from", "next tuesday"});
  EXPECT_EQ(bad_from.exit_code, 2);
  EXPECT_NE(bad_from.err.find("'next tuesday' is not a time like 2026-03-29T06:00:00Z"),
            std::string::npos)
      << bad_from.err;
  EXPECT_EQ(twinflow({"schedules", "--count", "0"}).exit_code, 2);
  EXPECT_EQ(twinflow({"schedules", "--dag", "a.yaml", "--dags-dir", "dags"}).exit_code, 2);

  Result missing_dir = twinflow({"schedules", "--dags-dir", "nowhere"});
  EXPECT_EQ(missing_dir.exit_code, 1);
  EXPECT_NE(missing_dir.err.find("no DAG directory 'nowhere'"), std::string::npos)
      << missing_dir.err;

  Result missing_file = twinflow({"schedules", "--dag", "dags/gone.yaml"});
  EXPECT_EQ(missing_file.exit_code, 2);
  EXPECT_EQ(missing_file.err, "dags/gone.yaml: cannot read file: No such file or directory\n");
}

}  // namespace
}  // namespace twinflow
