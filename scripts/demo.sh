#!/usr/bin/env bash
# The main job: installs what is missing, builds twinflow, and runs the whole
# LLM-twin pipeline on the bundled sample (sample/, a fictional author) with
# the embedded PostgreSQL (started on first use; set TWINFLOW_DATABASE_URL to
# use your own server):
#   1. serves sample/site on loopback and builds the sample git repository,
#   2. runs dags/llm_twin.yaml: crawl -> clean -> chunk -> embed, the instruct
#      and preference datasets, finetune -> evaluate -> deploy,
#   3. serves the twin (`twinflow serve`, extractive answers) and asks POST /rag one
#      question, then shows the model registry, the prompt log and the runs.
source "$(dirname "$0")/setup.sh"
build_twinflow twinflow
tf="$BUILD_DIR/twinflow"
cd "$TWINFLOW_ROOT"

work="$(mktemp -d "${TMPDIR:-/tmp}/twinflow-demo.XXXXXX")"
server_pid=""
rag_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$rag_pid" ] && kill "$rag_pid" 2>/dev/null || true
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

echo "==> twinflow run dags/llm_twin.yaml"
"$tf" run dags/llm_twin.yaml -p site="$site" -p repo="file://$repo_dir"
echo

echo "==> twinflow serve (POST /rag: retrieval, then an extractive answer in the author's own words)"
"$tf" serve --bind 127.0.0.1:0 --port-file "$work/rag_port" --author "Ines Calloway" \
  >"$work/rag.log" 2>&1 &
rag_pid=$!
for _ in $(seq 200); do [ -s "$work/rag_port" ] && break; sleep 0.05; done
[ -s "$work/rag_port" ] || { cat "$work/rag.log"; echo "twinflow serve did not start" >&2; exit 1; }
rag="http://127.0.0.1:$(cat "$work/rag_port")"
query="how should I chunk documents for retrieval"
echo "==> POST $rag/rag {\"query\": \"$query\", \"k\": 3}"
curl -sS --fail-with-body -X POST "$rag/rag" -H 'Content-Type: application/json' \
  -d "{\"query\": \"$query\", \"k\": 3}" >"$work/answer.json"
python3 - "$work/answer.json" <<'PY'
import json, sys
answer = json.load(open(sys.argv[1]))
model = answer["model"]
if model["generator"] == "extractive":
    who = "generator: extractive, the author's own sentences with their sources' numbers"
else:
    who = f"generator: {model['generator']}, model {model['name']} v{model.get('version', '?')}"
print(f"answer ({who}):\n  {answer['answer']}")
for i, source in enumerate(answer["sources"], 1):
    print(f"  [{i}] {source['title']}  {source['url']}  (score {source['score']:.3f})")
print(f"  {answer['timings_ms']['total']:.1f} ms")
PY
kill "$rag_pid" 2>/dev/null || true
echo
echo "==> twinflow models show llm_twin"
"$tf" models show llm_twin
echo
echo "==> twinflow prompts --limit 3"
"$tf" prompts --limit 3
echo
echo "==> twinflow runs --limit 3"
"$tf" runs --limit 3

# --- Weekly crawls find new posts (discovery from feeds and sitemaps) --------
# A copy of the sample site takes the place of the original on the same port
# (so its pages keep their URLs), dags/digital_data_etl.yaml crawls it from
# its feeds and sitemap, a post is published (a new page and a new entry at
# the top of the Medium feed), and the next crawl finds only that post: the
# unchanged feeds and sitemaps answer 304 and no other page is fetched.
echo
echo "==> weekly crawl from feeds: dags/digital_data_etl.yaml on a copy of the site"
port="$(cat "$work/port")"
cp -r sample/site "$work/site"
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
rm -f "$work/port"
"$tf" serve-files "$work/site" --bind "127.0.0.1:$port" --port-file "$work/port" \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { cat "$work/server.log"; echo "the copy of the site is not served" >&2; exit 1; }
discovery_metrics() {
  local id
  id="$("$tf" runs --pipeline digital_data_etl --limit 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
  "$tf" show "$id" --json | python3 -c '
import json, sys
run = json.load(sys.stdin)
m = {x["key"]: x["value"] for x in run["metrics"]}
keys = ["discovered", "discovered_new", "discovered_changed", "links", "pages_new", "pages_not_modified"]
print("    run %d: " % run["id"] + ", ".join("%s: %d" % (k, m.get(k, 0)) for k in keys))'
}
"$tf" run dags/digital_data_etl.yaml -p site="$site" -p repo="file://$repo_dir" >/dev/null
discovery_metrics
# publish_post SLUG TITLE LEAD DATE: a new page in the copy of the site (the
# chunking post retitled, with a new lead sentence) and its entry at the top of
# the Medium feed.
publish_post() {
  python3 - "$work/site" "$@" <<'PY'
import pathlib, sys
site, slug, title, lead, date = pathlib.Path(sys.argv[1]), *sys.argv[2:]
page = (site / "medium" / "chunking-for-rag.html").read_text()
page = page.replace("Chunk Boundaries Decide What Your RAG System Can Answer", title)
page = page.replace("Every retrieval-augmented generation system I have debugged",
                    lead + " Every retrieval-augmented generation system I have debugged", 1)
(site / "medium" / (slug + ".html")).write_text(page)
feed = site / "medium" / "feed.xml"
entry = f"""  <item>
    <title><![CDATA[{title}]]></title>
    <link>/medium/{slug}.html?source=rss-5f3a9c1e2b7d------2</link>
    <guid isPermaLink="false">https://medium.com/p/{slug}</guid>
    <pubDate>{date}</pubDate>
  </item>
"""
feed.write_text(feed.read_text().replace("  <item>", entry + "  <item>", 1))
PY
}
echo "==> a new post: medium/weekly-crawls-find-new-posts.html and its entry in medium/feed.xml"
publish_post weekly-crawls-find-new-posts "Weekly Crawls That Find New Posts" \
  "A twin is only as current as its last crawl." "Mon, 06 Jan 2025 09:00:00 GMT"
"$tf" run dags/digital_data_etl.yaml -p site="$site" -p repo="file://$repo_dir" >/dev/null
discovery_metrics
echo "    (discovered_new: 1 is the new post; every other feed, sitemap and page answered 304)"

# --- The new post flows on by itself: data triggers -------------------------
# `twinflow scheduler` runs the DAGs' triggers: feature_engineering on new
# documents, generate_datasets on a new cleaned_documents version, training on
# a new instruct_dataset. Started after the first crawl, it first works off
# what earlier runs left waiting; then one more crawl, with one more new post,
# starts exactly one run of each DAG down the chain, and the feature run lists
# the one document it consumed.
runs_settled() {  # waits until no run is queued or running and none started for 8 s (debounce 5 s)
  local last="" same=0
  for _ in $(seq 300); do
    local now
    now="$("$tf" runs --limit 30 --json | python3 -c '
import json, sys
runs = json.load(sys.stdin)
busy = any(r["status"] in ("queued", "running") for r in runs)
print("busy" if busy else " ".join(str(r["id"]) for r in runs))')"
    if [ "$now" != "busy" ] && [ "$now" = "$last" ]; then
      same=$((same + 1))
      [ "$same" -ge 8 ] && return 0
    else
      same=0
    fi
    last="$now"
    sleep 1
  done
  echo "the triggered runs did not settle in 5 minutes; see $work/scheduler.log" >&2
  return 1
}
echo
echo "==> twinflow scheduler --dags-dir dags (in the background): triggers work off what is waiting"
"$tf" scheduler --dags-dir dags >"$work/scheduler.log" 2>&1 &
sched_pid=$!
trap 'kill "$sched_pid" 2>/dev/null || true; cleanup' EXIT
runs_settled
echo "==> another new post, and a crawl: one run of each triggered DAG follows it"
publish_post triggers-keep-a-twin-current "Triggers That Keep a Twin Current" \
  "A scheduler that reacts to new documents keeps the twin current." "Mon, 13 Jan 2025 09:00:00 GMT"
"$tf" run dags/digital_data_etl.yaml -p site="$site" -p repo="file://$repo_dir" >/dev/null
crawl_id="$("$tf" runs --pipeline digital_data_etl --limit 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
discovery_metrics
runs_settled
kill "$sched_pid" 2>/dev/null || true
wait "$sched_pid" 2>/dev/null || true
"$tf" runs --limit 30 --json | python3 -c '
import json, subprocess, sys
crawl = int(sys.argv[1]); tf = sys.argv[2]
after = [r for r in json.load(sys.stdin) if r["id"] > crawl]
for name in ("feature_engineering", "generate_datasets", "training"):
    mine = [r for r in after if r["pipeline"] == name]
    print("    %s: %d run(s) after crawl run %d: %s" % (name, len(mine), crawl,
          ", ".join("%d %s (%s)" % (r["id"], r["status"], r.get("trigger", "")) for r in mine)))
    if name == "feature_engineering" and mine:
        shown = json.loads(subprocess.check_output([tf, "show", str(mine[0]["id"]), "--json"]))
        for e in shown.get("events", []):
            print("      consumed: %s %s (version %s)" % (e["kind"], e.get("url") or e.get("artifact"),
                  e.get("document_version") or e.get("version")))
' "$crawl_id" "$tf"
