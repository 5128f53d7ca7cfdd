#!/usr/bin/env bash
# Chromium for the dashboard's browser tests (test/browser), from Debian's chromium package;
# playwright-core drives it (`npx playwright install` cannot download browsers here).
#
#   scripts/chromium.sh          installs it when missing (needs root), prints its path on stdout
#
# FLOTILLA_CHROMIUM points at another binary (then nothing is installed).
set -euo pipefail

log() { echo "[chromium] $*" >&2; }
die() { log "FAILED: $*"; exit 1; }

find_binary() {
  local candidate
  for candidate in "${FLOTILLA_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    [[ -n $candidate && -x $candidate ]] && { echo "$candidate"; return; }
  done
  return 1
}

ensure_installed() {
  find_binary && return
  [[ -z ${FLOTILLA_CHROMIUM:-} ]] || die "FLOTILLA_CHROMIUM=$FLOTILLA_CHROMIUM is not an executable file"
  [[ $(id -u) == 0 ]] || die "Chromium is not installed and installing it needs root: apt-get install chromium (or set FLOTILLA_CHROMIUM)"
  log "installing Debian's chromium package"
  local start=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -qq --no-install-recommends chromium >&2 \
      || { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends chromium >&2; }; } \
    || die "apt-get install chromium failed"
  find_binary || die "chromium installed, but no /usr/bin/chromium"
  log "installed in $((SECONDS - start))s"
}

binary=$(ensure_installed)
"$binary" --version >/dev/null 2>&1 || die "$binary does not run ($binary --version failed)"
echo "$binary"
