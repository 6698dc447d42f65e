#!/usr/bin/env bash
# Builds casenode's container image from the Debian package, with no registry:
#   deploy/container/build-image.sh casenode_VERSION_ARCH.deb [TAG]
# 1. a minimal Debian bookworm base (debootstrap minbase) holding only the
#    package's dependencies, brought up to date from this machine's apt
#    sources (so bookworm-security and -updates too); then apt, its sources,
#    caches, docs, locales, the host's resolv.conf and hostname are removed,
#    and no file keeps a setuid or setgid bit;
# 2. imported into podman under a tag of this run's own;
# 3. podman build --network=none --pull=never from deploy/container/Containerfile,
#    after which the base's tag is removed.
# MIRROR overrides the Debian mirror debootstrap uses (default: the one apt
# uses for bookworm). Prints the image's tag. Needs root (debootstrap, chroot).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 PACKAGE.deb [TAG]" >&2; exit 2; }
deb=$(realpath "$1")
tag=${2:-localhost/casenode:$(dpkg-deb -f "$deb" Version)}
here=$(cd "$(dirname "$0")" && pwd)
base="localhost/casenode-base:build-$$-$(date +%s)"
work=$(mktemp -d "${TMPDIR:-/var/tmp}/casenode-image.XXXXXX")
cleanup() {
  for m in proc sys dev; do umount -l "$work/root/$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$work"
  podman rmi -f "$base" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The mirror of the first deb822 stanza (or sources.list line) for plain bookworm.
mirror=${MIRROR:-$(awk '
  /^Types:/ { deb = ($0 ~ /(^|[ \t])deb([ \t]|$)/) }
  /^URIs:/ { uri = $2 }
  /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") suite = 1 }
  /^$/ { if (deb && suite && uri ~ /^https?:/) { print uri; exit } deb = suite = 0; uri = "" }
  END { if (deb && suite && uri ~ /^https?:/) print uri }' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)}
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' \
  /etc/apt/sources.list 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

# The package's Depends, as package names (versions and alternatives dropped).
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -E 's/\(.*\)//; s/\|.*//; s/[[:space:]]//g' | paste -sd, -)
root="$work/root"
if ! debootstrap --variant=minbase --include="$deps" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -20 "$work/debootstrap.log" >&2
  exit 1
fi
# Security and point-release updates, from the sources apt uses here.
rm -f "$root/etc/apt/sources.list"
cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null ||
  cp /etc/apt/sources.list "$root/etc/apt/sources.list"
if ! { chroot "$root" apt-get update -qq && DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -y -qq upgrade; } \
    >"$work/upgrade.log" 2>&1; then
  tail -20 "$work/upgrade.log" >&2
  exit 1
fi
chroot "$root" dpkg --purge apt >/dev/null
rm -rf "$root"/etc/apt "$root"/var/cache/apt "$root"/var/lib/apt "$root"/var/cache/debconf/*-old \
       "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
       "$root"/var/log/* "$root"/etc/resolv.conf "$root"/etc/hostname
find "$root" -xdev -type f -perm /6000 -exec chmod ug-s {} +
tar -C "$root" -c . | podman import -q - "$base" >/dev/null

mkdir "$work/context"
cp "$deb" "$work/context/casenode.deb"
podman build -q --network=none --pull=never --format docker --build-arg "BASE=$base" \
  -f "$here/Containerfile" -t "$tag" "$work/context" >/dev/null
echo "$tag"
