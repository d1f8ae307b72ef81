// Tests of the `schedule` and `triggers` keys of DAG files: what loads and
// with which defaults, and the exact text and position of every problem.
//
// As in dag_loader_test.cc, diagnostics are compared as whole formatted
// strings: they are what `twinflow validate` shows, so a changed column or
// word should fail a test.
#include <gtest/gtest.h>

#include <string>

#include "scheduler/daemon/schedule_policy.h"
#include "scheduler/definition/dag_loader.h"
#include "scheduler/definition/diagnostic.h"

namespace twinflow {
namespace {

// A minimal valid step list, appended to every document below (lines after
// the ones each test writes, so positions in expectations are unaffected).
const std::string kSteps =
    "steps:\n"
    "  - id: a\n"
    "    command: echo\n";

std::string errors_of(const std::string& head) {
  LoadResult result = load_dag_string(head + kSteps, "test.yaml");
  EXPECT_EQ(result.ok(), result.dag.has_value());
  return format_diagnostics(result.diagnostics);
}

Dag load_valid(const std::string& head) {
  LoadResult result = load_dag_string(head + kSteps, "test.yaml");
  EXPECT_TRUE(result.ok()) << format_diagnostics(result.diagnostics);
  return result.dag ? *result.dag : Dag();
}

// --- what loads -------------------------------------------------------------------

TEST(ScheduleSpecTest, FullMappingLoadsEveryField) {
  Dag dag = load_valid(
      "name: weekly\n"
      "schedule: {cron: \"0 6 * * 1\", timezone: \"Europe/Berlin\", catchup: true, "
      "max_active_runs: 2}\n");
  ASSERT_TRUE(dag.schedule.has_value());
  EXPECT_EQ(dag.schedule->cron, "0 6 * * 1");
  EXPECT_EQ(dag.schedule->timezone, "Europe/Berlin");
  EXPECT_TRUE(dag.schedule->catchup);
  EXPECT_EQ(dag.schedule->max_active_runs, 2);
  EXPECT_EQ(dag.schedule->pos.line, 2);
  EXPECT_EQ(dag.schedule->pos.column, 11);
  // What the loader accepts, the scheduler can use.
  EXPECT_EQ(format_iso8601_utc(
                schedule_of(*dag.schedule).next_after(*parse_iso8601("2026-03-24T00:00:00Z"))),
            "2026-03-30T04:00:00Z");
}

TEST(ScheduleSpecTest, OnlyCronGivenTakesTheDefaults) {
  Dag dag = load_valid(
      "name: nightly\n"
      "schedule:\n"
      "  cron: 30 2 * * *\n");
  ASSERT_TRUE(dag.schedule.has_value());
  EXPECT_EQ(dag.schedule->cron, "30 2 * * *");
  EXPECT_EQ(dag.schedule->timezone, "UTC");
  EXPECT_FALSE(dag.schedule->catchup);
  EXPECT_EQ(dag.schedule->max_active_runs, 1);
}

TEST(ScheduleSpecTest, StringIsShorthandForACronInUtc) {
  // Unquoted, a macro is a YAML syntax error ('@' is reserved); a plain cron is fine.
  for (const char* cron : {"\"@weekly\"", "'0 6 * * MON-FRI'", "0 6 * * *"}) {
    Dag dag = load_valid(std::string("name: short\nschedule: ") + cron + "\n");
    ASSERT_TRUE(dag.schedule.has_value()) << cron;
    EXPECT_EQ(dag.schedule->timezone, "UTC");
    EXPECT_FALSE(dag.schedule->catchup);
    EXPECT_EQ(dag.schedule->max_active_runs, 1);
  }
  EXPECT_EQ(load_valid("name: short\nschedule: \"@weekly\"\n").schedule->cron, "@weekly");
}

TEST(ScheduleSpecTest, AbsentOrEmptyMeansNoScheduleAndNoTriggers) {
  Dag plain = load_valid("name: plain\n");
  EXPECT_FALSE(plain.schedule.has_value());
  EXPECT_TRUE(plain.triggers.empty());
  Dag empty = load_valid("name: empty\nschedule:\ntriggers: []\n");
  EXPECT_FALSE(empty.schedule.has_value());
  EXPECT_TRUE(empty.triggers.empty());
}

TEST(TriggerSpecTest, BothKindsLoadInOrderWithDefaults) {
  Dag dag = load_valid(
      "name: twin\n"
      "triggers:\n"
      "  - on_artifact: instruct_dataset\n"
      "  - on_documents: {platform: medium, min_new: 5}\n"
      "  - on_documents:\n"
      "  - on_documents: {min_new: 2}\n");
  ASSERT_EQ(dag.triggers.size(), 4u);
  EXPECT_EQ(dag.triggers[0].kind, TriggerSpec::Kind::kArtifact);
  EXPECT_EQ(dag.triggers[0].artifact, "instruct_dataset");
  EXPECT_EQ(dag.triggers[0].pos.line, 3);
  EXPECT_EQ(dag.triggers[0].pos.column, 5);
  EXPECT_EQ(dag.triggers[1].kind, TriggerSpec::Kind::kDocuments);
  EXPECT_EQ(dag.triggers[1].platform, "medium");
  EXPECT_EQ(dag.triggers[1].min_new, 5);
  EXPECT_EQ(dag.triggers[2].kind, TriggerSpec::Kind::kDocuments);  // any platform, 1 document
  EXPECT_EQ(dag.triggers[2].platform, "");
  EXPECT_EQ(dag.triggers[2].min_new, 1);
  EXPECT_EQ(dag.triggers[3].platform, "");
  EXPECT_EQ(dag.triggers[3].min_new, 2);
}

TEST(TriggerSpecTest, EveryDocumentPlatformIsAccepted) {
  for (const std::string& platform : known_document_platforms()) {
    Dag dag = load_valid("name: p\ntriggers:\n  - on_documents: {platform: " + platform + "}\n");
    ASSERT_EQ(dag.triggers.size(), 1u) << platform;
    EXPECT_EQ(dag.triggers[0].platform, platform);
  }
}

// --- schedule errors ----------------------------------------------------------------

TEST(ScheduleSpecErrorTest, BadCronSaysWhichFieldAndWhy) {
  EXPECT_EQ(errors_of("name: x\n"
                      "schedule:\n"
                      "  cron: \"61 6 * * 1\"\n"),
            "test.yaml:3:9: invalid cron expression for 'schedule.cron': bad minute field '61': "
            "value out of range 0-59\n"
            "  cron: \"61 6 * * 1\"\n"
            "        ^\n");
  EXPECT_EQ(errors_of("name: x\n"
                      "schedule: {cron: \"0 6 * * 1 2026\"}\n"),
            "test.yaml:2:18: invalid cron expression for 'schedule.cron': cron expression '0 6 * "
            "* 1 2026' has 6 fields; expected 5 (minute hour day-of-month month day-of-week)\n"
            "schedule: {cron: \"0 6 * * 1 2026\"}\n"
            "                 ^\n");
  EXPECT_EQ(errors_of("name: x\n"
                      "schedule: 0 0 30 2 *\n"),
            "test.yaml:2:11: invalid cron expression for 'schedule': cron expression '0 0 30 2 *' "
            "never fires: month field '2' has no day '30'\n"
            "schedule: 0 0 30 2 *\n"
            "          ^\n");
  EXPECT_EQ(errors_of("name: x\n"
                      "schedule: \"@fortnightly\"\n"),
            "test.yaml:2:11: invalid cron expression for 'schedule': unknown cron macro "
            "'@fortnightly'; expected @hourly, @daily, @midnight, @weekly, @monthly, @yearly or "
            "@annually\n"
            "schedule: \"@fortnightly\"\n"
            "          ^\n");
}

TEST(ScheduleSpecErrorTest, UnknownTimeZoneSuggestsTheNearestInstalledZone) {
  EXPECT_EQ(errors_of("name: x\n"
                      "schedule:\n"
                      "  cron: \"0 6 * * 1\"\n"
                      "  timezone: Europe/Berln\n"),
            "test.yaml:4:13: unknown time zone 'Europe/Berln' for 'schedule.timezone' (did you "
            "mean 'Europe/Berlin'?)\n"
            "  timezone: Europe/Berln\n"
            "            ^\n");
  EXPECT_EQ(errors_of("name: x\n"
                      "schedule: {cron: \"@daily\", timezone: europe/berlin}\n"),
            "test.yaml:2:38: unknown time zone 'europe/berlin' for 'schedule.timezone' (did you "
            "mean 'Europe/Berlin'?)\n"
            "schedule: {cron: \"@daily\", timezone: europe/berlin}\n"
            "                                     ^\n");
  // Far from every zone, and names that only look like paths: no suggestion.
  EXPECT_EQ(errors_of("name: x\n"
                      "schedule: {cron: \"@daily\", timezone: ../../etc/passwd}\n"),
            "test.yaml:2:38: unknown time zone '../../etc/passwd' for 'schedule.timezone'\n"
            "schedule: {cron: \"@daily\", timezone: ../../etc/passwd}\n"
            "                                     ^\n");
  EXPECT_EQ(errors_of("name: x\n"
                      "schedule: {cron: \"@daily\", timezone: \"\"}\n"),
            "test.yaml:2:38: unknown time zone '' for 'schedule.timezone'\n"
            "schedule: {cron: \"@daily\", timezone: \"\"}\n"
            "                                     ^\n");
}

TEST(ScheduleSpecErrorTest, UnknownKeysWrongTypesAndLimits) {
  EXPECT_EQ(errors_of("name: x\n"
                      "schedule:\n"
                      "  cron: \"@daily\"\n"
                      "  timzone: UTC\n"
                      "  catchup: yes\n"
                      "  max_active_runs: 0\n"
                      "  start_date: 2026-01-01\n"),
            "test.yaml:4:3: unknown key 'timzone' in 'schedule' (did you mean 'timezone'?)\n"
            "  timzone: UTC\n"
            "  ^\n"
            "test.yaml:5:12: 'schedule.catchup' must be a boolean, got a string\n"
            "  catchup: yes\n"
            "           ^\n"
            "test.yaml:6:20: 'schedule.max_active_runs' must be at least 1, got 0\n"
            "  max_active_runs: 0\n"
            "                   ^\n"
            "test.yaml:7:3: unknown key 'start_date' in 'schedule'\n"
            "  start_date: 2026-01-01\n"
            "  ^\n");
  EXPECT_EQ(errors_of("name: x\n"
                      "schedule: {cron: \"@daily\", max_active_runs: many, catchup: 1}\n"),
            "test.yaml:2:45: 'schedule.max_active_runs' must be an integer, got a string\n"
            "schedule: {cron: \"@daily\", max_active_runs: many, catchup: 1}\n"
            "                                            ^\n"
            "test.yaml:2:60: 'schedule.catchup' must be a boolean, got a number\n"
            "schedule: {cron: \"@daily\", max_active_runs: many, catchup: 1}\n"
            "                                                           ^\n");
  EXPECT_EQ(errors_of("name: x\n"
                      "schedul: \"@daily\"\n"),
            "test.yaml:2:1: unknown key 'schedul' (did you mean 'schedule'?)\n"
            "schedul: \"@daily\"\n"
            "^\n");
}

TEST(ScheduleSpecErrorTest, CronIsRequiredAndMustBeAString) {
  EXPECT_EQ(errors_of("name: x\n"
                      "schedule:\n"
                      "  timezone: Europe/Berlin\n"),
            "test.yaml:3:3: 'schedule' has no 'cron'\n"
            "  timezone: Europe/Berlin\n"
            "  ^\n");
  EXPECT_EQ(errors_of("name: x\n"
                      "schedule:\n"
                      "  cron:\n"),
            "test.yaml:3:3: 'schedule.cron' must be a string, got null\n"
            "  cron:\n"
            "  ^\n");
  EXPECT_EQ(errors_of("name: x\n"
                      "schedule: {cron: [0, 6]}\n"),
            "test.yaml:2:18: 'schedule.cron' must be a string, got a sequence\n"
            "schedule: {cron: [0, 6]}\n"
            "                 ^\n");
  EXPECT_EQ(errors_of("name: x\n"
                      "schedule: [\"@daily\"]\n"),
            "test.yaml:2:11: 'schedule' must be a cron string or a mapping, got a sequence\n"
            "schedule: [\"@daily\"]\n"
            "          ^\n");
}

// --- trigger errors -----------------------------------------------------------------

TEST(TriggerSpecErrorTest, TriggersMustBeASequenceOfMappings) {
  EXPECT_EQ(errors_of("name: x\n"
                      "triggers: {on_artifact: a}\n"),
            "test.yaml:2:11: 'triggers' must be a sequence, got a mapping\n"
            "triggers: {on_artifact: a}\n"
            "          ^\n");
  EXPECT_EQ(errors_of("name: x\n"
                      "triggers:\n"
                      "  - on_artifact\n"),
            "test.yaml:3:5: trigger at index 0 must be a mapping such as '{on_artifact: NAME}', "
            "got a string\n"
            "  - on_artifact\n"
            "    ^\n");
}

TEST(TriggerSpecErrorTest, EachTriggerIsExactlyOneKnownKind) {
  EXPECT_EQ(errors_of("name: x\n"
                      "triggers:\n"
                      "  - on_artefact: x\n"
                      "  - {on_artifact: a, on_documents: {}}\n"
                      "  - {}\n"),
            "test.yaml:3:5: unknown key 'on_artefact' in trigger at index 0 (did you mean "
            "'on_artifact'?)\n"
            "  - on_artefact: x\n"
            "    ^\n"
            "test.yaml:4:22: trigger at index 1 has both 'on_artifact' and 'on_documents': give "
            "each its own item\n"
            "  - {on_artifact: a, on_documents: {}}\n"
            "                     ^\n"
            "test.yaml:5:5: trigger at index 2 has no kind: expected 'on_artifact' or "
            "'on_documents'\n"
            "  - {}\n"
            "    ^\n");
  // A mis-indented option lands beside the kind, not inside it.
  EXPECT_EQ(errors_of("name: x\n"
                      "triggers:\n"
                      "  - on_documents:\n"
                      "    platform: medium\n"),
            "test.yaml:4:5: unknown key 'platform' in trigger at index 0\n"
            "    platform: medium\n"
            "    ^\n");
}

TEST(TriggerSpecErrorTest, OnArtifactNamesAnArtifact) {
  EXPECT_EQ(errors_of("name: x\n"
                      "triggers:\n"
                      "  - on_artifact: [a]\n"
                      "  - on_artifact:\n"
                      "  - on_artifact: \"raw docs\"\n"),
            "test.yaml:3:18: 'on_artifact' of trigger at index 0 must be a string, got a "
            "sequence\n"
            "  - on_artifact: [a]\n"
            "                 ^\n"
            "test.yaml:4:5: 'on_artifact' of trigger at index 1 must be a string, got null\n"
            "  - on_artifact:\n"
            "    ^\n"
            "test.yaml:5:18: invalid artifact name 'raw docs' for trigger at index 2: use letters, "
            "digits, '_', '.' and '-'\n"
            "  - on_artifact: \"raw docs\"\n"
            "                 ^\n");
}

TEST(TriggerSpecErrorTest, OnDocumentsChecksPlatformAndMinNew) {
  EXPECT_EQ(errors_of("name: x\n"
                      "triggers:\n"
                      "  - on_documents: {platform: mediun, min_new: 0, min: 1}\n"
                      "  - on_documents: {platform: twitter, min_new: -2}\n"
                      "  - on_documents: medium\n"
                      "  - on_documents: {min_new: five}\n"),
            "test.yaml:3:30: 'on_documents.platform' of trigger at index 0 must be one of medium, "
            "substack, linkedin, github, web, got 'mediun' (did you mean 'medium'?)\n"
            "  - on_documents: {platform: mediun, min_new: 0, min: 1}\n"
            "                             ^\n"
            "test.yaml:3:47: 'on_documents.min_new' of trigger at index 0 must be at least 1, got "
            "0\n"
            "  - on_documents: {platform: mediun, min_new: 0, min: 1}\n"
            "                                              ^\n"
            "test.yaml:3:50: unknown key 'min' in 'on_documents' of trigger at index 0\n"
            "  - on_documents: {platform: mediun, min_new: 0, min: 1}\n"
            "                                                 ^\n"
            "test.yaml:4:30: 'on_documents.platform' of trigger at index 1 must be one of medium, "
            "substack, linkedin, github, web, got 'twitter'\n"
            "  - on_documents: {platform: twitter, min_new: -2}\n"
            "                             ^\n"
            "test.yaml:4:48: 'on_documents.min_new' of trigger at index 1 must be at least 1, got "
            "-2\n"
            "  - on_documents: {platform: twitter, min_new: -2}\n"
            "                                               ^\n"
            "test.yaml:5:19: 'on_documents' of trigger at index 2 must be a mapping, got a "
            "string\n"
            "  - on_documents: medium\n"
            "                  ^\n"
            "test.yaml:6:29: 'on_documents.min_new' of trigger at index 3 must be an integer, got "
            "a string\n"
            "  - on_documents: {min_new: five}\n"
            "                            ^\n");
}

TEST(TriggerSpecErrorTest, ScheduleAndTriggerProblemsJoinTheOthersInFileOrder) {
  EXPECT_EQ(errors_of("name: x\n"
                      "triggers:\n"
                      "  - on_artifact: \"a b\"\n"
                      "schedule: \"* * *\"\n"
                      "pools: {gpu: 0}\n"),
            "test.yaml:3:18: invalid artifact name 'a b' for trigger at index 0: use letters, "
            "digits, '_', '.' and '-'\n"
            "  - on_artifact: \"a b\"\n"
            "                 ^\n"
            "test.yaml:4:11: invalid cron expression for 'schedule': cron expression '* * *' has 3 "
            "fields; expected 5 (minute hour day-of-month month day-of-week)\n"
            "schedule: \"* * *\"\n"
            "          ^\n"
            "test.yaml:5:14: pool 'gpu' must have at least 1 slot\n"
            "pools: {gpu: 0}\n"
            "             ^\n");
}

}  // namespace
}  // namespace twinflow
