// The slurm executor. First its parts on their own: the squeue / scontrol /
// sbatch parsers, the state mapping, the batch script (run by a real shell)
// and the DAG keys. Then real jobs on a one-node Slurm cluster (munge,
// slurmctld, slurmd; tests/support/slurm_cluster.h) and a real PostgreSQL:
// a DAG on Slurm with its lineage, failure and timeouts with retries,
// cancellation (scancel), and a scheduler killed mid-job that re-attaches.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "scheduler/daemon/daemon.h"
#include "scheduler/definition/dag_loader.h"
#include "scheduler/execution/runner.h"
#include "scheduler/launchers/slurm_batch_script.h"
#include "scheduler/launchers/slurm_launcher.h"
#include "scheduler/launchers/slurm_queue.h"
#include "scheduler/launchers/slurm_state.h"
#include "scheduler/planning/cache_key.h"
#include "store/run_ledger.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/slurm_cluster.h"
#include "tests/support/twinflow_fixture.h"
#include "util/error.h"

extern char** environ;

namespace fs = std::filesystem;

namespace twinflow {
namespace {

using O = LaunchEnd::Outcome;

// --- parsers ------------------------------------------------------------------

TEST(SlurmQueue, ReadsSbatchParsableOutput) {
  EXPECT_EQ(parse_sbatch_job_id("123\n"), "123");
  EXPECT_EQ(parse_sbatch_job_id("4567;cluster-a\n"), "4567");
  EXPECT_EQ(parse_sbatch_job_id("sbatch: warning: something\n89\n"), "89");
  EXPECT_EQ(parse_sbatch_job_id("sbatch: error: Batch job submission failed\n"), std::nullopt);
  EXPECT_EQ(parse_sbatch_job_id(""), std::nullopt);
}

TEST(SlurmQueue, ReadsSqueueLinesAndSkipsOthers) {
  auto jobs = parse_squeue(
      "12|RUNNING|0|None                 \n"
      "13|PENDING|2|Resources\n"
      "garbage line\n"
      "14_3|CANCELLED by 0|0|Reason with spaces\n"
      "|RUNNING|0|None\n");
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].job_id, "12");
  EXPECT_EQ(jobs[0].state, "RUNNING");
  EXPECT_EQ(jobs[0].reason, "None");
  EXPECT_EQ(jobs[1].restarts, 2);
  EXPECT_EQ(jobs[1].reason, "Resources");
  EXPECT_EQ(jobs[2].job_id, "14_3");
  EXPECT_EQ(jobs[2].state, "CANCELLED by 0");
  EXPECT_EQ(jobs[2].reason, "Reason with spaces");
  auto args = squeue_arguments({"1", "2", "3"});
  EXPECT_NE(std::find(args.begin(), args.end(), "--jobs=1,2,3"), args.end());
  EXPECT_NE(std::find(args.begin(), args.end(), "--states=all"), args.end());
}

TEST(SlurmQueue, ReadsScontrolShowJobOneLiners) {
  auto job = parse_scontrol_job(
      "JobId=42 JobName=twinflow-1-a-1 UserId=root(0) Priority=1 JobState=TIMEOUT "
      "Reason=TimeLimit Dependency=(null) Requeue=1 Restarts=1 BatchFlag=1 ExitCode=0:15 "
      "Command=/tmp/run dir/slurm-job.sh WorkDir=/tmp/run dir");
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->job_id, "42");
  EXPECT_EQ(job->state, "TIMEOUT");
  EXPECT_EQ(job->reason, "TimeLimit");
  EXPECT_EQ(job->restarts, 1);
  EXPECT_FALSE(parse_scontrol_job("No jobs in the system").has_value());
  EXPECT_TRUE(squeue_knows_none("slurm_load_jobs error: Invalid job id specified\n"));
  EXPECT_FALSE(squeue_knows_none("slurm_load_jobs error: Unable to contact slurm controller\n"));
}

TEST(SlurmState, MapsEverySlurmStateToAnOutcome) {
  struct Case {
    const char* state;
    SlurmPhase phase;
    O outcome;
  };
  const Case cases[] = {
      {"PENDING", SlurmPhase::kWaiting, O::kExited},
      {"REQUEUED", SlurmPhase::kWaiting, O::kExited},
      {"RUNNING", SlurmPhase::kRunning, O::kExited},
      {"COMPLETING", SlurmPhase::kRunning, O::kExited},
      {"COMPLETED", SlurmPhase::kEnded, O::kExited},
      {"FAILED", SlurmPhase::kEnded, O::kExited},
      {"TIMEOUT", SlurmPhase::kEnded, O::kTimedOut},
      {"CANCELLED", SlurmPhase::kEnded, O::kFailed},
      {"CANCELLED by 0", SlurmPhase::kEnded, O::kFailed},
      {"NODE_FAIL", SlurmPhase::kEnded, O::kInterrupted},
      {"OUT_OF_MEMORY", SlurmPhase::kEnded, O::kFailed},
      {"PREEMPTED", SlurmPhase::kEnded, O::kInterrupted},
      {"SOMETHING_NEW", SlurmPhase::kEnded, O::kFailed},
  };
  for (const Case& c : cases) {
    SlurmStateMeaning meaning = interpret_slurm_state(c.state, false);
    EXPECT_EQ(meaning.phase, c.phase) << c.state;
    if (c.phase == SlurmPhase::kEnded) {
      EXPECT_EQ(meaning.outcome, c.outcome) << c.state;
    }
  }
  // Cancelled by twinflow itself: a cancellation, not a failure.
  EXPECT_EQ(interpret_slurm_state("CANCELLED", true).outcome, O::kTerminated);
  EXPECT_NE(interpret_slurm_state("OUT_OF_MEMORY", false).detail.find("memory"), std::string::npos);
  EXPECT_NE(interpret_slurm_state("SOMETHING_NEW", false).detail.find("SOMETHING_NEW"),
            std::string::npos);
}

// --- the batch script -----------------------------------------------------------

AttemptLaunch sample_launch(const fs::path& dir) {
  AttemptLaunch launch;
  launch.process.argv = {"/bin/sh", "-c",
                         "echo \"ctx=$TWINFLOW_STEP_ID q=$TWINFLOW_PARAMS\"; pwd; exit 7"};
  launch.process.env = {"PATH=/usr/bin:/bin", "TWINFLOW_STEP_ID=train",
                        "TWINFLOW_PARAMS={\"it's\": \"a $value\"}", "OTHER=not exported"};
  launch.process.cwd = dir.string();
  launch.process.log_path = (dir / "log").string();
  launch.slurm.partition = "gpu";
  launch.slurm.time = "1:00:00";
  launch.slurm.cpus = 4;
  launch.slurm.mem = "8G";
  launch.slurm.gres = "gpu:1";
  launch.slurm.extra_args = {"--exclusive", "--constraint=a100"};
  launch.job_name = "twinflow-1-train-1";
  launch.exit_file = (dir / "exit_status").string();
  return launch;
}

TEST(SlurmBatchScript, CarriesDirectivesContextAndRecordsTheExitStatus) {
  ScratchDir dir("twinflow-slurm-script");
  AttemptLaunch launch = sample_launch(dir.path());
  std::string script = slurm_batch_script(launch);
  for (const char* directive :
       {"#SBATCH --job-name=twinflow-1-train-1\n", "#SBATCH --partition=gpu\n",
        "#SBATCH --time=1:00:00\n", "#SBATCH --cpus-per-task=4\n", "#SBATCH --mem=8G\n",
        "#SBATCH --gres=gpu:1\n", "#SBATCH --open-mode=append\n"})
    EXPECT_NE(script.find(directive), std::string::npos) << directive << " in\n" << script;
  EXPECT_NE(script.find("#SBATCH --output=" + launch.process.log_path + "\n"), std::string::npos);
  EXPECT_NE(script.find("#SBATCH --chdir=" + dir.path().string() + "\n"), std::string::npos);
  EXPECT_EQ(script.find("OTHER"), std::string::npos);  // the rest comes with sbatch's --export
  auto args = sbatch_arguments(launch, "/x/slurm-job.sh");
  EXPECT_EQ(args, std::vector<std::string>(
                      {"--parsable", "--exclusive", "--constraint=a100", "/x/slurm-job.sh"}));

  // Run by a real shell (as slurmd would, with a bare environment), the
  // script exports the context, runs in the attempt dir and records exit 7.
  fs::path script_path = dir.path() / "slurm-job.sh";
  std::ofstream(script_path) << script;
  std::string command = "env -i /bin/sh '" + script_path.string() + "' > '" +
                        (dir.path() / "out").string() + "' 2>&1 < /dev/null; echo $? > '" +
                        (dir.path() / "rc").string() + "'";
  ASSERT_EQ(std::system(command.c_str()), 0);
  EXPECT_EQ(read_file(dir.path() / "rc"), "7\n");
  EXPECT_EQ(parse_exit_status_file(read_file(launch.exit_file)), 7);
  EXPECT_EQ(read_file(dir.path() / "out"),
            "ctx=train q={\"it's\": \"a $value\"}\n" + dir.path().string() + "\n");
}

TEST(SlurmBatchScript, RefusesValuesThatWouldBreakOutOfTheirLine) {
  ScratchDir dir("twinflow-slurm-script");
  AttemptLaunch launch = sample_launch(dir.path());
  launch.slurm.partition = "gpu\nrm -rf /";
  EXPECT_THROW(slurm_batch_script(launch), Error);
  EXPECT_EQ(parse_exit_status_file("0\n"), 0);
  EXPECT_EQ(parse_exit_status_file("143"), 143);
  EXPECT_EQ(parse_exit_status_file(""), std::nullopt);
  EXPECT_EQ(parse_exit_status_file("x1"), std::nullopt);
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
}

// --- DAG keys -------------------------------------------------------------------

std::string diagnostics_of(const std::string& yaml) {
  LoadResult loaded = load_dag_string(yaml, "slurm.yaml");
  return format_diagnostics(loaded.diagnostics);
}

TEST(SlurmDagKeys, StepsInheritTheDagsExecutorAndSlurmDefaults) {
  LoadResult loaded = load_dag_string(R"(name: keys
executor: slurm
slurm: {partition: batch, account: ml, cpus: 2}
steps:
  - id: a
    command: 'true'
  - id: b
    command: 'true'
    executor: local
  - id: c
    command: 'true'
    slurm: {partition: gpu, gres: "gpu:1", time: "2-00:00:00", mem: 16G, extra_args: [--exclusive]}
)",
                                      "keys.yaml");
  ASSERT_TRUE(loaded.ok()) << format_diagnostics(loaded.diagnostics);
  const Dag& dag = *loaded.dag;
  EXPECT_EQ(dag.executor, "slurm");
  EXPECT_EQ(dag.steps[0].executor, "");
  EXPECT_EQ(dag.steps[0].slurm.partition, "batch");
  EXPECT_EQ(dag.steps[1].executor, "local");
  EXPECT_EQ(dag.steps[2].slurm.partition, "gpu");
  EXPECT_EQ(dag.steps[2].slurm.account, "ml");  // the DAG's, not overridden
  EXPECT_EQ(dag.steps[2].slurm.cpus, 2);
  EXPECT_EQ(dag.steps[2].slurm.gres, "gpu:1");
  EXPECT_EQ(dag.steps[2].slurm.time, "2-00:00:00");
  EXPECT_EQ(dag.steps[2].slurm.extra_args, std::vector<std::string>{"--exclusive"});
}

TEST(SlurmDagKeys, BadValuesAreReportedWithTheirPosition) {
  std::string errors = diagnostics_of(R"(name: bad
executor: slrum
steps:
  - id: a
    command: 'true'
    executor: 3
    slurm:
      partiton: gpu
      cpus: 0
      time: "an hour"
      mem: lots
      extra_args: --exclusive
  - id: b
    command: 'true'
    slurm: gpu
  - id: c
    command: 'true'
    slurm: {qos: "high\nrm -rf /"}
)");
  EXPECT_NE(errors.find("slurm.yaml:2:11: 'executor' must be local or slurm, got 'slrum' (did "
                        "you mean 'slurm'?)"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("slurm.yaml:6:15: 'executor' of step 'a' must be local or slurm, got '3'"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("slurm.yaml:8:7: unknown key 'partiton' in 'slurm' of step 'a' (did you "
                        "mean 'partition'?)"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("slurm.yaml:9:13: 'slurm.cpus' of step 'a' must be at least 1"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("slurm.yaml:10:13: 'slurm.time' of step 'a' must be a Slurm time limit"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("slurm.yaml:11:12: 'slurm.mem' of step 'a' must be a size"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("slurm.yaml:12:19: 'slurm.extra_args' of step 'a' must be a sequence of "
                        "strings"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("slurm.yaml:15:12: 'slurm' of step 'b' must be a mapping, got a string"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("slurm.yaml:18:18: 'slurm.qos' of step 'c' must be on one line"),
            std::string::npos)
      << errors;
}

TEST(SlurmDagKeys, TheExecutorDoesNotChangeTheCacheKey) {
  const char* local = "name: c\nsteps:\n  - id: a\n    command: echo hi\n";
  const char* slurm =
      "name: c\nexecutor: slurm\nsteps:\n  - id: a\n    command: echo hi\n"
      "    slurm: {partition: gpu, time: '10'}\n";
  Dag a = std::move(*load_dag_string(local, "c.yaml").dag);
  Dag b = std::move(*load_dag_string(slurm, "c.yaml").dag);
  EXPECT_EQ(compute_cache_key(a.steps[0], "build", {}, "."),
            compute_cache_key(b.steps[0], "build", {}, "."));
}

// --- choosing the executor -----------------------------------------------------

class ExecutorChoiceTest : public TwinflowTest {};

TEST_F(ExecutorChoiceTest, TwinflowExecutorIsTheDefaultAndABadOneFailsTheRunSayingSo) {
  const char* previous = std::getenv("TWINFLOW_EXECUTOR");
  ::setenv("TWINFLOW_EXECUTOR", "slurm", 1);
  EXPECT_EQ(executor_from_environment(), "slurm");
  ::unsetenv("TWINFLOW_EXECUTOR");
  EXPECT_EQ(executor_from_environment(), "local");
  if (previous) ::setenv("TWINFLOW_EXECUTOR", previous, 1);

  auto dag = load(write_dag("choice", "name: choice\nsteps:\n  - id: a\n    command: 'true'\n"));
  ExecutorOptions options = default_options();
  options.default_executor = "slrum";  // as if TWINFLOW_EXECUTOR=slrum
  auto run = prepare_fresh_run(dag);
  int64_t run_id = record_run_start(*store, run, options.host, ::getpid());
  Executor executor(run.dag, run_id, *store, *blobs, progress, options);
  try {
    executor.execute(run.seed);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "TWINFLOW_EXECUTOR is 'slrum': expected local or slurm");
  }
  EXPECT_EQ(store->runs().find_run(run_id)->status, "failed");
  EXPECT_EQ(attempts_of(run_id, "a"), 0);
  // A step or DAG that names its executor does not depend on the default.
  auto named = load(write_dag("named",
                              "name: named\nexecutor: local\nsteps:\n"
                              "  - id: a\n    command: 'true'\n"));
  EXPECT_EQ(execute(prepare_fresh_run(named), options).status, "succeeded");
}

// --- on a real cluster ----------------------------------------------------------

class SlurmExecutorTest : public TwinflowTest {
 protected:
  void SetUp() override {
    SlurmClusterStart cluster = start_shared_slurm_cluster();
    // No cluster is a broken test setup, never a skip.
    ASSERT_TRUE(cluster.ok) << "the test Slurm cluster did not start:\n" << cluster.output;
    TwinflowTest::SetUp();
  }

  ExecutorOptions slurm_options() {
    ExecutorOptions options = default_options();
    options.slurm_poll_interval = Millis(250);
    return options;
  }

  std::vector<StepRunRecord> attempts(int64_t run_id, const std::string& step) {
    std::vector<StepRunRecord> found;
    for (auto& a : store->runs().step_runs(run_id))
      if (a.step_id == step) found.push_back(a);
    return found;
  }

  // Whether squeue (active jobs only, as a person would call it) lists `job_id`.
  static bool squeue_lists(const std::string& job_id) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    CommandOutput out =
        run_slurm_command({"squeue", "--noheader", "--format=%i"}, env, SlurmLauncherOptions{});
    EXPECT_EQ(out.exit_code, 0) << out.err;
    std::istringstream lines(out.out);
    for (std::string line; std::getline(lines, line);)
      if (line.find_first_not_of(' ') != std::string::npos &&
          line.substr(line.find_first_not_of(' ')) == job_id)
        return true;
    return false;
  }

  static void wait_for(const std::function<bool()>& condition, int seconds) {
    for (int i = 0; i < seconds * 20 && !condition(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
};

TEST_F(SlurmExecutorTest, ADagOnSlurmSucceedsWithItsLineageAndJobIds) {
  auto outcome = execute(prepare_fresh_run(load(write_dag("onslurm", R"(name: onslurm
executor: slurm
slurm: {cpus: 1, time: "5"}
steps:
  - id: prepare
    command: |
      echo '{"metrics": {"loss": 0.5}, "step": 1}'
      echo "on $SLURM_JOB_ID" > $TWINFLOW_OUTPUT_DIR/text
    outputs: [text]
  - id: upper
    inputs: {text: prepare.text}
    command: tr a-z A-Z < $TWINFLOW_INPUT_TEXT > $TWINFLOW_OUTPUT_DIR/text
    outputs: [text]
  - id: local_report
    executor: local
    inputs: {upper: upper.text}
    command: cat $TWINFLOW_INPUT_UPPER > $TWINFLOW_OUTPUT_DIR/report
    outputs: [report]
)"))),
                         slurm_options());
  ASSERT_EQ(outcome.status, "succeeded");
  auto prepare = attempts(outcome.run_id, "prepare");
  auto upper = attempts(outcome.run_id, "upper");
  ASSERT_EQ(prepare.size(), 1u);
  ASSERT_EQ(upper.size(), 1u);
  // Each Slurm step ran as a job whose id is on its step run; the local one has none.
  std::optional<std::string> job = store->runs().slurm_job_id(prepare[0].id);
  ASSERT_TRUE(job.has_value());
  EXPECT_NE(store->runs().slurm_job_id(upper[0].id), job);
  EXPECT_FALSE(
      store->runs().slurm_job_id(attempts(outcome.run_id, "local_report")[0].id).has_value());
  EXPECT_EQ(prepare[0].pid, 0);
  // The job's stdout went to the attempt's log, where `twinflow logs` reads it.
  EXPECT_NE(read_file(prepare[0].log_path).find("\"loss\""), std::string::npos);
  auto outputs = store->runs().step_outputs(outcome.run_id);
  EXPECT_EQ(read_file(outputs["prepare"][0].version.uri), "on " + *job + "\n");
  EXPECT_EQ(read_file(outputs["local_report"][0].version.uri), "ON " + *job + "\n");
  auto edges = store->runs().edges_of_step_run(upper[0].id);
  std::vector<std::string> lineage;
  for (const auto& e : edges) lineage.push_back(e.direction + " " + e.version.artifact);
  std::sort(lineage.begin(), lineage.end());
  EXPECT_EQ(lineage,
            std::vector<std::string>({"input onslurm.prepare.text", "output onslurm.upper.text"}));
  // The metric line streamed from the job's log was recorded.
  auto metrics = store->runs().metrics_of_run(outcome.run_id);
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_EQ(metrics[0].key, "loss");
  EXPECT_DOUBLE_EQ(metrics[0].value, 0.5);

  // `twinflow show` tells which job ran each attempt.
  auto shown = twinflow({"show", std::to_string(outcome.run_id), "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  auto shown_attempts = nlohmann::json::parse(shown.out)["attempts"];
  ASSERT_EQ(shown_attempts.size(), 3u);
  for (const auto& a : shown_attempts)
    EXPECT_EQ(a.contains("slurm_job_id"), a["step_id"] != "local_report") << a.dump();
  auto table = twinflow({"show", std::to_string(outcome.run_id)});
  EXPECT_NE(table.out.find("slurm job " + *job), std::string::npos) << table.out;

  // Caching works as on the local executor: a second run reuses every step.
  auto again = execute(prepare_fresh_run(load(home / "dags" / "onslurm.yaml")), slurm_options());
  ASSERT_EQ(again.status, "succeeded");
  EXPECT_EQ(step_state(again.run_id, "prepare"), "cached");
  EXPECT_EQ(step_state(again.run_id, "upper"), "cached");
}

TEST_F(SlurmExecutorTest, FailuresTimeoutsAndSlurmTimeLimitsAreRecordedAndRetried) {
  auto outcome = execute(prepare_fresh_run(load(write_dag("failing", R"(name: failing
executor: slurm
steps:
  - id: fails
    command: echo failing; exit 3
    retries: {count: 1, backoff: 0s}
  - id: slow
    command: sleep 300
    timeout: 2s
    retries: {count: 1, backoff: 0s}
  - id: limited
    command: sleep 300
    slurm: {time: "0:01"}
)"))),
                         slurm_options());
  EXPECT_EQ(outcome.status, "failed");
  auto fails = attempts(outcome.run_id, "fails");
  ASSERT_EQ(fails.size(), 2u);  // one retry, per policy
  for (const auto& a : fails) {
    EXPECT_EQ(a.status, "failed");
    EXPECT_EQ(a.exit_code, 3);
    EXPECT_EQ(a.error, "exited with code 3");
  }
  EXPECT_EQ(step_state(outcome.run_id, "fails"), "failed");
  auto slow = attempts(outcome.run_id, "slow");
  ASSERT_EQ(slow.size(), 2u);
  for (const auto& a : slow) {
    EXPECT_EQ(a.status, "timed_out");
    EXPECT_EQ(a.error, "timed out after 2s");
    // twinflow's timeout scancelled the job.
    EXPECT_FALSE(squeue_lists(*store->runs().slurm_job_id(a.id)));
  }
  auto limited = attempts(outcome.run_id, "limited");
  ASSERT_EQ(limited.size(), 1u);  // no retries asked for
  EXPECT_EQ(limited[0].status, "timed_out");
  EXPECT_NE(limited[0].error.find("hit its Slurm time limit"), std::string::npos)
      << limited[0].error;
}

TEST_F(SlurmExecutorTest, APreemptedJobIsAnInterruptionRetriedWithoutConsumingARetry) {
  // The test cluster cancels a job of partition 'preemptible' (PREEMPTED)
  // when a job of the default partition needs its CPUs; this one takes them all.
  const fs::path marker = home / "first-run";
  auto dag = load(write_dag("preempted", R"(name: preempted
steps:
  - id: victim
    executor: slurm
    slurm: {partition: preemptible, cpus: 2}
    retries: 0
    command: if [ -e ')" + marker.string() + R"(' ]; then exit 0; fi; touch ')" +
                                             marker.string() + R"('; sleep 300
)"));
  std::thread preemptor([&] {
    wait_for([&] { return fs::exists(marker); }, 120);
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    CommandOutput out = run_slurm_command({"sbatch", "--parsable", "--cpus-per-task=1",
                                           "--output=" + (home / "preemptor.out").string(),
                                           "--chdir=" + home.string(), "--wrap=sleep 1"},
                                          env, SlurmLauncherOptions{});
    EXPECT_EQ(out.exit_code, 0) << out.err;
  });
  auto outcome = execute(prepare_fresh_run(dag), slurm_options());
  preemptor.join();
  EXPECT_EQ(outcome.status, "succeeded");
  auto tries = attempts(outcome.run_id, "victim");
  ASSERT_GE(tries.size(), 2u);  // more if other tests' jobs preempted it again
  EXPECT_EQ(tries.front().status, "interrupted");
  EXPECT_NE(tries.front().error.find("preempted"), std::string::npos) << tries.front().error;
  EXPECT_EQ(tries.back().status, "succeeded");
  for (const auto& a : tries) EXPECT_NE(a.status, "failed") << a.error;
  EXPECT_EQ(step_state(outcome.run_id, "victim"), "succeeded");
}

TEST_F(SlurmExecutorTest, AJobSbatchRefusesIsTheAttemptsFailureWithSbatchsReason) {
  auto outcome = execute(prepare_fresh_run(load(write_dag("refused", R"(name: refused
steps:
  - id: nowhere
    executor: slurm
    slurm: {partition: no_such_partition}
    command: 'true'
    retries: {count: 1, backoff: 0s}
)"))),
                         slurm_options());
  EXPECT_EQ(outcome.status, "failed");
  auto tries = attempts(outcome.run_id, "nowhere");
  ASSERT_EQ(tries.size(), 2u);
  for (const auto& a : tries) {
    EXPECT_EQ(a.status, "failed");
    EXPECT_NE(a.error.find("sbatch failed"), std::string::npos) << a.error;
    EXPECT_NE(a.error.find("partition"), std::string::npos) << a.error;
    EXPECT_FALSE(store->runs().slurm_job_id(a.id).has_value());
  }
}

TEST_F(SlurmExecutorTest, CancellingARunScancelsItsJobs) {
  const fs::path marker = home / "started";
  auto dag = load(write_dag("cancelled",
                            "name: cancelled\nexecutor: slurm\nsteps:\n"
                            "  - id: long\n    command: touch '" +
                                marker.string() + "'; sleep 300\n"));
  ExecutorOptions options = slurm_options();
  options.cancel_requested = [&] { return fs::exists(marker); };
  auto outcome = execute(prepare_fresh_run(dag), options);
  EXPECT_EQ(outcome.status, "cancelled");
  auto long_attempts = attempts(outcome.run_id, "long");
  ASSERT_EQ(long_attempts.size(), 1u);
  EXPECT_EQ(long_attempts[0].status, "cancelled");
  std::optional<std::string> job = store->runs().slurm_job_id(long_attempts[0].id);
  ASSERT_TRUE(job.has_value());
  EXPECT_FALSE(squeue_lists(*job));
}

// A scheduler process runs a DAG whose Slurm step counts its executions in a
// file and then waits for a release file; the scheduler is SIGKILLed while
// the job runs.
class SlurmReattachTest : public SlurmExecutorTest {
 protected:
  void start_and_kill_scheduler() {
    runs = home / "executions";
    release = home / "release";
    const std::string dag = write_dag("reattach",
                                      "name: reattach\nexecutor: slurm\nsteps:\n"
                                      "  - id: train\n    command: echo ran >> '" +
                                          runs.string() + "'; while [ ! -e '" + release.string() +
                                          "' ]; do sleep 0.2; done; echo model > "
                                          "$TWINFLOW_OUTPUT_DIR/model\n"
                                          "    outputs: [model]\n"
                                          "  - id: evaluate\n    executor: local\n"
                                          "    inputs: {model: train.model}\n"
                                          "    command: cat $TWINFLOW_INPUT_MODEL\n");
    auto queued = twinflow({"trigger", dag, "--json"});
    ASSERT_EQ(queued.exit_code, 0) << queued.err;
    run_id = nlohmann::json::parse(queued.out)["run_id"];
    const std::string log = (home / "killed.log").string();
    pid_t daemon = spawn_twinflow(
        {"scheduler", "--dags-dir", (home / "no-dags").string(), "--poll-ms", "100"}, log);
    wait_for([&] { return fs::exists(runs); }, 60);
    ASSERT_TRUE(fs::exists(runs)) << read_file(log);
    ASSERT_EQ(::kill(daemon, SIGKILL), 0);  // mid-job, no chance to clean up
    ::waitpid(daemon, nullptr, 0);
    auto before = attempts(run_id, "train");
    ASSERT_EQ(before.size(), 1u);
    job = store->runs().slurm_job_id(before[0].id);
    ASSERT_TRUE(job.has_value());
    EXPECT_TRUE(squeue_lists(*job));  // the job outlives its scheduler
  }

  SchedulerDaemon daemon() {
    DaemonOptions options;
    options.dags_dir = home / "no-dags";
    options.executor = slurm_options();
    options.pid = static_cast<int>(::getpid());
    return SchedulerDaemon(*store, *blobs, options);
  }

  // The resumed run succeeded, and the step ran once, as one job, with one result.
  void expect_executed_once(const PassSummary& pass) {
    EXPECT_EQ(pass.resumed, 1);
    ASSERT_EQ(pass.executed.size(), 1u);
    const int64_t resumed = pass.executed[0];
    EXPECT_EQ(store->runs().find_run(run_id)->status, "interrupted");
    EXPECT_EQ(store->runs().find_run(resumed)->status, "succeeded");
    EXPECT_EQ(read_file(runs), "ran\n");
    EXPECT_EQ(attempts(run_id, "train")[0].status, "interrupted");
    auto after = attempts(resumed, "train");
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(after[0].status, "succeeded");
    EXPECT_EQ(store->runs().slurm_job_id(after[0].id), job);
    EXPECT_EQ(store->runs().artifact_versions("reattach.train.model").size(), 1u);
    EXPECT_EQ(step_state(resumed, "evaluate"), "succeeded");
    EXPECT_FALSE(store->runs().adoptable_slurm_attempt(run_id, "train").has_value());
  }

  fs::path runs;     // one line per execution of the step
  fs::path release;  // the step ends once this exists
  int64_t run_id = 0;
  std::optional<std::string> job;
};

TEST_F(SlurmReattachTest, AKilledSchedulerReattachesToItsRunningJobAndTheStepRunsOnce) {
  ASSERT_NO_FATAL_FAILURE(start_and_kill_scheduler());
  // Let the job finish only once the resumed run has re-attached to it.
  std::atomic<bool> released = false;
  std::thread releaser([&] {
    Store watcher(conninfo);
    for (int i = 0; i < 1200 && !released; ++i) {
      for (const auto& run : watcher.runs().list_runs({}))
        if (run.parent_run_id == run_id)
          for (const auto& a : watcher.runs().step_runs(run.id))
            if (a.step_id == "train" && watcher.runs().slurm_job_id(a.id) == job) released = true;
      if (!released) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::ofstream(release) << "go";
  });
  SchedulerDaemon again = daemon();
  PassSummary pass = again.run_once();
  releaser.join();
  EXPECT_TRUE(released.load());
  expect_executed_once(pass);
  EXPECT_EQ(again.run_once().resumed, 0);  // a second pass finds nothing more to resume
}

TEST_F(SlurmReattachTest, AJobThatEndedWhileNoSchedulerWatchedIsAdoptedFromItsExitStatus) {
  ASSERT_NO_FATAL_FAILURE(start_and_kill_scheduler());
  std::ofstream(release) << "go";
  const fs::path exit_file = home / "runs" / std::to_string(run_id) / "train.1" / "exit_status";
  wait_for([&] { return fs::exists(exit_file); }, 60);
  ASSERT_TRUE(fs::exists(exit_file));
  expect_executed_once(daemon().run_once());
}

}  // namespace
}  // namespace twinflow
