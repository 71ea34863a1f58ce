#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Sequence translation (es_mig_xlate) on real TCP connections: a user, the
# node, and a container behind it, with the migration programs on the
# users' interface (tcx ingress) and the container's host-side interface.
# A connection given a translation entry before its SYN sees the
# container's sequence numbers and timestamps shifted by the deltas, both
# ways, for its whole life; with checksum offload off on both ends each
# receiver verifies every rewritten checksum, so a wrong one stalls the
# transfer. The entry counts the segments both ways and the close.
. "$(dirname "$0")/../lib.sh"
es_require_root "mig_xlate"
es_plan 12

M=$ES_BUILD/es-migctl
T=$ES_BUILD/es-traffic
PT=$(es_pin_path node)
ES_PINS+=("$PT")
xl_cleanup() {
	"$M" cleanup --pin "$PT" 2>/dev/null
	es_cleanup
}
trap xl_cleanup EXIT

N=10.243
USER=$N.1.2
SVC=$N.4.10
PORT=7400
for ns in u t c; do es_netns_add $ns || exit 1; done
es_no_ipv6 u t c
es_veth u uu $USER t tu $N.1.1 &&
es_veth t tc $N.4.1 c ce $SVC || exit 1
es_in u ip route add default via $N.1.1
es_in c ip route add default via $N.4.1
es_in t sysctl -q -w net.ipv4.ip_forward=1
# full checksums from both senders: each receiver checks what the programs rewrote
es_in u ethtool -K "$(es_ifname uu)" tx off >/dev/null
es_in c ethtool -K "$(es_ifname ce)" tx off >/dev/null

mt() { es_in t "$M" "$@" --pin "$PT"; }
setup() {
	mt load --records 256 && mt config --local $N.1.1 --port 47000 &&
	mt attach --hook usertc --dev "$(es_ifname tu)" && mt attach --hook ctr --dev "$(es_ifname tc)"
}
es_check "programs loaded and attached (users' interface, container's interface)" setup

es_bg --out "$ES_TMP/server.json" es_in c "$T" tcp-server --port $PORT --timeout 60
es_wait_listen c t $PORT
# transfer SPORT: 2 MB up, 1 MB back, from the user's port SPORT
transfer() {
	es_in u "$T" tcp-client --to $SVC --port $PORT --bytes 2000000 --reply-bytes 1000000 \
		--src-port "$1" --timeout 20
}
es_check "a connection without an entry: 2 MB up, 1 MB back" transfer 41001

# Deltas that wrap: the container's ISN is far from what the user is told.
KEY="$USER:41002>$SVC:$PORT/tcp"
es_check "entry added: sequence delta 3000000000, timestamp delta 123456789" \
	mt xlate --session "$KEY" --seq-delta 3000000000 --ts --ts-delta 123456789
es_check "the translated connection: 2 MB up, 1 MB back, every byte accounted" transfer 41002
sleep 0.2
X=$(mt xlate-show --session "$KEY" --json)
es_diag <<<"$X"
jf() { jq -r ".$1" <<<"$X"; }
es_expect_ge "segments translated towards the container" "$(jf in_segs)" 20
es_expect_ge "segments translated towards the user" "$(jf out_segs)" 20
es_expect_eq "both FINs seen, no reset: the connection closed both ways" \
	"$(jf fin_in) $(jf fin_out) $(jf rst)" "true true false"
es_expect_eq "every segment's options walked" "$(jf bad_opts)" 0

# The entry's deltas move nothing while the connection is not translated.
es_check "another user port is not translated" transfer 41003
es_expect_eq "and left the entry's counts alone" \
	"$(mt xlate-show --session "$KEY" --json | jq -r .in_segs)" "$(jf in_segs)"

es_check "entry removed" mt xlate-del --session "$KEY"
cfg_xlate() { bpftool map lookup pinned "$PT/es_mig_config" key 0 0 0 0 -j | jq -r .formatted.value.xlate; }
es_expect_eq "the programs stop looking once no entry is left" "$(cfg_xlate)" 0
es_done
