#!/usr/bin/env bash
# The whole test suite on a fresh clone: set-up, type check, lint, then the unit tier (no
# servers), the integration tier (real Temporal dev server, real local clusters) and the fault
# suite (its own Temporal server and fleet behind Toxiproxy, faults injected while operations run).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash scripts/setup.sh

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

echo "[test] type check" >&2
npx tsc --noEmit -p tsconfig.json
echo "[test] lint" >&2
npx eslint --max-warnings 0 .

status=0
for tier in unit integration faults; do
  echo "[test] $tier tier" >&2
  npx vitest run --project "$tier" --reporter=default --reporter=json --outputFile.json="$results/$tier.json" || status=1
  [[ $status == 0 ]] || break
done

node scripts/test-summary.mjs "$results"/*.json
echo "[test] finished in $((SECONDS - start))s" >&2
exit $status
