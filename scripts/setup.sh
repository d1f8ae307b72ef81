# Sourced by demo.sh and test.sh: installs what the build needs and is missing
# (Debian 12, as root or with sudo), defines build_twinflow (into build/) and
# install_test_prerequisites (test.sh calls it). Idempotent: when nothing
# is missing and nothing changed, it costs a few seconds.
set -euo pipefail

TWINFLOW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${TWINFLOW_BUILD_DIR:-$TWINFLOW_ROOT/build}"

# What the build and the main job need (scripts/demo.sh installs only these).
# GoogleTest and Google Benchmark are small source packages: the same
# configure serves the demo and the tests.
BUILD_PACKAGES=(
  g++ cmake ninja-build lld ccache pkg-config git ca-certificates curl python3
  libpqxx-dev libpq-dev postgresql libssl-dev libcurl4-openssl-dev libgumbo-dev
  libyaml-dev libspdlog-dev libarmadillo-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcctz-dev tzdata libboost-dev
  libgraphviz-dev libxml2-dev zlib1g-dev libzip-dev libstemmer-dev
)
# What only the tests add: a Slurm cluster, headless Chromium and Node.js for
# the browser tests, wrk for the HTTP benchmark, clang for the fuzzers.
TEST_PACKAGES=(
  slurm-wlm munge
  chromium nodejs wrk
  clang libclang-rt-14-dev
)

# install_missing_packages PACKAGE...: apt-get installs those not installed.
install_missing_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# npm comes with nodejs from some sources (which then conflicts with Debian's
# npm package): only a machine without the command gets the package.
install_npm_if_missing() {
  command -v npm >/dev/null && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "==> installing: npm"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm
}

# The npm packages of a test folder, installed from its lock and reinstalled
# only when the lock changed: tests/browser (playwright-core, which drives the
# system's Chromium and downloads no browser) and tests/cron-diff (cron-parser,
# pinned, for the cron differential test).
install_test_npm_packages() {
  local dir="$TWINFLOW_ROOT/$1"
  local stamp="$dir/node_modules/.package-lock.sha256"
  local want
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  echo "==> npm ci in $1"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$stamp"
}

build_twinflow() {
  local targets=("$@")
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    cmake -S "$TWINFLOW_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  echo "==> building ${targets[*]:-everything}"
  ninja -C "$BUILD_DIR" "${targets[@]}"
}

# install_test_prerequisites: what test.sh needs beyond the build.
install_test_prerequisites() {
  install_missing_packages "${TEST_PACKAGES[@]}"
  install_npm_if_missing
  install_test_npm_packages tests/browser
  install_test_npm_packages tests/cron-diff
}

install_missing_packages "${BUILD_PACKAGES[@]}"
