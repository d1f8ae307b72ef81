// Tests of the DAG loader: the exact text of every kind of diagnostic, a full
// successful load, durations, did-you-mean suggestions and the example DAG.
//
// Diagnostics are compared as whole formatted strings on purpose: their text
// is the user interface of `twinflow validate`, and a changed column or word
// should fail a test.
#include "scheduler/definition/dag_loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scheduler/definition/diagnostic.h"
#include "scheduler/definition/edit_distance.h"
#include "scheduler/definition/yaml_document.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "tests/support/hostile_yaml.h"
#include "util/sha256.h"

namespace twinflow {
namespace {

// The formatted diagnostics of loading `yaml` as "test.yaml".
std::string errors_of(const std::string& yaml, const LoadOptions& options = {}) {
  LoadResult result = load_dag_string(yaml, "test.yaml", options);
  EXPECT_EQ(result.ok(), result.dag.has_value());
  return format_diagnostics(result.diagnostics);
}

// Loads `yaml` that must be valid; fails the test with the diagnostics if not.
Dag load_valid(const std::string& yaml, const LoadOptions& options = {}) {
  LoadResult result = load_dag_string(yaml, "test.yaml", options);
  EXPECT_TRUE(result.ok()) << format_diagnostics(result.diagnostics);
  if (!result.dag) return Dag();
  return *result.dag;
}

// --- Diagnostic::format ---------------------------------------------------------

TEST(DiagnosticTest, FormatsPositionSourceLineAndCaret) {
  Diagnostic diagnostic{"dags/x.yaml", 7, 5,
                        "unknown key 'comand' in step 'train' (did you mean 'command'?)",
                        "    comand: python train.py"};
  EXPECT_EQ(diagnostic.format(),
            "dags/x.yaml:7:5: unknown key 'comand' in step 'train' (did you mean 'command'?)\n"
            "    comand: python train.py\n"
            "    ^");
}

TEST(DiagnosticTest, CaretLineKeepsTabs) {
  Diagnostic diagnostic{"f.yaml", 2, 7, "bad", "\tkey:\tvalue"};
  EXPECT_EQ(diagnostic.format(), "f.yaml:2:7: bad\n\tkey:\tvalue\n\t    \t^");
}

TEST(DiagnosticTest, LineZeroHasNoPosition) {
  Diagnostic diagnostic{"f.yaml", 0, 0, "missing required key 'name'", ""};
  EXPECT_EQ(diagnostic.format(), "f.yaml: missing required key 'name'");
}

TEST(DiagnosticTest, FormatDiagnosticsEndsEachWithNewline) {
  std::vector<Diagnostic> diagnostics = {{"f.yaml", 0, 0, "one", ""}, {"f.yaml", 1, 1, "two", "x"}};
  EXPECT_EQ(format_diagnostics(diagnostics), "f.yaml: one\nf.yaml:1:1: two\nx\n^\n");
  EXPECT_EQ(format_diagnostics({}), "");
}

// --- edit distance --------------------------------------------------------------

TEST(EditDistanceTest, CountsInsertionsDeletionsSubstitutionsAndSwaps) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("same", "same"), 0u);
  EXPECT_EQ(edit_distance("comand", "command"), 1u);
  EXPECT_EQ(edit_distance("stpes", "steps"), 1u);    // adjacent swap
  EXPECT_EQ(edit_distance("abcdxy", "efghyx"), 5u);  // 4 substitutions, then a swap
  EXPECT_EQ(edit_distance("ca", "abc"), 3u);         // no edits inside a swap
}

TEST(ClosestMatchTest, SuggestsNearCandidatesOnly) {
  std::vector<std::string> keys = {"name", "description", "params", "pools", "steps"};
  EXPECT_EQ(closest_match("stpes", keys), "steps");
  EXPECT_EQ(closest_match("nmae", keys), "name");
  EXPECT_EQ(closest_match("descrption", keys), "description");
  EXPECT_EQ(closest_match("owner", keys), std::nullopt);
  EXPECT_EQ(closest_match("ab", {"xy"}), std::nullopt);  // 2 edits on 2 letters is no typo
  EXPECT_EQ(closest_match("x", {}), std::nullopt);
}

TEST(ClosestMatchTest, CapsDistanceAtThreeAndPrefersEarlierCandidates) {
  EXPECT_EQ(closest_match("abcdefghijkl", {"abcdefghixyz"}), "abcdefghixyz");        // 3 edits
  EXPECT_EQ(closest_match("abcdefghijklmnop", {"abcdefghijklwxyz"}), std::nullopt);  // 4
  EXPECT_EQ(closest_match("cat", {"bat", "hat"}), "bat");
  EXPECT_EQ(closest_match("cat", {"dog", "hat", "cast"}), "hat");
}

// --- parse_duration -------------------------------------------------------------

TEST(ParseDurationTest, AcceptsUnitsCombinationsDecimalsAndSeconds) {
  EXPECT_EQ(parse_duration("500ms"), Millis(500));
  EXPECT_EQ(parse_duration("30s"), Millis(30'000));
  EXPECT_EQ(parse_duration("5m"), Millis(300'000));
  EXPECT_EQ(parse_duration("2h"), Millis(7'200'000));
  EXPECT_EQ(parse_duration("1h30m"), Millis(5'400'000));
  EXPECT_EQ(parse_duration("1m30s250ms"), Millis(90'250));
  EXPECT_EQ(parse_duration("1.5s"), Millis(1'500));
  EXPECT_EQ(parse_duration(".5h"), Millis(1'800'000));
  EXPECT_EQ(parse_duration("90"), Millis(90'000));
  EXPECT_EQ(parse_duration("0.25"), Millis(250));
  EXPECT_EQ(parse_duration("0s"), Millis(0));
}

TEST(ParseDurationTest, RejectsMalformedText) {
  for (const char* text : {"", "5 minutes", "5x", "1h30", "-5s", "s", "1..5s", ".s", "1e3s", "5m ",
                           " 5m", "ms", "99999999999999999h"}) {
    EXPECT_EQ(parse_duration(text), std::nullopt) << "'" << text << "'";
  }
}

// --- errors, one kind per test ----------------------------------------------------

TEST(DagLoaderErrorTest, YamlSyntaxErrorStopsEverything) {
  EXPECT_EQ(errors_of("name: hello\n"
                      "stpes:\n"
                      "  - id: x\n"
                      "   command: echo\n"),
            "test.yaml:4:4: YAML syntax error: did not find expected '-' indicator (while parsing "
            "a block collection started at line 3, column 3)\n"
            "   command: echo\n"
            "   ^\n");
}

TEST(DagLoaderErrorTest, UnknownTopLevelKeyWithAndWithoutSuggestion) {
  EXPECT_EQ(errors_of("name: hello\n"
                      "owner: me\n"
                      "stpes:\n"
                      "  - id: x\n"),
            "test.yaml: missing required key 'steps'\n"
            "test.yaml:2:1: unknown key 'owner'\n"
            "owner: me\n"
            "^\n"
            "test.yaml:3:1: unknown key 'stpes' (did you mean 'steps'?)\n"
            "stpes:\n"
            "^\n");
}

TEST(DagLoaderErrorTest, UnknownStepKeyPointsAtTheKey) {
  EXPECT_EQ(errors_of("name: ml\n"
                      "steps:\n"
                      "  - id: train\n"
                      "    command: python train.py\n"
                      "    comand: python train.py\n"),
            "test.yaml:5:5: unknown key 'comand' in step 'train' (did you mean 'command'?)\n"
            "    comand: python train.py\n"
            "    ^\n");
}

TEST(DagLoaderErrorTest, UnknownKeysInRetriesCacheAndOutputs) {
  EXPECT_EQ(
      errors_of("name: ml\n"
                "steps:\n"
                "  - id: x\n"
                "    command: run\n"
                "    retries: {cont: 2}\n"
                "    cache: {enable: false, flies: [a]}\n"
                "    outputs:\n"
                "      - {name: model, kind: model}\n"),
      "test.yaml:5:15: unknown key 'cont' in 'retries' of step 'x' (did you mean 'count'?)\n"
      "    retries: {cont: 2}\n"
      "              ^\n"
      "test.yaml:6:13: unknown key 'enable' in 'cache' of step 'x' (did you mean 'enabled'?)\n"
      "    cache: {enable: false, flies: [a]}\n"
      "            ^\n"
      "test.yaml:6:28: unknown key 'flies' in 'cache' of step 'x' (did you mean 'files'?)\n"
      "    cache: {enable: false, flies: [a]}\n"
      "                           ^\n"
      "test.yaml:8:23: unknown key 'kind' in 'outputs' of step 'x'\n"
      "      - {name: model, kind: model}\n"
      "                      ^\n");
}

TEST(DagLoaderErrorTest, MissingNameAndSteps) {
  EXPECT_EQ(errors_of("description: nothing here\n"),
            "test.yaml: missing required key 'name'\n"
            "test.yaml: missing required key 'steps'\n");
}

TEST(DagLoaderErrorTest, FileThatIsNotAMapping) {
  EXPECT_EQ(errors_of(""),
            "test.yaml: a DAG file must be a mapping with keys such as 'name' and 'steps', got "
            "null\n");
  EXPECT_EQ(errors_of("- a\n"),
            "test.yaml:1:1: a DAG file must be a mapping with keys such as 'name' and 'steps', "
            "got a sequence\n"
            "- a\n"
            "^\n");
}

TEST(DagLoaderErrorTest, StepWithoutIdAndCommandRules) {
  EXPECT_EQ(errors_of("name: ml\n"
                      "steps:\n"
                      "  - id: a\n"
                      "    command: x\n"
                      "  - id: b\n"
                      "    description: forgot the command\n"
                      "  - command: x\n"
                      "  - id: crawler\n"
                      "    type: crawl\n"
                      "    command: x\n"),
            "test.yaml:5:5: command step 'b' has no 'command'\n"
            "  - id: b\n"
            "    ^\n"
            "test.yaml:7:5: step at index 2 has no 'id'\n"
            "  - command: x\n"
            "    ^\n"
            "test.yaml:10:5: step 'crawler' of type 'crawl' cannot have a 'command'\n"
            "    command: x\n"
            "    ^\n");
}

TEST(DagLoaderErrorTest, UnknownStepType) {
  EXPECT_EQ(errors_of("name: ml\n"
                      "steps:\n"
                      "  - id: x\n"
                      "    type: finetun\n"
                      "  - id: y\n"
                      "    type: teleport\n"),
            "test.yaml:4:11: unknown step type 'finetun' in step 'x' (did you mean 'finetune'?)\n"
            "    type: finetun\n"
            "          ^\n"
            "test.yaml:6:11: unknown step type 'teleport' in step 'y'\n"
            "    type: teleport\n"
            "          ^\n");
}

TEST(DagLoaderErrorTest, DuplicateStepId) {
  EXPECT_EQ(errors_of("name: ml\n"
                      "steps:\n"
                      "  - id: clean\n"
                      "    command: a\n"
                      "  - id: clean\n"
                      "    command: b\n"),
            "test.yaml:5:9: duplicate step id 'clean' (first defined at line 3)\n"
            "  - id: clean\n"
            "        ^\n");
}

TEST(DagLoaderErrorTest, DuplicateKeyInAMapping) {
  EXPECT_EQ(errors_of("name: ml\n"
                      "steps:\n"
                      "  - id: a\n"
                      "    command: a\n"
                      "    command: b\n"),
            "test.yaml:5:5: duplicate key 'command' in step 'a' (first defined at line 4)\n"
            "    command: b\n"
            "    ^\n");
}

TEST(DagLoaderErrorTest, NeedsUnknownStepPointsAtTheEntry) {
  EXPECT_EQ(errors_of("name: ml\n"
                      "steps:\n"
                      "  - id: prepare\n"
                      "    command: a\n"
                      "  - id: b\n"
                      "    needs: [prepare, prepar]\n"
                      "    command: b\n"
                      "  - id: c\n"
                      "    needs: zzz\n"
                      "    command: c\n"),
            "test.yaml:6:22: step 'b' needs unknown step 'prepar' (did you mean 'prepare'?)\n"
            "    needs: [prepare, prepar]\n"
            "                     ^\n"
            "test.yaml:9:12: step 'c' needs unknown step 'zzz'\n"
            "    needs: zzz\n"
            "           ^\n");
}

TEST(DagLoaderErrorTest, CycleThroughNeedsAndInputsIsReportedOnceAtItsFirstStep) {
  EXPECT_EQ(errors_of("name: ml\n"
                      "steps:\n"
                      "  - id: c\n"
                      "    needs: [b]\n"
                      "    outputs: [out]\n"
                      "    command: x\n"
                      "  - id: a\n"
                      "    inputs: {in: c.out}\n"
                      "    command: x\n"
                      "  - id: b\n"
                      "    needs: a\n"
                      "    command: x\n"),
            "test.yaml:3:5: dependency cycle: c -> a -> b -> c\n"
            "  - id: c\n"
            "    ^\n");
}

TEST(DagLoaderErrorTest, SelfLoopAndSeparateCyclesAreEachReported) {
  EXPECT_EQ(errors_of("name: ml\n"
                      "steps:\n"
                      "  - id: a\n"
                      "    needs: [b]\n"
                      "    command: x\n"
                      "  - id: b\n"
                      "    needs: [a]\n"
                      "    command: x\n"
                      "  - id: c\n"
                      "    needs: [c]\n"
                      "    command: x\n"
                      "  - id: d\n"
                      "    needs: [a, c]\n"
                      "    command: x\n"),
            "test.yaml:3:5: dependency cycle: a -> b -> a\n"
            "  - id: a\n"
            "    ^\n"
            "test.yaml:9:5: dependency cycle: c -> c\n"
            "  - id: c\n"
            "    ^\n");
}

TEST(DagLoaderErrorTest, WrongValueTypesNameWhatWasExpectedAndWhatWasGiven) {
  EXPECT_EQ(errors_of("name: [ml]\n"
                      "params: [a]\n"
                      "steps:\n"
                      "  - id: x\n"
                      "    command: {run: x}\n"
                      "    retries: [1]\n"
                      "    needs: {a: b}\n"
                      "    env: {A: [1]}\n"
                      "    cache: \"yes\"\n"
                      "    timeout: {m: 5}\n"
                      "  - id: y\n"
                      "    command: x\n"
                      "    retries: \"3\"\n"
                      "    outputs: out\n"
                      "    params: 7\n"
                      "    cache: {enabled: 1, files: a.txt}\n"),
            "test.yaml:1:7: 'name' must be a string, got a sequence\n"
            "name: [ml]\n"
            "      ^\n"
            "test.yaml:2:9: 'params' must be a mapping, got a sequence\n"
            "params: [a]\n"
            "        ^\n"
            "test.yaml:5:14: 'command' of step 'x' must be a string or a sequence of strings, got "
            "a mapping\n"
            "    command: {run: x}\n"
            "             ^\n"
            "test.yaml:6:14: 'retries' of step 'x' must be an integer or a mapping, got a "
            "sequence\n"
            "    retries: [1]\n"
            "             ^\n"
            "test.yaml:7:12: 'needs' of step 'x' must be a string or a sequence of strings, got a "
            "mapping\n"
            "    needs: {a: b}\n"
            "           ^\n"
            "test.yaml:8:14: environment variable 'A' of step 'x' must be a string, got a "
            "sequence\n"
            "    env: {A: [1]}\n"
            "             ^\n"
            "test.yaml:9:12: 'cache' of step 'x' must be a boolean or a mapping, got a string\n"
            "    cache: \"yes\"\n"
            "           ^\n"
            "test.yaml:10:14: 'timeout' of step 'x' must be a duration, got a mapping\n"
            "    timeout: {m: 5}\n"
            "             ^\n"
            "test.yaml:13:14: 'retries' of step 'y' must be an integer or a mapping, got a "
            "string\n"
            "    retries: \"3\"\n"
            "             ^\n"
            "test.yaml:14:14: 'outputs' of step 'y' must be a sequence, got a string\n"
            "    outputs: out\n"
            "             ^\n"
            "test.yaml:15:13: 'params' of step 'y' must be a mapping, got a number\n"
            "    params: 7\n"
            "            ^\n"
            "test.yaml:16:22: 'cache.enabled' of step 'y' must be a boolean, got a number\n"
            "    cache: {enabled: 1, files: a.txt}\n"
            "                     ^\n"
            "test.yaml:16:32: 'cache.files' of step 'y' must be a sequence of strings, got a "
            "string\n"
            "    cache: {enabled: 1, files: a.txt}\n"
            "                               ^\n");
}

TEST(DagLoaderErrorTest, EmptyValueOfARequiredKeyPointsAtTheKey) {
  EXPECT_EQ(errors_of("name:\n"
                      "steps:\n"),
            "test.yaml:1:1: 'name' must be a string, got null\n"
            "name:\n"
            "^\n"
            "test.yaml:2:1: 'steps' must be a sequence, got null\n"
            "steps:\n"
            "^\n");
}

TEST(DagLoaderErrorTest, BadInputReferences) {
  EXPECT_EQ(errors_of("name: ml\n"
                      "steps:\n"
                      "  - id: prepare\n"
                      "    outputs: [text]\n"
                      "    command: a\n"
                      "  - id: b\n"
                      "    inputs:\n"
                      "      text: prepar.text\n"
                      "      other: prepare.txt\n"
                      "      whole: prepare\n"
                      "      listed: [prepare.text]\n"
                      "    command: b\n"),
            "test.yaml:8:13: input 'text' of step 'b' refers to unknown step 'prepar' (did you "
            "mean 'prepare'?)\n"
            "      text: prepar.text\n"
            "            ^\n"
            "test.yaml:9:14: input 'other' of step 'b' refers to 'prepare.txt', but step "
            "'prepare' has no output 'txt' (did you mean 'text'?)\n"
            "      other: prepare.txt\n"
            "             ^\n"
            "test.yaml:10:14: input 'whole' of step 'b' must look like 'step.output', got "
            "'prepare'\n"
            "      whole: prepare\n"
            "             ^\n"
            "test.yaml:11:15: input 'listed' of step 'b' must be a string like 'step.output' or "
            "'artifact:NAME', got "
            "a sequence\n"
            "      listed: [prepare.text]\n"
            "              ^\n");
}

TEST(DagLoaderErrorTest, BadDurations) {
  EXPECT_EQ(errors_of("name: ml\n"
                      "steps:\n"
                      "  - id: x\n"
                      "    command: a\n"
                      "    timeout: 5 minutes\n"
                      "    retries: {count: 1, backoff: soon}\n"
                      "  - id: y\n"
                      "    command: a\n"
                      "    timeout: 0s\n"
                      "    retries: {backoff: 1m, max_backoff: 10s}\n"),
            "test.yaml:5:14: bad duration '5 minutes' for 'timeout' of step 'x': use a number "
            "with a unit, like 500ms, 30s, 5m or 2h\n"
            "    timeout: 5 minutes\n"
            "             ^\n"
            "test.yaml:6:34: bad duration 'soon' for 'retries.backoff' of step 'x': use a number "
            "with a unit, like 500ms, 30s, 5m or 2h\n"
            "    retries: {count: 1, backoff: soon}\n"
            "                                 ^\n"
            "test.yaml:9:14: 'timeout' of step 'y' must be greater than zero\n"
            "    timeout: 0s\n"
            "             ^\n"
            "test.yaml:10:41: 'retries.max_backoff' of step 'y' must not be shorter than "
            "'retries.backoff'\n"
            "    retries: {backoff: 1m, max_backoff: 10s}\n"
            "                                        ^\n");
}

TEST(DagLoaderErrorTest, UnknownParameterInCommandEnvAndStepParams) {
  EXPECT_EQ(errors_of("name: ml\n"
                      "params:\n"
                      "  greeting: hi\n"
                      "steps:\n"
                      "  - id: x\n"
                      "    command: echo ${params.gretting} ${HOME}\n"
                      "    env: {A: '${params.nope}'}\n"
                      "    params:\n"
                      "      nested: [{deep: 'x ${params.greting'}]\n"),
            "test.yaml:6:14: unknown parameter 'gretting' in '${params.gretting}' (did you mean "
            "'greeting'?)\n"
            "    command: echo ${params.gretting} ${HOME}\n"
            "             ^\n"
            "test.yaml:7:14: unknown parameter 'nope' in '${params.nope}'\n"
            "    env: {A: '${params.nope}'}\n"
            "             ^\n"
            "test.yaml:9:23: unterminated parameter reference '${params.greting'\n"
            "      nested: [{deep: 'x ${params.greting'}]\n"
            "                      ^\n");
}

TEST(DagLoaderErrorTest, UnknownOverrideHasNoPosition) {
  LoadOptions options;
  options.param_overrides = {{"gretting", "hey"}};
  EXPECT_EQ(errors_of("name: ml\n"
                      "params: {greeting: hi}\n"
                      "steps:\n"
                      "  - id: x\n"
                      "    command: echo\n",
                      options),
            "test.yaml: unknown parameter 'gretting' given with -p (did you mean 'greeting'?)\n");
}

TEST(DagLoaderErrorTest, PoolsMustBeDeclaredAndHaveSlots) {
  EXPECT_EQ(errors_of("name: ml\n"
                      "pools:\n"
                      "  gpu: 0\n"
                      "  cpu: many\n"
                      "steps:\n"
                      "  - id: x\n"
                      "    command: a\n"
                      "    pool: gpu2\n"
                      "  - id: y\n"
                      "    command: a\n"
                      "    pool: cpu\n"),
            "test.yaml:3:8: pool 'gpu' must have at least 1 slot\n"
            "  gpu: 0\n"
            "       ^\n"
            "test.yaml:4:8: pool 'cpu' must have an integer number of slots, got a string\n"
            "  cpu: many\n"
            "       ^\n"
            "test.yaml:8:11: step 'x' uses undeclared pool 'gpu2' (did you mean 'gpu'?)\n"
            "    pool: gpu2\n"
            "          ^\n");
}

TEST(DagLoaderErrorTest, InvalidNamesAndCounts) {
  EXPECT_EQ(errors_of("name: my dag\n"
                      "steps:\n"
                      "  - id: a b\n"
                      "    command: a\n"
                      "    outputs: [ok, not-ok, 2nd]\n"
                      "    retries: -1\n"
                      "  - id: 9lives\n"
                      "    command: a\n"
                      "    env: {MY-VAR: 1}\n"
                      "    retries: {count: -2}\n"),
            "test.yaml:1:7: invalid DAG name 'my dag': use letters, digits, '_', '.' and '-'\n"
            "name: my dag\n"
            "      ^\n"
            "test.yaml:3:9: invalid step id 'a b': use letters, digits, '_' and '-'\n"
            "  - id: a b\n"
            "        ^\n"
            "test.yaml:5:19: invalid output name 'not-ok' in step 'a b': use letters, digits and "
            "'_'\n"
            "    outputs: [ok, not-ok, 2nd]\n"
            "                  ^\n"
            "test.yaml:5:27: invalid output name '2nd' in step 'a b': start with a letter or '_'\n"
            "    outputs: [ok, not-ok, 2nd]\n"
            "                          ^\n"
            "test.yaml:6:14: 'retries' of step 'a b' must not be negative, got -1\n"
            "    retries: -1\n"
            "             ^\n"
            "test.yaml:7:9: invalid step id '9lives': start with a letter or '_'\n"
            "  - id: 9lives\n"
            "        ^\n"
            "test.yaml:9:11: invalid environment variable name 'MY-VAR' in step '9lives': use "
            "letters, digits and '_'\n"
            "    env: {MY-VAR: 1}\n"
            "          ^\n"
            "test.yaml:10:22: 'retries.count' of step '9lives' must not be negative, got -2\n"
            "    retries: {count: -2}\n"
            "                     ^\n");
}

TEST(DagLoaderErrorTest, EmptyStringsAreNotNames) {
  EXPECT_EQ(errors_of("name: ''\n"
                      "steps:\n"
                      "  - id: ''\n"
                      "    type: ''\n"
                      "    outputs: ['']\n"),
            "test.yaml:1:7: invalid DAG name '': use letters, digits, '_', '.' and '-'\n"
            "name: ''\n"
            "      ^\n"
            "test.yaml:3:9: invalid step id '': use letters, digits, '_' and '-'\n"
            "  - id: ''\n"
            "        ^\n"
            "test.yaml:4:11: unknown step type '' in step at index 0\n"
            "    type: ''\n"
            "          ^\n"
            "test.yaml:5:15: invalid output name '' in step at index 0: use letters, digits and "
            "'_'\n"
            "    outputs: ['']\n"
            "              ^\n");
}

TEST(DagLoaderErrorTest, ReportsEveryErrorAtOnceInLineOrder) {
  // The cycle is found last but sits first in the file; the line-0 override
  // problem comes before everything.
  LoadOptions options;
  options.param_overrides = {{"colour", "red"}};
  EXPECT_EQ(errors_of("name: ml\n"
                      "steps:\n"
                      "  - id: a\n"
                      "    needs: b\n"
                      "    command: x\n"
                      "  - id: b\n"
                      "    needs: a\n"
                      "    comand: x\n"
                      "  - id: c\n"
                      "    type: finetun\n"
                      "    timeout: soon\n",
                      options),
            "test.yaml: unknown parameter 'colour' given with -p\n"
            "test.yaml:3:5: dependency cycle: a -> b -> a\n"
            "  - id: a\n"
            "    ^\n"
            "test.yaml:6:5: command step 'b' has no 'command'\n"
            "  - id: b\n"
            "    ^\n"
            "test.yaml:8:5: unknown key 'comand' in step 'b' (did you mean 'command'?)\n"
            "    comand: x\n"
            "    ^\n"
            "test.yaml:10:11: unknown step type 'finetun' in step 'c' (did you mean "
            "'finetune'?)\n"
            "    type: finetun\n"
            "          ^\n"
            "test.yaml:11:14: bad duration 'soon' for 'timeout' of step 'c': use a number with a "
            "unit, like 500ms, 30s, 5m or 2h\n"
            "    timeout: soon\n"
            "             ^\n");
}

TEST(DagLoaderErrorTest, UnreadableFileGivesOneDiagnosticWithoutPosition) {
  LoadResult result = load_dag_file("/nonexistent/twinflow/missing.yaml");
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(result.dag.has_value());
  EXPECT_EQ(format_diagnostics(result.diagnostics),
            "/nonexistent/twinflow/missing.yaml: cannot read file: No such file or directory\n");
}

TEST(DagLoaderErrorTest, NestedAliasesAreRejectedAtTheAliasPastTheLimit) {
  EXPECT_EQ(errors_of(billion_laughs_dag()),
            "test.yaml:8:10: YAML limit exceeded: alias '*e' brings the nodes that aliases "
            "expand to past 100000 (aliases of aliases multiply; write the values out instead)\n"
            "  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
            "         ^\n");
}

TEST(DagLoaderErrorTest, DeepNestingIsRejected) {
  const std::string yaml = "name: deep\nparams:\n  p: " + std::string(1000, '[') +
                           std::string(1000, ']') + "\nsteps:\n  - {id: a, command: echo}\n";
  const std::string errors = errors_of(yaml);
  EXPECT_EQ(errors.substr(0, errors.find('\n')),
            "test.yaml:3:1004: YAML limit exceeded: nested more than 1000 levels deep");
}

TEST(DagLoaderErrorTest, AFileOverFourMebibytesIsRejectedWithoutReadingItAll) {
  const std::filesystem::path path =
      std::filesystem::path(::testing::TempDir()) / "twinflow-too-large.yaml";
  {
    std::ofstream out(path);
    out << "name: big\nsteps:\n  - {id: a, command: echo}\n";
    out << std::string(YamlLimits::kMaxBytes, '#') << "\n";
  }
  LoadResult result = load_dag_file(path.string());
  std::filesystem::remove(path);
  EXPECT_EQ(format_diagnostics(result.diagnostics),
            path.string() +
                ": YAML limit exceeded: the file is larger than the 4 MiB a DAG file may have\n");
  // /dev/zero never ends: reading stops past the limit.
  EXPECT_EQ(format_diagnostics(load_dag_file("/dev/zero").diagnostics),
            "/dev/zero: YAML limit exceeded: the file is larger than the 4 MiB a DAG file may "
            "have\n");
}

// --- successful loads -------------------------------------------------------------

TEST(DagLoaderTest, AliasesOfAnchoredValuesLoad) {
  Dag dag = load_valid(
      "name: aliased\n"
      "params:\n"
      "  langs: &langs [en, de, fr]\n"
      "  again: *langs\n"
      "steps:\n"
      "  - id: a\n"
      "    env: &env {MODE: fast, LEVEL: 3}\n"
      "    command: echo a\n"
      "  - id: b\n"
      "    env: *env\n"
      "    params: {langs: *langs}\n"
      "    command: echo b\n");
  ASSERT_EQ(dag.steps.size(), 2u);
  EXPECT_EQ(dag.steps[1].env, dag.steps[0].env);
  EXPECT_EQ(dag.params["again"], nlohmann::json({"en", "de", "fr"}));
}

const char kFullExample[] = R"(name: twin
description: A full example.
params:
  greeting: hello
  count: 3
  model: {base: llama, sizes: [7, 13]}
pools:
  gpu: 2
steps:
  - id: prepare
    outputs:
      - text
      - {name: meta, artifact: twin.meta, type: manifest}
    command: "echo ${params.greeting} x${params.count} > $TWINFLOW_OUTPUT_DIR/text"
  - id: other
    outputs: [extra]
    command: [sh, -c, "echo ${params.greeting}", "${params.model}"]
  - id: train
    type: finetune
    needs: [other, prepare, other]
    inputs:
      text: prepare.text
      meta: prepare.meta
      more: other.extra
    outputs: [model]
    params:
      epochs: 2
      prompt: "say ${params.greeting}"
      list: ["${params.count}", true, null, 1.5]
    env:
      GREETING: ${params.greeting}
      RETRIES: 3
      VERBOSE: true
    retries: {count: 2, backoff: 2s, max_backoff: 30s}
    timeout: 1h30m
    cache: {enabled: false, files: [train.py]}
    pool: gpu
  - id: report
    inputs:
      model: train.model
      text: prepare.text
    command: cat $TWINFLOW_INPUT_MODEL
    retries: 1
    cache: false
)";

TEST(DagLoaderTest, LoadsAFullExample) {
  Dag dag = load_valid(kFullExample);
  EXPECT_EQ(dag.name, "twin");
  EXPECT_EQ(dag.description, "A full example.");
  EXPECT_EQ(dag.file, "test.yaml");
  EXPECT_EQ(dag.content, kFullExample);
  EXPECT_EQ(dag.content_hash, sha256_hex(kFullExample));
  EXPECT_EQ(dag.params,
            nlohmann::json::parse(
                R"({"greeting":"hello","count":3,"model":{"base":"llama","sizes":[7,13]}})"));
  EXPECT_EQ(dag.pools, (std::map<std::string, int>{{"gpu", 2}}));
  ASSERT_EQ(dag.steps.size(), 4u);

  const Step& prepare = dag.steps[0];
  EXPECT_EQ(prepare.id, "prepare");
  EXPECT_EQ(prepare.type, "command");
  EXPECT_TRUE(prepare.shell);
  EXPECT_EQ(prepare.command, std::vector<std::string>{"echo hello x3 > $TWINFLOW_OUTPUT_DIR/text"});
  ASSERT_EQ(prepare.outputs.size(), 2u);
  EXPECT_EQ(prepare.outputs[0].name, "text");
  EXPECT_EQ(prepare.outputs[0].artifact, "twin.prepare.text");
  EXPECT_EQ(prepare.outputs[0].type, "file");
  EXPECT_EQ(prepare.outputs[0].pos.line, 12);
  EXPECT_EQ(prepare.outputs[1].name, "meta");
  EXPECT_EQ(prepare.outputs[1].artifact, "twin.meta");
  EXPECT_EQ(prepare.outputs[1].type, "manifest");
  EXPECT_TRUE(prepare.needs.empty());
  EXPECT_EQ(prepare.pos.line, 10);
  EXPECT_EQ(prepare.pos.column, 5);
  // Defaults.
  EXPECT_EQ(prepare.retries.count, 0);
  EXPECT_EQ(prepare.retries.backoff_base, Millis(1000));
  EXPECT_EQ(prepare.retries.backoff_cap, Millis(60000));
  EXPECT_FALSE(prepare.timeout.has_value());
  EXPECT_TRUE(prepare.cache.enabled);
  EXPECT_TRUE(prepare.cache.files.empty());
  EXPECT_EQ(prepare.pool, "");
  EXPECT_EQ(prepare.params, nlohmann::json::object());

  const Step& other = dag.steps[1];
  EXPECT_FALSE(other.shell);
  EXPECT_EQ(other.command, (std::vector<std::string>{"sh", "-c", "echo hello",
                                                     R"({"base":"llama","sizes":[7,13]})"}));

  const Step& train = dag.steps[2];
  EXPECT_EQ(train.type, "finetune");
  EXPECT_TRUE(train.command.empty());
  // Explicit needs first, then producers of inputs, each once.
  EXPECT_EQ(train.needs, (std::vector<std::string>{"other", "prepare"}));
  ASSERT_EQ(train.inputs.size(), 3u);
  EXPECT_EQ(train.inputs[0].name, "text");
  EXPECT_EQ(train.inputs[0].step, "prepare");
  EXPECT_EQ(train.inputs[0].output, "text");
  EXPECT_EQ(train.inputs[0].pos.line, 22);
  EXPECT_EQ(train.inputs[0].pos.column, 13);
  EXPECT_EQ(train.inputs[2].step, "other");
  EXPECT_EQ(train.params, nlohmann::json::parse(
                              R"({"epochs":2,"prompt":"say hello","list":["3",true,null,1.5]})"));
  EXPECT_EQ(train.env, (std::map<std::string, std::string>{
                           {"GREETING", "hello"}, {"RETRIES", "3"}, {"VERBOSE", "true"}}));
  EXPECT_EQ(train.retries.count, 2);
  EXPECT_EQ(train.retries.backoff_base, Millis(2000));
  EXPECT_EQ(train.retries.backoff_cap, Millis(30000));
  EXPECT_EQ(train.timeout, Millis(5'400'000));
  EXPECT_FALSE(train.cache.enabled);
  EXPECT_EQ(train.cache.files, std::vector<std::string>{"train.py"});
  EXPECT_EQ(train.pool, "gpu");

  const Step& report = dag.steps[3];
  EXPECT_EQ(report.needs, (std::vector<std::string>{"train", "prepare"}));
  EXPECT_EQ(report.retries.count, 1);
  EXPECT_FALSE(report.cache.enabled);
}

TEST(DagLoaderTest, OverridesAreTypedLikeYamlScalars) {
  LoadOptions options;
  options.param_overrides = {{"count", "5"}, {"ratio", "0.5"},         {"flag", "true"},
                             {"word", "no"}, {"greeting", "good day"}, {"empty", ""}};
  Dag dag = load_valid(
      "name: p\n"
      "params: {count: 1, ratio: 1, flag: false, word: x, greeting: hi, empty: x, kept: 7}\n"
      "steps:\n"
      "  - id: a\n"
      "    command: echo ${params.greeting} ${params.count} ${params.flag} ${params.kept}\n",
      options);
  EXPECT_EQ(dag.params, nlohmann::json::parse(R"({"count":5,"ratio":0.5,"flag":true,"word":"no",
                                                  "greeting":"good day","empty":"","kept":7})"));
  ASSERT_EQ(dag.steps.size(), 1u);
  EXPECT_EQ(dag.steps[0].command, std::vector<std::string>{"echo good day 5 true 7"});
}

TEST(DagLoaderTest, OverridesInYamlSyntaxAreReadAsYaml) {
  LoadOptions options;
  options.param_overrides = {{"quoted", "\"3\""},
                             {"single", "'yes'"},
                             {"list", "[1, two]"},
                             {"map", "{a: 1}"},
                             {"broken", "[draft"}};
  Dag dag = load_valid(
      "name: p\n"
      "params: {quoted: 0, single: 0, list: 0, map: 0, broken: 0}\n"
      "steps:\n"
      "  - id: a\n"
      "    command: x\n",
      options);
  EXPECT_EQ(dag.params, nlohmann::json::parse(R"({"quoted":"3","single":"yes","list":[1,"two"],
                                                  "map":{"a":1},"broken":"[draft"})"));
}

TEST(DagLoaderTest, ParamsRecordedAsJsonComeBackUnchangedAsOverrides) {
  // A rerun passes a run's recorded params back as JSON text (scheduler/execution/runner.cc).
  nlohmann::json recorded = nlohmann::json::parse(R"({
      "s": "3", "n": 2, "list": [1, "two", null], "map": {"k": "v", "deep": [1.5]},
      "flag": true, "ratio": 0.25, "text": "it's \"quoted\"\nand: more", "empty": ""})");
  LoadOptions options;
  for (const auto& [key, value] : recorded.items()) options.param_overrides[key] = value.dump();
  Dag dag = load_valid(
      "name: p\n"
      "params: {s: 0, n: 0, list: 0, map: 0, flag: 0, ratio: 0, text: 0, empty: 0}\n"
      "steps:\n"
      "  - id: a\n"
      "    command: x\n",
      options);
  EXPECT_EQ(dag.params, recorded);
}

TEST(DagLoaderTest, QuotedScalarsStayStrings) {
  Dag dag = load_valid(
      "name: p\n"
      "params: {version: '1.0', on: 'true', plain: 1.0, country: no}\n"
      "steps:\n"
      "  - id: a\n"
      "    command: x\n");
  EXPECT_EQ(dag.params,
            nlohmann::json::parse(R"({"version":"1.0","on":"true","plain":1.0,"country":"no"})"));
}

// A chain of `steps` steps, each needing the previous one; when `closed`, the
// first also needs the last, which makes one long cycle.
std::string chain_yaml(int steps, bool closed) {
  std::string yaml = "name: chain\nsteps:\n";
  for (int i = 0; i < steps; ++i) {
    yaml += "  - id: s" + std::to_string(i) + "\n    command: x\n";
    if (i > 0) yaml += "    needs: s" + std::to_string(i - 1) + "\n";
    if (i == 0 && closed) yaml += "    needs: s" + std::to_string(steps - 1) + "\n";
  }
  return yaml;
}

TEST(DagLoaderTest, LoadsALongChainWithoutRecursion) {
  // Ten thousand levels deep: a recursive search could exhaust the stack.
  LoadResult result = load_dag_string(chain_yaml(10'000, false), "test.yaml");
  ASSERT_TRUE(result.ok()) << format_diagnostics(result.diagnostics);
  ASSERT_EQ(result.dag->steps.size(), 10'000u);
  EXPECT_EQ(result.dag->steps.back().needs, std::vector<std::string>{"s9998"});
}

TEST(DagLoaderTest, ReportsALongCycleOnceAtItsFirstStep) {
  LoadResult result = load_dag_string(chain_yaml(10'000, true), "test.yaml");
  ASSERT_EQ(result.diagnostics.size(), 1u);
  const Diagnostic& cycle = result.diagnostics[0];
  EXPECT_EQ(cycle.line, 3);
  std::string expected = "dependency cycle: s0";
  for (int i = 1; i < 10'000; ++i) expected += " -> s" + std::to_string(i);
  EXPECT_EQ(cycle.message, expected + " -> s0");
}

TEST(DagLoaderTest, LoadsTheHelloExample) {
  std::string path = std::string(TWINFLOW_SOURCE_DIR) + "/dags/examples/hello.yaml";
  LoadResult result = load_dag_file(path);
  ASSERT_TRUE(result.ok()) << format_diagnostics(result.diagnostics);
  const Dag& dag = *result.dag;
  EXPECT_EQ(dag.name, "hello");
  EXPECT_EQ(dag.file, path);
  ASSERT_EQ(dag.steps.size(), 5u);
  EXPECT_EQ(dag.steps[0].id, "prepare");
  for (size_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(dag.steps[i].needs, std::vector<std::string>{"prepare"}) << dag.steps[i].id;
  }
  EXPECT_EQ(dag.steps[4].id, "report");
  EXPECT_EQ(dag.steps[4].needs, (std::vector<std::string>{"upper", "count", "reverse"}));
  EXPECT_EQ(dag.steps[2].retries.count, 2);
  EXPECT_TRUE(dag.steps[2].timeout.has_value());
  EXPECT_EQ(dag.steps[0].env.at("GREETING"), "hello, world");
}

}  // namespace
}  // namespace twinflow

namespace twinflow {
namespace {

TEST(DagLoaderTest, ArtifactInputsNameAnArtifactAndOptionallyAVersion) {
  Dag dag = load_valid(
      "name: training\n"
      "steps:\n"
      "  - id: train\n"
      "    inputs: {data: 'artifact:instruct_dataset', pinned: 'artifact:instruct_dataset@3'}\n"
      "    command: train\n");
  ASSERT_EQ(dag.steps[0].inputs.size(), 2u);
  EXPECT_EQ(dag.steps[0].inputs[0].artifact, "instruct_dataset");
  EXPECT_FALSE(dag.steps[0].inputs[0].artifact_version.has_value());
  EXPECT_TRUE(dag.steps[0].inputs[0].step.empty());
  EXPECT_EQ(dag.steps[0].inputs[1].artifact_version, 3);
  EXPECT_TRUE(dag.steps[0].needs.empty());  // made elsewhere: nothing to wait for here
}

TEST(DagLoaderErrorTest, BadArtifactInputs) {
  EXPECT_EQ(errors_of("name: training\n"
                      "steps:\n"
                      "  - id: train\n"
                      "    inputs: {a: 'artifact:', b: 'artifact:data@x', c: 'artifact:data@0'}\n"
                      "    command: train\n"),
            "test.yaml:4:17: input 'a' of step 'train' must look like 'artifact:NAME' or "
            "'artifact:NAME@N'\n"
            "    inputs: {a: 'artifact:', b: 'artifact:data@x', c: 'artifact:data@0'}\n"
            "                ^\n"
            "test.yaml:4:33: input 'b' of step 'train': the version after '@' must be a number "
            ">= 1, got 'x'\n"
            "    inputs: {a: 'artifact:', b: 'artifact:data@x', c: 'artifact:data@0'}\n"
            "                                ^\n"
            "test.yaml:4:55: input 'c' of step 'train': the version after '@' must be a number "
            ">= 1, got '0'\n"
            "    inputs: {a: 'artifact:', b: 'artifact:data@x', c: 'artifact:data@0'}\n"
            "                                                      ^\n");
}

}  // namespace
}  // namespace twinflow
