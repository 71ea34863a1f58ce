#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# edgeshift-cni's host-unique ifindexes for macvlans: the first pod's index
# comes from the host (create, then move); after DEL it is pooled and the
# next pod's macvlan is created straight in the pod with it; an index a
# host link has meanwhile is skipped; DEL then ADD of the same name in the
# same pod works although DEL deletes the link in the background.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cni_lib.bash"
es_require_root "cni ifindex"
cni_require "cni ifindex"
es_plan 7
cni_host || exit 1
conf=$(cni_conf ours macvlan 1.0.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":{}}" '{"dataplane": false}')
idx() {
	local i
	i=$(es_in "$1" ip -j link show dev eth0 2>/dev/null | jq -r '.[0].ifindex')
	echo "${i:-none}"
}
gone() {	# POD: waits (at most 2 s) for the background delete
	local i
	for i in $(seq 200); do [ "$(idx "$1")" = none ] && return 0; sleep 0.01; done
	return 1
}
host_has() { ip -n "$(es_ns host)" -j link | jq --argjson i "$1" 'any(.[]; .ifindex == $i)'; }
cni_pod p1 && cni_pod p2 && cni_pod p3 || exit 1
cni_exec "$CNI_BIN" ADD c1 "$(cni_pod_path p1)" eth0 "$conf" >/dev/null
i1=$(idx p1)
es_expect_eq "first pod: index $i1 allocated by the host, not a host link's" "$(host_has "$i1")" false
cni_exec "$CNI_BIN" DEL c1 "$(cni_pod_path p1)" eth0 "$conf" >/dev/null
es_check "DEL: the link is gone (in the background, within 2 s)" gone p1
# the detached delete returns the index once the kernel's ack came, some
# 20 ms after the link vanished from the pod (an ADD before it, seen once
# in a loaded CI run, takes a new index from the host)
held() { ls "$CNI_STATE/ifindex/used" | wc -l; }
returned() {
	local i
	for i in $(seq 100); do [ "$(held)" = 0 ] && return 0; sleep 0.02; done
	return 1
}
returned
cni_exec "$CNI_BIN" ADD c2 "$(cni_pod_path p2)" eth0 "$conf" >/dev/null
es_expect_eq "second pod: created in the pod with the pooled index" "$(idx p2)" "$i1"
cni_exec "$CNI_BIN" DEL c2 "$(cni_pod_path p2)" eth0 "$conf" >/dev/null
cni_exec "$CNI_BIN" ADD c2 "$(cni_pod_path p2)" eth0 "$conf" >/dev/null
i2=$(idx p2)
es_expect_eq "DEL then ADD at once, same pod and name: the ADD succeeds (index $i2)" \
	"$([ "$i2" != none ] && host_has "$i2")" false
cni_exec "$CNI_BIN" DEL c2 "$(cni_pod_path p2)" eth0 "$conf" >/dev/null
gone p2
# a host link now holds the pooled index: it must not be handed out
ip -n "$(es_ns host)" link add "$(es_ifname x)" index "$i1" type veth peer name "$(es_ifname xp)"
cni_exec "$CNI_BIN" ADD c3 "$(cni_pod_path p3)" eth0 "$conf" >/dev/null
i3=$(idx p3)
es_expect_eq "an index a host link took is skipped (got $i3)" "$([ "$i3" != "$i1" ] && host_has "$i3")" false
es_expect_eq "... and forgotten" "$(find "$CNI_STATE/ifindex" -name "$i1" | wc -l)" 0
cni_exec "$CNI_BIN" DEL c3 "$(cni_pod_path p3)" eth0 "$conf" >/dev/null
gone p3
returned
es_expect_eq "after DEL nothing is held" "$(held)" 0
es_done
