#!/usr/bin/env bash
# make_repo.sh DEST: builds the sample author's code repository as a real git repository.
#
# The crawler's GitHub side clones repositories with `git clone --depth 1`; tests and the
# offline demo clone this one over file:// instead of reaching GitHub. The working files come
# from sample/repo/; two files that should not live in the project's own history are made here:
# docs/logo.png (a binary) and data/corpus_dump.jsonl (over the crawler's 256 KiB size cap).
#
# The commit has a fixed author, committer and date, and user/system git configuration is
# ignored, so its id is the same on every machine and every run. Rerunning with the same DEST is
# a no-op when DEST already holds this commit; an older build of the sample repository is
# replaced; any other non-empty DEST is refused rather than overwritten. Prints DEST.
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "usage: $0 DEST" >&2
  exit 2
fi
DEST=${1%/}
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/repo"
SUBJECT="chunkwise 0.3.1: cleaning, chunking and search for RAG experiments"

# Isolate git from whoever runs us: no global or system config (signing, hooks, templates).
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME="Ines Calloway" GIT_AUTHOR_EMAIL="ines@calloway.example"
export GIT_COMMITTER_NAME="Ines Calloway" GIT_COMMITTER_EMAIL="ines@calloway.example"
export GIT_AUTHOR_DATE="2024-06-01T12:00:00+00:00" GIT_COMMITTER_DATE="2024-06-01T12:00:00+00:00"
export TZ=UTC LC_ALL=C

# A 16x16 PNG: binary bytes (NUL included) that the crawler must recognise and skip.
LOGO_PNG_BASE64="iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAIklEQVR42mP4gATkohbAES5xhkGogRhFyOKDUcNoPAwKDQCO4/QQwoVSrwAAAABJRU5ErkJggg=="

build_into() {
  local dir=$1
  cp -R "$SOURCE/." "$dir/"
  find "$dir" -name __pycache__ -type d -prune -exec rm -rf {} +
  mkdir -p "$dir/docs" "$dir/data"
  printf '%s' "$LOGO_PNG_BASE64" | base64 -d > "$dir/docs/logo.png"
  # About 330 KiB of JSON Lines: a data dump someone committed by mistake.
  awk 'BEGIN { for (i = 0; i < 3300; i++) print "{\"source\": \"crawl-2024-05\", \"line\": " i ", \"text\": \"Chunk boundaries decide what a RAG system can answer.\"}" }' \
    > "$dir/data/corpus_dump.jsonl"
  find "$dir" -type d -exec chmod 755 {} +
  find "$dir" -type f -exec chmod 644 {} +
  git -C "$dir" init -q -b main
  git -C "$dir" config user.name "$GIT_AUTHOR_NAME"
  git -C "$dir" config user.email "$GIT_AUTHOR_EMAIL"
  git -C "$dir" config core.autocrlf false
  git -C "$dir" add -A
  git -C "$dir" commit -q -m "$SUBJECT"
}

is_sample_repo() {
  [[ -d "$1/.git" ]] && [[ "$(git -C "$1" log -1 --format=%s 2>/dev/null)" == "$SUBJECT" ]]
}

mkdir -p "$(dirname "$DEST")"
TMP=$(mktemp -d "$DEST.building.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
build_into "$TMP"

if [[ ! -e "$DEST" ]] || [[ -d "$DEST" && -z "$(ls -A "$DEST")" ]]; then
  rmdir "$DEST" 2>/dev/null || true
  mv "$TMP" "$DEST"
elif is_sample_repo "$DEST"; then
  if [[ "$(git -C "$DEST" rev-parse HEAD)" != "$(git -C "$TMP" rev-parse HEAD)" ||
        -n "$(git -C "$DEST" status --porcelain)" ]]; then
    rm -rf "$DEST"
    mv "$TMP" "$DEST"
  fi
else
  echo "$0: $DEST exists and is not the sample repository; refusing to overwrite it" >&2
  exit 1
fi
echo "$DEST"
