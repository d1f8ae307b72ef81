# Sourced by demo.sh and test.sh: installs what is missing (Debian 12, as
# root or with sudo) and builds twinflow into build/. Idempotent: when nothing
# is missing and nothing changed, it costs a few seconds.
set -euo pipefail

TWINFLOW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${TWINFLOW_BUILD_DIR:-$TWINFLOW_ROOT/build}"

PACKAGES=(
  g++ cmake ninja-build lld ccache pkg-config git ca-certificates curl python3
  libpqxx-dev libpq-dev postgresql libssl-dev libcurl4-openssl-dev libgumbo-dev
  libyaml-dev libspdlog-dev libarmadillo-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcctz-dev tzdata libboost-dev
  slurm-wlm munge
  libgraphviz-dev chromium nodejs wrk
  clang libclang-rt-14-dev
  libxml2-dev zlib1g-dev libzip-dev
)

install_missing_packages() {
  local missing=()
  for pkg in "${PACKAGES[@]}"; do
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

install_missing_packages
install_npm_if_missing
install_test_npm_packages tests/browser
install_test_npm_packages tests/cron-diff
