#!/usr/bin/env bash
# Quick start: installs what a backup needs (rsync, npm dependencies), builds, runs one real backup
# and prints the ring. Usage: bash scripts/quickstart.sh [SOURCE] [TARGET]
#   SOURCE defaults to this checkout; TARGET to ~/shadow-slots-quickstart (created if missing).
# Run it again and the new slot 0 costs only the files that changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source_dir="${1:-$PWD}"
target_dir="${2:-$HOME/shadow-slots-quickstart}"

if ! command -v rsync >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsync >/dev/null
  else
    echo "rsync is not installed. Install it (Debian/Ubuntu: sudo apt install rsync; macOS: brew install rsync) and run this again." >&2
    exit 1
  fi
fi
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
node scripts/build.mjs --quiet

# node_modules and build output are reproducible: keep them out of the slots.
./dist/cli.js backup --source "$source_dir" --target "$target_dir" --create-target \
  --exclude node_modules/ --exclude /dist/ --exclude /.test-output/ --exclude /bench/.work/
echo
./dist/cli.js list --target "$target_dir"
