#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `make image`: the agent's container image, built from this machine's
# Debian packages only (no registry is asked for anything): the project's
# binaries (edgeshiftd, edgeshift) and every library ldd names for them,
# with their Debian paths, in an image made `buildah from scratch`. Its name
# is the one deploy/edgeshiftd-daemonset.yaml runs, so the two cannot drift.
#
#   tools/image/build.sh [--build DIR] [--tag NAME:TAG] [--archive FILE]
#
# The image lands in the local containers storage (podman images); with
# --archive it is also written as an OCI archive for nodes without this
# storage (`ctr -n k8s.io images import`, `podman load`; docs/operations.md).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build
TAG=""
ARCHIVE=""
while [ $# -gt 0 ]; do
	case "$1" in
	--build) BUILD=$2; shift 2 ;;
	--tag) TAG=$2; shift 2 ;;
	--archive) ARCHIVE=$2; shift 2 ;;
	-h|--help) sed -n 's/^#   //p' "$0" >&2; exit 0 ;;
	*) echo "image: unknown argument $1" >&2; exit 2 ;;
	esac
done
die() { echo "image: $*" >&2; exit 1; }
command -v buildah >/dev/null || die "buildah missing (bash tools/setup/install-deps)"
[ -n "$TAG" ] || TAG=$(awk '$1 == "image:" { print $2; exit }' "$ROOT/deploy/edgeshiftd-daemonset.yaml")
[ -n "$TAG" ] || die "no image named in deploy/edgeshiftd-daemonset.yaml"
BINS=("$BUILD/edgeshiftd:/usr/sbin/edgeshiftd" "$BUILD/edgeshift:/usr/bin/edgeshift")

rootfs=$BUILD/image/rootfs
rm -rf "$rootfs"
mkdir -p "$rootfs"/{etc/edgeshift,tmp,run,var/lib/edgeshift,sys/fs/bpf,proc,dev}
chmod 1777 "$rootfs/tmp"
for b in "${BINS[@]}"; do
	[ -x "${b%%:*}" ] || die "${b%%:*} missing (make)"
	install -D -m 0755 "${b%%:*}" "$rootfs${b#*:}"
done
# every library the dynamic loader resolves, and the loader itself, at the
# path it was found (Debian's multiarch directories are the loader's own);
# with them the libraries a program opens itself (dlopen: libcurl, see
# lib/http/http_client.c), named as string constants in the binaries
resolved() { awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'; }
opened=$(for b in "${BINS[@]}"; do strings "${b%%:*}"; done |
	grep -xE 'lib[A-Za-z0-9_+-]+\.so(\.[0-9]+)*' | sort -u |
	while read -r l; do
		# awk reads to the end: leaving early would kill ldconfig with SIGPIPE,
		# and pipefail would make that the build's exit status (141) under load
		ldconfig -p | awk -v l="$l" '!found && $1 == l && $NF ~ /^\// { print $NF; found = 1 }'
	done)
libs=$( { for b in "${BINS[@]}" $opened; do ldd "${b%%:*}"; done | resolved; echo "$opened"; } |
	grep . | sort -u)
for l in $libs; do
	mkdir -p "$rootfs$(dirname "$l")"
	cp -L "$l" "$rootfs$l"
done
# the packages those libraries come from, for the image's record
pkgs=$(for l in $libs; do dpkg -S "$(readlink -f "$l")" 2>/dev/null || dpkg -S "$l" 2>/dev/null; done |
	cut -d: -f1 | sort -u | tr '\n' ' ')
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"

ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah copy --quiet "$ctr" "$rootfs" / >/dev/null
buildah config --env PATH=/usr/sbin:/usr/bin --entrypoint '[]' --cmd edgeshiftd \
	--label org.opencontainers.image.title=edgeshiftd \
	--label org.opencontainers.image.version="${TAG##*:}" \
	--label org.opencontainers.image.revision="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	--label io.edgeshift.debian-packages="$pkgs" "$ctr"
buildah commit --quiet --rm "$ctr" "$TAG" >/dev/null
trap - EXIT
if [ -n "$ARCHIVE" ]; then
	rm -f "$ARCHIVE"
	buildah push --quiet "$TAG" "oci-archive:$ARCHIVE:$TAG" >/dev/null
fi
echo "$TAG"
