#!/usr/bin/env bash
# Installs what replscope needs, skipping whatever is already present.
#   scripts/install.sh web    toolchain to build and serve the playground
#   scripts/install.sh test   everything the test suite needs (includes web)
# Every step checks before it installs, so running this twice is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock 2>/dev/null || true)
WASM_BINDGEN_VERSION=${WASM_BINDGEN_VERSION:-0.2.130}
TRUNK_VERSION=0.22.1
GECKODRIVER_VERSION=0.37.1

say() { printf '[install] %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated -eq 0 ]; then
    say "apt-get update"; DEBIAN_FRONTEND=noninteractive apt-get update -qq; apt_updated=1
  fi
  say "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_web() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown \
    || { say "rustup target add wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown; }
  # The test command checks formatting and lints before anything else.
  for component in rustfmt clippy; do
    rustup component list --installed | grep -q "^$component" \
      || { say "rustup component add $component"; rustup component add "$component"; }
  done
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    # No --locked: the CLI's own lockfile does not build with this toolchain.
    say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    cargo install -q --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
  if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
    # trunk 0.22 needs a newer rustc than stable; nightly is preinstalled.
    say "cargo +nightly install trunk $TRUNK_VERSION (takes ~10 min once)"
    cargo +nightly install -q --locked --force trunk --version "$TRUNK_VERSION"
  fi
  if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ]; then
    say "npm ci (binaryen wasm-opt, playwright-core, axe-core)"
    npm ci --silent --no-audit --no-fund
  fi
}

install_test() {
  install_web
  # brotli: the test command reports the page's size under Brotli beside gzip.
  # tcl: Redis's own test suite (scripts/redis-suite.sh), which also drives redis-tools.
  apt_install redis-server redis-tools chromium chromium-driver firefox-esr brotli tcl
  if [ "$(geckodriver --version 2>/dev/null | head -1 | awk '{print $2}')" != "$GECKODRIVER_VERSION" ]; then
    say "cargo install geckodriver $GECKODRIVER_VERSION"
    cargo install -q --force geckodriver --version "$GECKODRIVER_VERSION"
  fi
}

case "${1:-test}" in
  web) install_web ;;
  test) install_test ;;
  *) echo "usage: $0 web|test" >&2; exit 2 ;;
esac
