#!/usr/bin/env bash
# Installs everything building and testing otelscope needs on Debian/Ubuntu: system packages,
# the wasm32 toolchain (rustup target, or Debian's rustc-web with build-std as a fallback),
# wasm-bindgen-cli at the exact version in Cargo.lock, and a Python venv with the
# OpenTelemetry Python SDK for the end-to-end tests. Idempotent, and quick when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
log() { printf 'setup: %s\n' "$*" >&2; }

# --- System packages -------------------------------------------------------------------------
packages=(
  pkg-config libssl-dev            # native TLS for reqwest users of the server crate
  libwebkit2gtk-4.1-dev libxdo-dev # the desktop window (wry/tao); -lxdo is linked at the end
  chromium chromium-driver         # the web end-to-end tests
  xvfb xauth xdotool imagemagick   # the desktop end-to-end test: a real window, found and shot
  redis-server                     # the demo's L2 (`serve --demo`) and its end-to-end test
  clickhouse-server                # the ClickHouse store's tests (tests/support/clickhouse.rs), 18.16
  nodejs                           # binaryen's wasm-opt for the web bundle (an npm package)
)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- The wasm32 toolchain ----------------------------------------------------------------------
# scripts/build-web.sh reads target/.wasm-toolchain to know which one to use.
mkdir -p target
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown ||
  { rustup target add wasm32-unknown-unknown >/dev/null 2>&1 && log "added the rustup wasm32-unknown-unknown target"; }; then
  # The standard library's source lets scripts/build-web.sh rebuild std for size (build-std);
  # without it the bundle still builds, only larger.
  if rustup component list --installed 2>/dev/null | grep -q '^rust-src' ||
    rustup component add rust-src >/dev/null 2>&1; then
    echo rustup-build-std > target/.wasm-toolchain
  else
    log "rustup cannot add rust-src; the web bundle is built without build-std (larger)"
    echo rustup > target/.wasm-toolchain
  fi
else
  log "rustup cannot add wasm32; falling back to Debian's rustc-web with build-std"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rustc-web cargo-web rust-web-src lld-19 >/dev/null
  echo debian > target/.wasm-toolchain
fi

# --- wasm-bindgen-cli, pinned to Cargo.lock ----------------------------------------------------
want=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/[^0-9.]/, "", $0); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  log "installing wasm-bindgen-cli $want (found '${have:-none}')"
  # Not --locked: its lock file names a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$want" >/dev/null
fi

# --- wasm-split-cli, pinned: splits the lazily loaded pages out of the web bundle (build-web.sh)
split_cli=0.2.4
# (The binary has no --version; cargo's list of installed packages says which one it is.)
if ! command -v wasm-split-cli >/dev/null || ! cargo install --list | grep -qx "wasm_split_cli_support v$split_cli:"; then
  log "installing wasm-split-cli $split_cli"
  cargo install --locked wasm_split_cli_support --version "=$split_cli" --features build-binary >/dev/null
fi

# --- wasm-opt (npm `binaryen`) and terser (minifies wasm-bindgen's JS), pinned, for build-web.sh
binaryen=132.0.0
terser=5.51.4
# Some nodejs builds bring npm along; Debian's does not.
command -v npm >/dev/null || sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
if ! grep -qs "\"version\": \"$binaryen\"" target/node/node_modules/binaryen/package.json; then
  log "installing binaryen $binaryen (wasm-opt) into target/node"
  npm install --prefix target/node --no-audit --no-fund --silent "binaryen@$binaryen" >/dev/null
fi
if ! grep -qs "\"version\": \"$terser\"" target/node/node_modules/terser/package.json; then
  log "installing terser $terser into target/node"
  npm install --prefix target/node --no-audit --no-fund --silent "terser@$terser" >/dev/null
fi
# axe-core (the accessibility checker tests/a11y.rs runs in Chromium over every view), pinned.
axe=4.14.1
if ! grep -qs "\"version\": \"$axe\"" target/node/node_modules/axe-core/package.json; then
  log "installing axe-core $axe into target/node"
  npm install --prefix target/node --no-audit --no-fund --silent "axe-core@$axe" >/dev/null
fi

# --- The OpenTelemetry Python SDK for tests/python_sdk.rs --------------------------------------
venv=target/py-venv
if ! cmp -s tests/python/requirements.txt "$venv/.requirements" 2>/dev/null; then
  log "creating $venv with the OpenTelemetry Python SDK"
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    /usr/bin/python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/python/requirements.txt
  cp tests/python/requirements.txt "$venv/.requirements"
fi

# --- The OpenTelemetry JS SDK (metrics, OTLP/HTTP protobuf) for tests/metrics_ui.rs -------------
node_sdk=target/node-sdk
if ! cmp -s tests/node/package.json "$node_sdk/.package.json" 2>/dev/null; then
  log "installing the OpenTelemetry JS SDK into $node_sdk"
  rm -rf "$node_sdk" && mkdir -p "$node_sdk"
  cp tests/node/package.json "$node_sdk/package.json"
  npm install --prefix "$node_sdk" --no-audit --no-fund --silent >/dev/null
  cp tests/node/package.json "$node_sdk/.package.json"
fi
