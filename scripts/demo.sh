#!/usr/bin/env bash
# The main job: installs what is missing, builds twinflow, and runs the
# LLM-twin data pipeline on the bundled sample (sample/, a fictional author)
# with the embedded PostgreSQL (started on first use; set
# TWINFLOW_DATABASE_URL to use your own server):
#   1. serves sample/site on loopback and builds the sample git repository,
#   2. crawls it (dags/digital_data_etl.yaml),
#   3. cleans, chunks and embeds it (dags/feature_engineering.yaml),
#   4. searches it, and shows the lineage and the runs recorded.
source "$(dirname "$0")/setup.sh"
build_twinflow twinflow
tf="$BUILD_DIR/twinflow"
cd "$TWINFLOW_ROOT"

work="$(mktemp -d "${TMPDIR:-/tmp}/twinflow-demo.XXXXXX")"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> serving sample/site on loopback"
"$tf" serve-files sample/site --bind 127.0.0.1:0 --port-file "$work/port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { cat "$work/server.log"; echo "the sample server did not start" >&2; exit 1; }
site="http://127.0.0.1:$(cat "$work/port")"
repo_dir="${TMPDIR:-/tmp}/twinflow-sample-repo"
bash sample/make_repo.sh "$repo_dir" >/dev/null

echo "==> twinflow run dags/digital_data_etl.yaml"
"$tf" run dags/digital_data_etl.yaml -p site="$site" -p repo="file://$repo_dir"
echo
echo "==> twinflow run dags/feature_engineering.yaml"
"$tf" run dags/feature_engineering.yaml
echo
query="how should I chunk documents for retrieval"
echo "==> twinflow search \"$query\" --k 5"
"$tf" search "$query" --k 5
echo
echo "==> twinflow lineage embedding_model"
"$tf" lineage embedding_model
echo
echo "==> twinflow runs --limit 5"
"$tf" runs --limit 5
