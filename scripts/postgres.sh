#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests, from Debian's postgresql package.
#
#   scripts/postgres.sh start [DATA_DIR]   starts one; prints its postgres:// URL on stdout
#   scripts/postgres.sh stop DATA_DIR      stops it and deletes DATA_DIR
#
# The server listens on 127.0.0.1 on a free port, trusts local connections, and runs with
# fsync off: fast, and only fit for data nobody needs. initdb refuses to run as root, so as
# root the server runs as the `postgres` user (or a dedicated `flotilla-pg` user).
set -euo pipefail

log() { echo "[postgres] $*" >&2; }
die() { log "error: $*"; exit 1; }

find_bindir() {
  local dir
  if command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x $dir/pg_ctl ]] && { echo "$dir"; return; }
  done
  return 1
}

ensure_installed() {
  find_bindir && return
  [[ $(id -u) == 0 ]] || die "PostgreSQL is not installed and installing it needs root: apt-get install postgresql"
  log "installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2 || die "apt-get install postgresql failed"
  find_bindir || die "postgresql installed, but no pg_ctl under /usr/lib/postgresql/*/bin"
}

# Who runs the server: ourselves, or an unprivileged user when we are root.
server_user() {
  if [[ $(id -u) != 0 ]]; then id -un; return; fi
  if id postgres >/dev/null 2>&1; then echo postgres; return; fi
  id flotilla-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin flotilla-pg
  echo flotilla-pg
}

as_user() {
  local user=$1; shift
  if [[ $user == "$(id -un)" ]]; then "$@"; else runuser -u "$user" -- "$@"; fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

start() {
  local bindir user dir port attempt
  bindir=$(ensure_installed)
  user=$(server_user)
  dir=${1:-$(mktemp -d /tmp/flotilla-pg.XXXXXX)}
  mkdir -p "$dir"
  [[ -z $(ls -A "$dir") ]] || die "$dir is not empty"
  chmod 700 "$dir"
  chown "$user" "$dir"
  as_user "$user" "$bindir/initdb" -D "$dir/data" -U flotilla --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { tail -20 "$dir/initdb.log" >&2; die "initdb failed (log: $dir/initdb.log)"; }
  # A port picked here can be taken before the server binds it: try a few.
  for attempt in 1 2 3; do
    port=$(free_port)
    if as_user "$user" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >&2; then
      as_user "$user" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U flotilla flotilla || die "createdb failed"
      echo "$port" >"$dir/port"
      log "running on 127.0.0.1:$port (data in $dir); stop with: $0 stop $dir"
      echo "postgres://flotilla:flotilla@127.0.0.1:$port/flotilla"
      return
    fi
    log "start attempt $attempt on port $port failed"
  done
  tail -20 "$dir/server.log" >&2 || true
  die "PostgreSQL did not start (log: $dir/server.log)"
}

stop() {
  local dir=${1:?usage: $0 stop DATA_DIR} bindir user
  [[ -d $dir/data ]] || die "$dir holds no server"
  bindir=$(find_bindir) || die "pg_ctl not found"
  user=$(stat -c %U "$dir")
  as_user "$user" "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || log "pg_ctl stop failed; deleting $dir anyway"
  rm -rf "$dir"
}

case ${1:-} in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) echo "usage: $0 start [DATA_DIR] | stop DATA_DIR" >&2; exit 2 ;;
esac
