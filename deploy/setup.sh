#!/usr/bin/env bash
# Installs every Debian package casenode needs to build, test and run.
# Idempotent and quiet when everything is already present.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libsodium-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev
  libssl-dev openssl
  catch2
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  libsystemd-dev systemd
  prometheus-cpp-dev libcpp-httplib-dev
  libcjose-dev libjansson-dev   # staff sign-in: JWS and JWK (cjose.pc requires jansson)
  libcurl4-openssl-dev          # staff sign-in: HTTPS to the identity provider, URLs
  prometheus  # promtool, for the metrics test
  libbenchmark-dev
  clang libclang-rt-14-dev
  help2man lintian adduser procps init-system-helpers  # the Debian package: man pages, lint, its Depends
  podman runc debootstrap   # the container image, built from a Debian base made here
  iproute2 nftables         # the fault tests' own network namespace and partitions
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm run test tools only (tests/interop, the Kubernetes
# validator): Debian's packages unless a node and npm are already installed
# (another distribution of Node.js would conflict with them).
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
