#!/usr/bin/env bash
# The suites that CI runs small, at full size (issue 18's sizes): the crawl
# step with 20,000 links and a feed of 20,000 entries, twice (the second
# crawl re-checks the feed with a conditional GET). A few minutes.
#   TWINFLOW_CRAWL_SCALE  links and feed entries (default 20000)
source "$(dirname "$0")/setup.sh"
install_test_prerequisites
build_twinflow
tf="$BUILD_DIR/twinflow"
export TWINFLOW_HOME="$BUILD_DIR/test-home"
TWINFLOW_TEST_DATABASE_URL="$(env -u TWINFLOW_DATABASE_URL "$tf" db url)"
export TWINFLOW_TEST_DATABASE_URL
trap 'env -u TWINFLOW_DATABASE_URL "$tf" db stop >/dev/null 2>&1 || true' EXIT
export TWINFLOW_CRAWL_SCALE="${TWINFLOW_CRAWL_SCALE:-20000}"
echo "==> crawl at scale: $TWINFLOW_CRAWL_SCALE links and feed entries"
"$BUILD_DIR/twinflow_tests" --gtest_filter='CrawlScaleTest.*'
