#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds the read-only image layer of the migration drills' containers into
# an agent's state directory: busybox-static, the es-counter service and
# optional ballast, stored as STATE_DIR/images/DIGEST/rootfs with an
# image.json. DIGEST (sha256 over every path, mode, size and file content)
# names the content, so a target agent can tell whether it already holds
# the image a partial migration needs. Prints the digest.
#
#   es-image.sh --state-dir DIR [--image-mb N] [--ballast usr|random] [--seed N]
#
# Ballast compresses like real content: "usr" copies real binaries and
# libraries from /usr (about 3:1 under zstd), "random" is incompressible.
# It is never zeros, so compression gains measured on it are honest.
set -euo pipefail

state_dir=""
image_mb=0
ballast=usr
seed=1
build=$(cd "$(dirname "$0")/.." && pwd)/build

usage() {
	sed -n 's/^#   //p' "$0" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--state-dir) state_dir=$2; shift 2 ;;
	--image-mb) image_mb=$2; shift 2 ;;
	--ballast) ballast=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	*) usage ;;
	esac
done
[ -n "$state_dir" ] || usage
case "$ballast" in usr|random) ;; *) echo "es-image: --ballast must be usr or random" >&2; exit 2 ;; esac
[[ "$image_mb" =~ ^[0-9]+$ ]] || { echo "es-image: --image-mb must be a number" >&2; exit 2; }
[ -x "$build/es-counter" ] || { echo "es-image: $build/es-counter missing (run make)" >&2; exit 1; }
busybox=$(command -v busybox) || { echo "es-image: busybox-static is not installed" >&2; exit 1; }

mkdir -p "$state_dir/images"
tmp=$(mktemp -d "$state_dir/images/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/rootfs

populate_base() {
	local a
	mkdir -p "$root"/{bin,dev,etc,proc,sys,tmp,data,srv/opaque,usr/local/bin,var/log}
	chmod 1777 "$root/tmp"
	install -m 0755 "$busybox" "$root/bin/busybox"
	for a in $("$busybox" --list); do
		[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
	done
	install -m 0755 "$build/es-counter" "$root/usr/local/bin/es-counter"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
	printf 'root:x:0:\n' >"$root/etc/group"
	printf 'edgeshift-drill\n' >"$root/etc/hostname"
	# Fixtures of the writable-layer checks: a file the container deletes
	# (a whiteout) and a directory it replaces (an opaque directory).
	printf 'from the image layer\n' >"$root/etc/es-image-file"
	printf 'one\n' >"$root/srv/opaque/one"
	printf 'two\n' >"$root/srv/opaque/two"
}

# Real binaries from /usr, in a stable order, until the target size (one
# find and one tar: thousands of files, no process per file).
ballast_usr() {
	local want=$1 list=$tmp/ballast.list have
	find /usr/lib /usr/bin /usr/share -xdev -type f -size +4k -size -8M -printf '%s\t%p\0' |
		LC_ALL=C sort -z -t "$(printf '\t')" -k2 |
		awk -v RS='\0' -v ORS='\0' -F '\t' -v want="$want" -v sum="$tmp/ballast.sum" '
			have + $1 <= want && want - have >= 4096 { have += $1; print $2 }
			END { printf "%d\n", have > sum }' >"$list"
	have=$(cat "$tmp/ballast.sum")
	if [ "$have" -lt $((want * 9 / 10)) ]; then
		echo "es-image: /usr holds only $((have >> 20)) MB of ballast" >&2
		exit 1
	fi
	mkdir -p "$root/opt/ballast"
	tar -cf - --null -T "$list" 2>/dev/null | tar -xf - -C "$root/opt/ballast"
	rm -f "$list" "$tmp/ballast.sum"
}

# Seeded pseudo-random bytes (AES-CTR keystream where openssl exists).
ballast_random() {
	mkdir -p "$root/opt/ballast"
	if command -v openssl >/dev/null; then
		head -c "$1" < <(openssl enc -aes-128-ctr -nosalt -pass "pass:es-image-$seed" \
			-in /dev/zero 2>/dev/null) >"$root/opt/ballast/random.bin"
	else
		head -c "$1" /dev/urandom >"$root/opt/ballast/random.bin"
	fi
}

digest_of() {
	(
		cd "$1"
		find . -printf '%p %m %s %y %l\n' | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
	) | sha256sum | awk '{ print $1 }'
}

populate_base
base=$(du -sb "$root" | awk '{ print $1 }')
want=$((image_mb * 1048576 - base))
if [ "$want" -gt 0 ]; then
	"ballast_$ballast" "$want"
fi
digest=$(digest_of "$root")
size=$(du -sb "$root" | awk '{ print $1 }')
printf '{"digest":"%s","size_bytes":%s,"ballast":"%s"}\n' "$digest" "$size" "$ballast" >"$tmp/image.json"
if [ -d "$state_dir/images/$digest" ]; then
	rm -rf "$tmp"
else
	mv "$tmp" "$state_dir/images/$digest"
fi
echo "$digest"
