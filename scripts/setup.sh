#!/usr/bin/env bash
# Everything a fresh clone needs before it runs: npm packages (from npm's cache in the home
# folder when it has them), the dashboard's build (scripts/web-build.sh, when web/ changed),
# the real binaries (scripts/toolchain.sh, cached by version) and Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v node >/dev/null || { echo "[setup] FAILED: Node.js 20.19+ is not on PATH" >&2; exit 1; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || { echo "[setup] FAILED: Node.js $(node --version) is too old; 20.19 or later is needed" >&2; exit 1; }

# npm ci when node_modules is missing or older than the lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  start=$SECONDS
  echo "[setup] installing npm packages (npm ci) ..." >&2
  npm ci --no-audit --no-fund --prefer-offline --loglevel=error >&2 \
    || { echo "[setup] FAILED: npm ci" >&2; exit 1; }
  echo "[setup] npm packages installed in $((SECONDS - start))s" >&2
fi

bash scripts/toolchain.sh

# The dashboard that the API serves (web/dist); rebuilt only when its sources changed.
bash scripts/web-build.sh

# Chromium for the browser tests (Debian's package; installed when missing and we are root).
bash scripts/chromium.sh >/dev/null
