#!/usr/bin/env bash
# The whole system on its embedded default: Temporal dev server (SQLite), a local fleet of
# three real clusters, the worker, the API and the dashboard. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npx tsx local/dev.ts
