#!/usr/bin/env bash
# Every test: installs what is missing, builds everything, starts a PostgreSQL
# for the tests (an embedded cluster under build/test-home), runs the whole
# suite through CTest, then the benchmarks at a small size.
source "$(dirname "$0")/setup.sh"
install_test_prerequisites
build_twinflow

export TWINFLOW_HOME="$BUILD_DIR/test-home"
tf="$BUILD_DIR/twinflow"
TWINFLOW_TEST_DATABASE_URL="$(env -u TWINFLOW_DATABASE_URL "$tf" db url)"
export TWINFLOW_TEST_DATABASE_URL
# The Slurm tests share one cluster that they start on first use (scripts/slurm_cluster.sh).
slurm_dir="${TWINFLOW_TEST_SLURM_DIR:-/tmp/twinflow-slurm-test}"
trap 'env -u TWINFLOW_DATABASE_URL "$tf" db stop >/dev/null 2>&1 || true
      bash "$TWINFLOW_ROOT/scripts/slurm_cluster.sh" stop "$slurm_dir" >/dev/null 2>&1 || true' EXIT

echo "==> tests"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" --timeout 600

echo "==> benchmarks (small)"
for bench in "$BUILD_DIR"/*_bench; do
  [ -x "$bench" ] || continue
  echo "--- $(basename "$bench")"
  TWINFLOW_BENCH_SMALL=1 TWINFLOW_DATABASE_URL="$TWINFLOW_TEST_DATABASE_URL" "$bench"
done

echo "==> fuzzing the HTML extractor (briefly)"
FUZZ_SECONDS="${FUZZ_SECONDS:-30}" bash "$TWINFLOW_ROOT/scripts/fuzz.sh"
