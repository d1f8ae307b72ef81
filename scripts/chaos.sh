#!/usr/bin/env bash
# The chaos suite at full size (tests/chaos_test.cc; CI runs it small as part
# of the test suite): 20 kill -9 trials of `twinflow run`, PostgreSQL killed
# mid-run, 5 helper schedulers killed mid-step. Prints the figures (trials,
# orphans, wrong outputs, overlaps, takeover latency) and exits non-zero when
# any assertion fails.
#
#   TWINFLOW_CHAOS_TRIALS    kill -9 trials of `twinflow run` (default 20)
#   TWINFLOW_CHAOS_TAKEOVERS helper schedulers killed (default 5)
#   TWINFLOW_CHAOS_SEED      the random kill moments (default: random, printed)
source "$(dirname "$0")/setup.sh"
install_test_prerequisites
build_twinflow

export TWINFLOW_HOME="$BUILD_DIR/test-home"
tf="$BUILD_DIR/twinflow"
TWINFLOW_TEST_DATABASE_URL="$(env -u TWINFLOW_DATABASE_URL "$tf" db url)"
export TWINFLOW_TEST_DATABASE_URL
trap 'env -u TWINFLOW_DATABASE_URL "$tf" db stop >/dev/null 2>&1 || true' EXIT

export TWINFLOW_CHAOS_TRIALS="${TWINFLOW_CHAOS_TRIALS:-20}"
export TWINFLOW_CHAOS_TAKEOVERS="${TWINFLOW_CHAOS_TAKEOVERS:-5}"
echo "==> chaos: $TWINFLOW_CHAOS_TRIALS kill -9 trials, $TWINFLOW_CHAOS_TAKEOVERS takeovers"
"$BUILD_DIR/twinflow_tests" --gtest_filter='Chaos*' 2>&1 | tee "$BUILD_DIR/chaos.log"
status=${PIPESTATUS[0]}
echo "==> figures"
grep '^\[chaos\]' "$BUILD_DIR/chaos.log" || true
exit "$status"
