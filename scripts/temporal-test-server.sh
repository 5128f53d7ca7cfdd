#!/usr/bin/env bash
# Provisions Temporal's time-skipping test server (the Java one, io.temporal:temporal-test-server
# from Maven Central, with every runtime dependency) into the cache, plus an executable wrapper
# that the TypeScript SDK starts as `<wrapper> <port> [extraArgs...]` through
# `TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } })`.
# The SDK's own default downloads a native build from GitHub, which this project cannot reach.
#
#   scripts/temporal-test-server.sh           provision (idempotent: a `.complete` stamp skips it)
#   scripts/temporal-test-server.sh --path    print the wrapper's path; provisions nothing
#   scripts/temporal-test-server.sh --version print the version it provisions
#
# Needs java (17+) and mvn (Debian: `apt-get install -y maven`). Version: FLOTILLA_TEMPORAL_TEST_SERVER_VERSION;
# cache: FLOTILLA_CACHE (default ~/.cache/flotilla). scripts/toolchain.sh runs this as one of its parts.
set -euo pipefail

CACHE="${FLOTILLA_CACHE:-$HOME/.cache/flotilla}"
VERSION="${FLOTILLA_TEMPORAL_TEST_SERVER_VERSION:-1.38.0}"
# The dependency plugin Maven runs (pinned: Maven 3.8's default is years old).
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
DIR="$CACHE/temporal-test-server/$VERSION"
EXE="$DIR/bin/temporal-test-server"

case "${1:-}" in
  --path) printf '%s\n' "$EXE"; exit 0 ;;
  --version) printf '%s\n' "$VERSION"; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--path|--version]" >&2; exit 2 ;;
esac

log() { printf '[toolchain] %s\n' "$*" >&2; }
die() { printf '[toolchain] FAILED: %s\n' "$*" >&2; exit 1; }
# need CMD DEBIAN_PACKAGE: CMD on PATH, from Debian's package when missing (every image of this
# project ships java and maven; this is for a machine that does not).
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "temporal-test-server: '$1' is missing; installing Debian's $2"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"; } >&2 \
      || die "temporal-test-server: apt-get install $2 failed"
  fi
  command -v "$1" >/dev/null 2>&1 || die "temporal-test-server: '$1' is not on PATH; install $2 (apt-get install -y $2)"
}

if [[ -f "$DIR/.complete" && -x "$EXE" ]]; then
  log "temporal-test-server: cached ($DIR)"
  exit 0
fi

need java openjdk-17-jre-headless
need mvn maven

mkdir -p "$CACHE/logs"
LOGF="$CACHE/logs/temporal-test-server.log"
: >"$LOGF"
TOTAL_START=$SECONDS
log "temporal-test-server: building $VERSION into $DIR (log: $LOGF) ..."
rm -rf "$DIR"
mkdir -p "$DIR"

# run STEP CMD...: one named sub-step, timed; on failure names it, prints the log tail, cleans up.
run() {
  local name="$1" start=$SECONDS; shift
  printf '\n=== %s: %s\n' "$name" "$*" >>"$LOGF"
  # A subshell outside any `if`/`||`: bash ignores errexit inside a condition, which would hide
  # a failing command in the middle of a step.
  local status
  set +e
  ( set -e; "$@" ) >>"$LOGF" 2>&1
  status=$?
  set -e
  if [[ $status != 0 ]]; then
    tail -n 30 "$LOGF" >&2 || true
    rm -rf "$DIR"
    die "temporal-test-server: step '$name' failed after $((SECONDS - start))s; full log: $LOGF"
  fi
  log "temporal-test-server:   $name: $((SECONDS - start))s"
}

JAVA_BIN="$(command -v java)"
JAVA_BIN="$(readlink -f "$JAVA_BIN")"

# 1. A throwaway pom that depends on the test server; Maven resolves its runtime closure.
write_pom() {
  mkdir -p "$DIR/resolve"
  cat >"$DIR/resolve/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>flotilla.local</groupId>
  <artifactId>temporal-test-server-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>$VERSION</version>
    </dependency>
    <!-- Binds the server's SLF4J logging to nothing: no "Failed to load class" lines on every start. -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
POM
}

# 2. Every runtime jar into lib/ (a private local repository, deleted afterwards, keeps ~/.m2 clean).
copy_jars() {
  mvn -B -ntp -f "$DIR/resolve/pom.xml" -Dmaven.repo.local="$DIR/resolve/m2" \
    "$DEPENDENCY_PLUGIN:copy-dependencies" -DincludeScope=runtime -DoutputDirectory="$DIR/lib"
  ls "$DIR"/lib/temporal-test-server-"$VERSION".jar
  rm -rf "$DIR/resolve"
}

# 3. The wrapper. `exec` matters: the SDK stops the server by SIGKILL on the process it started,
#    so that process must be the JVM itself, not a shell that would leave the JVM orphaned.
write_wrapper() {
  mkdir -p "$DIR/bin"
  cat >"$EXE" <<SH
#!/bin/sh
# Temporal's time-skipping test server $VERSION, as the SDK starts it: <this> <port> [extra args].
# Written by scripts/toolchain.sh (scripts/temporal-test-server.sh). FLOTILLA_JAVA overrides the JVM;
# FLOTILLA_TEST_SERVER_JAVA_OPTS adds JVM options.
here=\$(CDPATH= cd -- "\$(dirname -- "\$0")/.." && pwd)
# Watchdog: if the process that started the server (a test run) dies without stopping it, stop
# the server too, so no JVM outlives its test run. After the exec below, \$\$ is the JVM.
parent=\$PPID self=\$\$
( while kill -0 "\$parent" 2>/dev/null && kill -0 "\$self" 2>/dev/null; do sleep 1; done
  kill -9 "\$self" 2>/dev/null ) </dev/null >/dev/null 2>&1 &
cds=
[ -f "\$here/server.jsa" ] && cds="-XX:SharedArchiveFile=\$here/server.jsa -Xshare:auto"
exec "\${FLOTILLA_JAVA:-$JAVA_BIN}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss1m -Xms32m -Xmx512m \$cds \\
  \${FLOTILLA_TEST_SERVER_JAVA_OPTS:-} -cp "\$here/lib/*" io.temporal.testserver.TestServer "\$@"
SH
  chmod +x "$EXE"
}

# wait_for_port PORT PID: true once PORT accepts connections (the JVM up and serving), false if PID dies first.
wait_for_port() {
  local port="$1" pid="$2" i
  for i in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
  || echo $((20000 + RANDOM % 20000)); }

# 4. A class-data-sharing archive of the classes the server loads to start, so every later start
#    maps them instead of parsing ~100 jars: the SDK gives the server only 5 s to answer.
#    The archive is dumped when the JVM exits, so this start ends with SIGTERM (not SIGKILL).
dump_cds() {
  local port pid
  port=$(free_port)
  FLOTILLA_TEST_SERVER_JAVA_OPTS="-XX:ArchiveClassesAtExit=$DIR/server.jsa" "$EXE" "$port" </dev/null &
  pid=$!
  if ! wait_for_port "$port" "$pid"; then
    kill "$pid" 2>/dev/null || true
    echo "the test server did not listen on port $port"
    return 1
  fi
  kill -TERM "$pid"
  wait "$pid" || true
  [[ -s "$DIR/server.jsa" ]] || { echo "no CDS archive was written"; return 1; }
}

# 5. Start the wrapper exactly the way the SDK does and check that it serves.
smoke() {
  local port pid start_ns
  port=$(free_port)
  start_ns=$(date +%s%N)
  "$EXE" "$port" </dev/null &
  pid=$!
  if ! wait_for_port "$port" "$pid"; then
    kill -9 "$pid" 2>/dev/null || true
    echo "the wrapper did not start a server on port $port"
    return 1
  fi
  echo "wrapper listening on $port after $((($(date +%s%N) - start_ns) / 1000000)) ms"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
}

run pom write_pom
run jars copy_jars
run wrapper write_wrapper
run cds dump_cds
run smoke smoke
touch "$DIR/.complete"
log "temporal-test-server: done in $((SECONDS - TOTAL_START))s ($(ls "$DIR/lib" | wc -l) jars, $(du -sh "$DIR" | cut -f1))"
