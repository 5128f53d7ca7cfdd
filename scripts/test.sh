#!/usr/bin/env bash
# The whole test suite on a fresh clone: set-up, type check, lint, then the unit tier (no
# servers), the integration tier (real Temporal dev server, real local clusters) and the fault
# suite (the at-scale mode: the Temporal server on PostgreSQL, two workers, two APIs; its own
# fleet behind Toxiproxy, faults injected while operations run).
# The integration tier includes the browser tests (the dashboard in headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash scripts/setup.sh

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

echo "[test] type check" >&2
npx tsc --noEmit -p tsconfig.json
npx tsc --noEmit -p web/tsconfig.json
echo "[test] lint" >&2
npx eslint --max-warnings 0 .

status=0
for tier in unit integration faults; do
  echo "[test] $tier tier" >&2
  if [[ $tier == integration ]]; then
    # The leak scan (test/leak-scan/): every process of the tier records what it printed, stored
    # and answered in this folder, and every secret the tests set; then the scan searches it all.
    export FLOTILLA_LEAK_DIR="$results/leak"
    mkdir -p "$FLOTILLA_LEAK_DIR/logs"
    npx vitest run --project "$tier" --reporter=default --reporter=json --outputFile.json="$results/$tier.json" \
      2>&1 | tee "$FLOTILLA_LEAK_DIR/logs/vitest-integration.log" || status=1
    unset FLOTILLA_LEAK_DIR
    echo "[test] leak scan of the integration tier" >&2
    node --import tsx test/leak-scan/main.ts --require-histories "$results/leak" || status=1
  else
    npx vitest run --project "$tier" --reporter=default --reporter=json --outputFile.json="$results/$tier.json" || status=1
  fi
  [[ $status == 0 ]] || break
done

node scripts/test-summary.mjs "$results"/*.json
echo "[test] finished in $((SECONDS - start))s" >&2
exit $status
