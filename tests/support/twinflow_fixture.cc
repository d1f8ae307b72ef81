#include "tests/support/twinflow_fixture.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "scheduler/definition/dag_loader.h"
#include "scheduler/execution/runner.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "store/run_ledger.h"
#include "tests/support/spawn_process.h"
#include "tests/support/test_database.h"

extern char** environ;

namespace fs = std::filesystem;

namespace twinflow {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void TwinflowTest::SetUp() {
  char pattern[] = "/tmp/twinflow-test-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  home = pattern;
  conninfo = fresh_test_database();
  store = std::make_unique<Store>(conninfo);
  store->migrate();
  blobs = std::make_unique<BlobStore>(home / "artifacts");
}

void TwinflowTest::TearDown() {
  store.reset();
  std::error_code ec;
  fs::remove_all(home, ec);
}

std::string TwinflowTest::write_dag(const std::string& name, const std::string& yaml) {
  fs::create_directories(home / "dags");
  fs::path path = home / "dags" / (name + ".yaml");
  std::ofstream(path) << yaml;
  return path.string();
}

Dag TwinflowTest::load(const std::string& path, const std::map<std::string, std::string>& params) {
  auto result = load_dag_file(path, {params});
  if (!result.ok()) {
    ADD_FAILURE() << format_diagnostics(result.diagnostics);
    return Dag{};
  }
  return *result.dag;
}

ExecutorOptions TwinflowTest::default_options() {
  ExecutorOptions options;
  options.jobs = 4;
  options.home = home;
  options.self_exe = TWINFLOW_BINARY;
  options.database_url = conninfo;
  options.host = host_name();
  options.heartbeat_interval = Millis(200);
  options.kill_grace = Millis(500);
  return options;
}

TwinflowTest::Outcome TwinflowTest::execute(const PreparedRun& run, ExecutorOptions options) {
  if (options.home.empty()) options = default_options();
  int64_t run_id = record_run_start(*store, run, options.host, ::getpid());
  Executor executor(run.dag, run_id, *store, *blobs, progress, options);
  return {run_id, executor.execute(run.seed)};
}

std::vector<std::string> TwinflowTest::twinflow_env() const {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    if (std::string_view(*e).substr(0, 9) != "TWINFLOW_") env.emplace_back(*e);
  env.push_back("TWINFLOW_HOME=" + home.string());
  env.push_back("TWINFLOW_DATABASE_URL=" + conninfo);
  return env;
}

pid_t spawn_with_files(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       const std::string& out_path, const std::string& err_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  if (err_path == out_path)
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  else
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -1;
}

CommandResult TwinflowTest::twinflow(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {TWINFLOW_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out = (home / "cmd.out").string(), err = (home / "cmd.err").string();
  pid_t pid = spawn_with_files(argv, twinflow_env(), out, err);
  CommandResult result;
  if (pid < 0) return result;
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.out = read_file(out);
  result.err = read_file(err);
  return result;
}

pid_t TwinflowTest::spawn_twinflow(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> argv = {TWINFLOW_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn_with_files(argv, twinflow_env(), log, log);
}

int TwinflowTest::attempts_of(int64_t run_id, const std::string& step) {
  int n = 0;
  for (const auto& a : store->runs().step_runs(run_id)) n += a.step_id == step;
  return n;
}

double TwinflowTest::metric(int64_t run_id, const std::string& key) {
  double value = std::nan("");
  for (const auto& m : store->runs().metrics_of_run(run_id))
    if (m.key == key) value = m.value;
  return value;
}

std::string TwinflowTest::step_state(int64_t run_id, const std::string& step) {
  for (const auto& s : store->runs().run_steps(run_id))
    if (s.step_id == step) return s.status;
  return "<no such step>";
}

}  // namespace twinflow
