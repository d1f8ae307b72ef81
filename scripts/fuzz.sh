#!/usr/bin/env bash
# Builds the libFuzzer target for the HTML extractor with clang (AddressSanitizer
# and UndefinedBehaviorSanitizer on) and runs it for FUZZ_SECONDS (default 30),
# seeded with the bundled sample pages. Skipped, with a note, when clang is
# absent: libFuzzer ships with clang only. Crashes are saved under build/fuzz/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${TWINFLOW_BUILD_DIR:-$root/build}/fuzz"
seconds="${FUZZ_SECONDS:-30}"
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ not installed, skipping the extractor fuzzer"
  exit 0
fi
mkdir -p "$out/corpus"
cp "$root"/sample/site/*/*.html "$out/corpus/" 2>/dev/null || true
cd "$root"
if [ ! -x "$out/html_extractor_fuzz" ] || [ -n "$(find tasks/extract tasks/text fuzz -newer "$out/html_extractor_fuzz" -name '*.[ch]*' | head -1)" ]; then
  echo "fuzz: building html_extractor_fuzz"
  clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
    fuzz/html_extractor_fuzz.cc tasks/extract/*.cc tasks/text/*.cc util/error.cc \
    $(pkg-config --cflags --libs gumbo) -o "$out/html_extractor_fuzz"
fi
echo "fuzz: running html_extractor_fuzz for ${seconds}s"
"$out/html_extractor_fuzz" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
  -rss_limit_mb=2048 -artifact_prefix="$out/" -print_final_stats=1 "$out/corpus" 2>&1 | tail -15
