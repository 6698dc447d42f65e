#!/usr/bin/env bash
# Builds casenode's container image from the Debian package, offline (no registry):
#   deploy/container/build-image.sh casenode_VERSION_ARCH.deb [TAG]
# 1. a minimal Debian base (debootstrap minbase, from the mirror apt uses) with
#    only the package's dependencies; apt, its caches, docs and locales removed;
# 2. imported into podman as localhost/casenode-base:bookworm;
# 3. podman build --network=none --pull=never from deploy/container/Containerfile.
# Prints the image's tag. Needs root (debootstrap).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 PACKAGE.deb [TAG]" >&2; exit 2; }
deb=$(realpath "$1")
tag=${2:-localhost/casenode:$(dpkg-deb -f "$deb" Version)}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

# The package's Depends, as package names (versions and alternatives dropped).
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -E 's/\(.*\)//; s/\|.*//; s/[[:space:]]//g' | paste -sd, -)
if ! debootstrap --variant=minbase --include="$deps" bookworm "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -20 "$work/debootstrap.log" >&2
  exit 1
fi
chroot "$work/root" dpkg --purge apt >/dev/null
rm -rf "$work/root"/var/cache/apt "$work/root"/var/lib/apt "$work/root"/var/cache/debconf/*-old \
       "$work/root"/usr/share/doc/* "$work/root"/usr/share/man/* "$work/root"/usr/share/info/* \
       "$work/root"/usr/share/locale/* "$work/root"/var/log/*
tar -C "$work/root" -c . | podman import -q - localhost/casenode-base:bookworm >/dev/null

mkdir "$work/context"
cp "$deb" "$work/context/casenode.deb"
podman build -q --network=none --pull=never --format docker -f "$here/Containerfile" -t "$tag" "$work/context" >/dev/null
echo "$tag"
