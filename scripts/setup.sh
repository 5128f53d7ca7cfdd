#!/usr/bin/env bash
# Everything a fresh clone needs before it runs: npm packages (from npm's cache in the home
# folder when it has them), the dashboard's build (scripts/web-build.sh, when web/ changed),
# the real binaries (scripts/toolchain.sh, cached by version) and Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v node >/dev/null || { echo "[setup] FAILED: Node.js 20.19+ is not on PATH" >&2; exit 1; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || { echo "[setup] FAILED: Node.js $(node --version) is too old; 20.19 or later is needed" >&2; exit 1; }

# npm packages, when node_modules is missing or older than the lock file. A fresh clone copies
# them from a cache outside the clone, ~/.cache/flotilla/node_modules/KEY/ (FLOTILLA_CACHE moves
# it), where KEY is the sha256 of package-lock.json plus Node's platform, architecture and module
# ABI (native add-ons such as better-sqlite3 are built for them). A lock the cache has no entry for
# runs `npm ci` as before and then stores its result under the new key, so the next clone copies it.
# The copy is a full copy (`cp -a`, sharing blocks only where the file system can reflink), never
# hard links: tools write into files under node_modules (Vite's and vitest's caches), which must not
# change the cached entry. FLOTILLA_NPM_CACHE=0 turns the cache off (always `npm ci`).
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  start=$SECONDS
  npm_cache_root="${FLOTILLA_CACHE:-$HOME/.cache/flotilla}/node_modules"
  npm_key=$( { sha256sum package-lock.json | cut -d' ' -f1; node -p 'process.platform + "-" + process.arch + "-abi" + process.versions.modules'; } | sha256sum | cut -d' ' -f1)
  npm_cached="$npm_cache_root/$npm_key"
  if [[ ${FLOTILLA_NPM_CACHE:-1} != 0 && -f $npm_cached/.complete && -f $npm_cached/node_modules/.package-lock.json ]]; then
    echo "[setup] copying npm packages from the cache ($npm_cached) ..." >&2
    rm -rf node_modules node_modules.tmp
    cp -a --reflink=auto "$npm_cached/node_modules" node_modules.tmp \
      || { echo "[setup] FAILED: copying $npm_cached/node_modules" >&2; rm -rf node_modules.tmp; exit 1; }
    mv node_modules.tmp node_modules
    # The copy keeps the cached files' times; the lock file of a fresh clone is newer.
    touch node_modules/.package-lock.json
    echo "[setup] npm packages copied from the cache in $((SECONDS - start))s" >&2
  else
    echo "[setup] installing npm packages (npm ci) ..." >&2
    npm ci --no-audit --no-fund --prefer-offline --loglevel=error >&2 \
      || { echo "[setup] FAILED: npm ci" >&2; exit 1; }
    echo "[setup] npm packages installed in $((SECONDS - start))s" >&2
    if [[ ${FLOTILLA_NPM_CACHE:-1} != 0 ]]; then
      # Stored under a temporary name and renamed once complete, so a run that stops half-way,
      # or another clone's setup running at the same time, never leaves a partial entry in use.
      start=$SECONDS
      mkdir -p "$npm_cache_root"
      tmp=$(mktemp -d "$npm_cache_root/.tmp.XXXXXX")
      if cp -a --reflink=auto node_modules "$tmp/node_modules" && touch "$tmp/.complete"; then
        if mv -T "$tmp" "$npm_cached" 2>/dev/null; then
          echo "[setup] npm packages stored in the cache in $((SECONDS - start))s ($npm_cached)" >&2
        else
          rm -rf "$tmp"
        fi
      else
        echo "[setup] warning: could not store the npm packages in the cache ($npm_cached)" >&2
        rm -rf "$tmp"
      fi
      # Entries for locks not used for 30 days are removed.
      find "$npm_cache_root" -mindepth 1 -maxdepth 1 -type d -mtime +30 -exec rm -rf {} + 2>/dev/null || true
    fi
  fi
fi
if [[ -d ${npm_cached:-} ]]; then touch "$npm_cached"; fi

bash scripts/toolchain.sh

# The dashboard that the API serves (web/dist); rebuilt only when its sources changed.
bash scripts/web-build.sh

# Chromium for the browser tests (Debian's package; installed when missing and we are root).
bash scripts/chromium.sh >/dev/null
