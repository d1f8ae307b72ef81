#!/usr/bin/env bash
# The main job: installs what is missing, builds twinflow, and runs the
# example pipeline on the embedded PostgreSQL (started on first use), then
# shows what was recorded. Set TWINFLOW_DATABASE_URL to use your own server.
source "$(dirname "$0")/setup.sh"
build_twinflow twinflow
tf="$BUILD_DIR/twinflow"

echo "==> twinflow run dags/examples/hello.yaml"
cd "$TWINFLOW_ROOT"
"$tf" run dags/examples/hello.yaml
echo
echo "==> twinflow lineage hello.report"
"$tf" lineage hello.report
echo
echo "==> twinflow runs --limit 5"
"$tf" runs --limit 5
