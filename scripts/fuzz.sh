#!/usr/bin/env bash
# Builds and runs the libFuzzer targets with clang (AddressSanitizer and
# UndefinedBehaviorSanitizer on), FUZZ_SECONDS (default 30) each:
#   html_extractor_fuzz  HTML pages through the extractor, cleaner, chunker and
#                        search analyzer (store/english_analyzer.h),
#                        seeded with the bundled sample pages;
#   dag_loader_fuzz      YAML through the DAG loader, seeded with dags/ and
#                        steered by fuzz/dag_loader.dict.
# Prints each fuzzer's execution count. Fails (exit 1, with the reason) when
# clang is missing, a fuzzer does not build, or a run does not end cleanly: a
# crash, a leak, a timeout or an out-of-memory is a failure, and its input is
# saved under build/fuzz/ (reproduce: build/fuzz/NAME build/fuzz/crash-...).
# scripts/test.sh installs clang and libclang-rt-14-dev (libFuzzer).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${TWINFLOW_BUILD_DIR:-$root/build}/fuzz"
seconds="${FUZZ_SECONDS:-30}"
cd "$root"

fail() {
  echo "fuzz: FAILED: $*" >&2
  exit 1
}

command -v clang++ >/dev/null 2>&1 ||
  fail "clang++ is not installed; run scripts/test.sh (it installs clang and libclang-rt-14-dev)"
mkdir -p "$out"

# build NAME WATCHED_DIRS -- SOURCES_AND_FLAGS...: rebuilds when a watched file is newer.
build() {
  local name="$1" watched=()
  shift
  while [ "$1" != "--" ]; do watched+=("$1"); shift; done
  shift
  local binary="$out/$name"
  if [ -x "$binary" ] && [ -z "$(find "${watched[@]}" -newer "$binary" -name '*.[ch]*' | head -1)" ]; then
    return 0
  fi
  echo "fuzz: building $name"
  clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I. "$@" -o "$binary" >"$out/$name.build.log" 2>&1 ||
    { tail -30 "$out/$name.build.log" >&2; fail "$name does not build (see $out/$name.build.log)"; }
}

# run NAME CORPUS_DIR [FLAGS...]: fuzzes for $seconds; fails on any finding.
run() {
  local name="$1" corpus="$2"
  shift 2
  echo "fuzz: running $name for ${seconds}s"
  local status=0
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$out/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/" -print_final_stats=1 "$@" "$corpus" >"$out/$name.log" 2>&1 || status=$?
  local executions
  executions="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$name.log" | grep -o '[0-9]*$' || true)"
  if [ "$status" -ne 0 ]; then
    tail -40 "$out/$name.log" >&2
    fail "$name exited $status: it found a crash, leak, timeout or excess memory (log: $out/$name.log; input: the newest $out/crash-*, leak-*, timeout-* or oom-* file)"
  fi
  [ -n "$executions" ] || { tail -20 "$out/$name.log" >&2; fail "$name printed no statistics; did it run?"; }
  echo "fuzz: $name: $executions executions in ${seconds}s, no crash"
}

build html_extractor_fuzz tasks/extract tasks/text store/english_analyzer.cc store/english_parser.cc util/english_stemmer.cc \
  fuzz/html_extractor_fuzz.cc -- \
  fuzz/html_extractor_fuzz.cc tasks/extract/*.cc tasks/text/*.cc util/error.cc util/strings.cc util/english_stemmer.cc \
  store/english_analyzer.cc store/english_parser.cc $(pkg-config --cflags --libs gumbo) -lstemmer
build dag_loader_fuzz scheduler util fuzz/dag_loader_fuzz.cc -- \
  fuzz/dag_loader_fuzz.cc scheduler/definition/{dag_loader,dag_parser,dag_parser_steps,yaml_fields}.cc \
  scheduler/definition/{dag_validate,yaml_document,diagnostic,edit_distance,cron,dag}.cc \
  util/{duration,strings,sha256,error}.cc \
  $(pkg-config --cflags --libs yaml-0.1) -lcctz -lcrypto

mkdir -p "$out/corpus" "$out/dag_corpus"
cp "$root"/sample/site/*/*.html "$out/corpus/" 2>/dev/null || true
find "$root/dags" -name '*.yaml' -exec cp {} "$out/dag_corpus/" \;
[ -n "$(ls "$out/corpus")" ] || fail "no seed pages under sample/site"
[ -n "$(ls "$out/dag_corpus")" ] || fail "no seed DAGs under dags/"

run html_extractor_fuzz "$out/corpus" -max_len=65536
run dag_loader_fuzz "$out/dag_corpus" -max_len=16384 -dict=fuzz/dag_loader.dict
