#!/usr/bin/env bash
# Installs schemathesis into a venv under the Flotilla cache (reused on later runs) and runs
# `st` with the given arguments. `scripts/schemathesis.sh --path` prints the `st` path only.
set -euo pipefail

VERSION="${FLOTILLA_SCHEMATHESIS_VERSION:-4.32.5}"
CACHE="${FLOTILLA_CACHE:-$HOME/.cache/flotilla}"
DIR="$CACHE/schemathesis/$VERSION"
ST="$DIR/venv/bin/st"

if [[ ! -f "$DIR/.complete" || ! -x "$ST" ]]; then
  mkdir -p "$CACHE/logs"
  log="$CACHE/logs/schemathesis.log"
  echo "[schemathesis] installing $VERSION into $DIR" >&2
  rm -rf "$DIR"
  mkdir -p "$DIR"
  if ! { python3 -m venv "$DIR/venv" \
      && "$DIR/venv/bin/pip" install --disable-pip-version-check -q "schemathesis==$VERSION" \
      && "$ST" --version; } >"$log" 2>&1; then
    echo "[schemathesis] install failed; see $log" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  touch "$DIR/.complete"
fi

if [[ "${1:-}" == "--path" ]]; then
  echo "$ST"
  exit 0
fi
exec "$ST" "$@"
