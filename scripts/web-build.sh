#!/usr/bin/env bash
# Builds the dashboard (web/, Vite + React) to web/dist, which the API serves at /. Skipped when
# neither web/'s sources nor the lock file changed since the last build (a stamp in web/dist).
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=web/dist/.source-hash
hash=$( { find web -path web/dist -prune -o -path web/node_modules -prune -o -type f -print | LC_ALL=C sort | xargs sha256sum; sha256sum package-lock.json; } | sha256sum | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$hash" && -f web/dist/index.html ]]; then
  exit 0
fi
start=$SECONDS
echo "[setup] building the dashboard (web/) ..." >&2
npx tsc --noEmit -p web/tsconfig.json >&2 || { echo "[setup] FAILED: the dashboard does not type-check (npx tsc --noEmit -p web/tsconfig.json)" >&2; exit 1; }
npx vite build --config web/vite.config.ts >&2 || { echo "[setup] FAILED: the dashboard build (npx vite build --config web/vite.config.ts)" >&2; exit 1; }
echo "$hash" >"$stamp"
echo "[setup] dashboard built in $((SECONDS - start))s (web/dist)" >&2
