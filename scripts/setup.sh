# Sourced by demo.sh and test.sh: installs what is missing (Debian 12, as
# root or with sudo) and builds twinflow into build/. Idempotent: when nothing
# is missing and nothing changed, it costs a few seconds.
set -euo pipefail

TWINFLOW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${TWINFLOW_BUILD_DIR:-$TWINFLOW_ROOT/build}"

PACKAGES=(
  g++ cmake ninja-build pkg-config git ca-certificates curl python3
  libpqxx-dev libpq-dev postgresql libssl-dev libcurl4-openssl-dev libgumbo-dev
  libyaml-dev libspdlog-dev libarmadillo-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcctz-dev tzdata libboost-dev
  slurm-wlm munge
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

build_twinflow() {
  local targets=("$@")
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    cmake -S "$TWINFLOW_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  echo "==> building ${targets[*]:-everything}"
  ninja -C "$BUILD_DIR" "${targets[@]}"
}

install_missing_packages
