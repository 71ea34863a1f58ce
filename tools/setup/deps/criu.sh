# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Sourced by tools/setup/install-deps (as root). bookworm's criu 3.17 cannot dump
# on kernels with a [vvar_vclock] mapping, so CRIU 4.1.1 is built from the
# upstream tarball Debian's archive carries for trixie (deb-src only: no
# binary package comes from trixie). Does nothing when a working CRIU >= 4.1
# is on PATH with our patches (the stamp records their checksum).
#
# Patch: since Linux 6.16 getsockopt(SO_PASSCRED/SO_PASSSEC) fails with
# EOPNOTSUPP on inet sockets, and 4.1.1 then refuses to dump any process
# with a TCP or UDP socket.
ES_CRIU_VERSION=4.1.1
ES_CRIU_SRC_LIST=/etc/apt/sources.list.d/edgeshift-trixie-src.sources
ES_CRIU_PATCHES=("$(cd "$DEPS_DIR" && pwd)"/criu-*.patch)
ES_CRIU_STAMP=/usr/local/lib/edgeshift/criu.stamp

es_criu_patch_sum() {
	cat "${ES_CRIU_PATCHES[@]}" | sha256sum | awk '{ print $1 }'
}

es_criu_ok() {
	local v
	v=$(criu --version 2>/dev/null | awk '/^Version:/ { print $2 }')
	[ -n "$v" ] || return 1
	printf '4.1\n%s\n' "$v" | sort -V -C || return 1
	[ "$(cat "$ES_CRIU_STAMP" 2>/dev/null)" = "$(es_criu_patch_sum)" ] || return 1
	criu check >/dev/null 2>&1
}

# The trixie source index, reusing the URIs of this machine's apt sources.
es_criu_add_src() {
	local uris
	[ -f "$ES_CRIU_SRC_LIST" ] && return 0
	uris=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	if [ -z "$uris" ] && [ -f /etc/apt/sources.list ]; then
		uris=$(awk '$1 == "deb" && $3 ~ /^bookworm/ { print $2; exit }' /etc/apt/sources.list)
	fi
	if [ -z "$uris" ]; then
		log "criu: cannot find the Debian mirror in the apt sources"
		return 1
	fi
	printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$uris" >"$ES_CRIU_SRC_LIST"
	apt-get update -qq
}

# sha256 of the tarball as listed in the (signature-checked) Sources index.
es_criu_index_sha256() {
	local f
	for f in /var/lib/apt/lists/*_dists_trixie_main_source_Sources*; do
		[ -f "$f" ] || continue
		/usr/lib/apt/apt-helper cat-file "$f" 2>/dev/null |
			awk -v want="criu_$ES_CRIU_VERSION.orig.tar.xz" '
				/^Package: / { pkg = $2 }
				/^Checksums-Sha256:/ { in_sums = (pkg == "criu"); next }
				/^[^ ]/ { in_sums = 0 }
				in_sums && $3 == want && !found { print $1; found = 1 }' || true
	done
}

es_criu_build() {
	local dir want got
	dir=$(mktemp -d /tmp/es-criu.XXXXXX)
	(
		set -e
		cd "$dir"
		apt-get source --download-only -qq criu="$(apt-cache showsrc criu |
			awk '/^Version: 4\.1\.1/ { print $2; exit }')" >/dev/null 2>&1 || true
		[ -f "criu_$ES_CRIU_VERSION.orig.tar.xz" ] || apt-get source --download-only -qq criu >/dev/null 2>&1 || true
		[ -f "criu_$ES_CRIU_VERSION.orig.tar.xz" ]
	) || { log "criu: could not download criu_$ES_CRIU_VERSION.orig.tar.xz"; rm -rf "$dir"; return 1; }
	want=$(es_criu_index_sha256)
	got=$(sha256sum "$dir/criu_$ES_CRIU_VERSION.orig.tar.xz" | awk '{ print $1 }')
	if [ -z "$want" ] || [ "$want" != "$got" ]; then
		log "criu: tarball sha256 $got does not match the Sources index ('$want')"
		rm -rf "$dir"
		return 1
	fi
	log "criu: building $ES_CRIU_VERSION (about 30 s)"
	if ! (cd "$dir" && tar xf "criu_$ES_CRIU_VERSION.orig.tar.xz" &&
	      cd "criu-$ES_CRIU_VERSION" &&
	      for p in "${ES_CRIU_PATCHES[@]}"; do patch -s -p1 <"$p" || exit 1; done &&
	      make -j"$(nproc)" criu >build.log 2>&1 &&
	      install -m 0755 criu/criu /usr/local/sbin/criu); then
		log "criu: build failed:"
		tail -n 15 "$dir/criu-$ES_CRIU_VERSION/build.log" >&2 || true
		rm -rf "$dir"
		return 1
	fi
	rm -rf "$dir"
	mkdir -p "$(dirname "$ES_CRIU_STAMP")"
	es_criu_patch_sum >"$ES_CRIU_STAMP"
	hash -r
}

if ! es_criu_ok; then
	if es_criu_add_src; then
		es_criu_build || true
	fi
	if es_criu_ok; then
		log "criu: $(criu --version | awk '/^Version:/ { print $2 }') installed, criu check passes"
	else
		log "criu: no working CRIU >= 4.1 (criu check: $(criu check 2>&1 | tail -n 1))"
	fi
fi
