#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# edgeshift-cni macvlan pods: traffic as the mode allows, CHECK, DEL
# idempotence, and fifty ADDs in parallel on one host-local network.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cni_lib.bash"
es_require_root "cni macvlan"
cni_require "cni macvlan"
es_plan 18
cni_host || exit 1
ip -n "$(es_ns host)" addr add 10.90.0.1/24 dev "$CNI_MASTER"
ip -n "$(es_ns wire)" addr add 10.90.0.254/24 dev "$(es_ifname m0p)"

net() {	# MODE: a config on a host-local range of its own per mode
	cni_conf ours macvlan 1.1.0 "{\"master\":\"$CNI_MASTER\",\"mode\":\"$1\",
		\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.90.0.0/24\",\"rangeStart\":\"10.90.0.10\",
		\"dataDir\":\"$ES_TMP/hl-$1\"}}"
}
add() {	# CONF POD CID: ADD, prints the pod's address (nothing when ADD failed)
	local out
	out=$(cni_exec "$CNI_BIN" ADD "$3" "/run/netns/$(es_ns "$2")" eth0 "$1") || return 1
	jq -r '.ips[0].address // empty' <<<"$out" | cut -d/ -f1
}
ping1() { es_in "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 && echo yes || echo no; }

for mode in bridge private; do
	conf=$(net $mode)
	cni_pod "a$mode" >/dev/null && cni_pod "b$mode" >/dev/null
	A=$(add "$conf" "a$mode" "ca$mode"); B=$(add "$conf" "b$mode" "cb$mode")
	# without both, "no" below would pass for want of a pod
	es_expect_eq "$mode: both ADDs gave an address" "${A:+a}${B:+b}" ab
	want=yes; [ $mode = private ] && want=no
	es_expect_eq "$mode: pod to pod ($A -> $B)" "$(ping1 "a$mode" "$B")" "$want"
	es_expect_eq "$mode: pod to the wire behind the master" "$(ping1 "a$mode" 10.90.0.254)" yes
	es_expect_eq "$mode: pod to the master's own host address" "$(ping1 "a$mode" 10.90.0.1)" no
done

conf=$(net bridge)
P=/run/netns/$(es_ns abridge)
prev=$(cni_exec "$CNI_BIN" ADD ca2 "$P" eth1 "$conf")
chk=$(jq -c --argjson r "$prev" '. + {prevResult: $r}' <<<"$conf")
es_check "CHECK passes on a good pod" cni_exec "$CNI_BIN" CHECK ca2 "$P" eth1 "$chk"
addr=$(jq -r '.ips[0].address' <<<"$prev")
es_in abridge ip addr del "$addr" dev eth1
out=$(cni_exec "$CNI_BIN" CHECK ca2 "$P" eth1 "$chk")
es_expect_eq "CHECK fails with code 111 (differs from prevResult) naming the missing address" \
	"$(jq -r '"\(.code) \(.msg | test("address"))"' <<<"$out")" "111 true"
es_check "DEL" cni_exec "$CNI_BIN" DEL ca2 "$P" eth1 "$conf"
es_check "DEL again (idempotent)" cni_exec "$CNI_BIN" DEL ca2 "$P" eth1 "$conf"
es_check "DEL with a missing netns" cni_exec "$CNI_BIN" DEL ca3 "/run/netns/nonexistent-$ES_PREFIX" eth0 "$conf"
es_expect_eq "address released on DEL" "$(grep -rl ca2 "$ES_TMP/hl-bridge" 2>/dev/null | wc -l)" 0

# fifty ADDs in parallel on one network, one pod namespace each
conf=$(cni_conf ours macvlan 1.0.0 "{\"master\":\"$CNI_MASTER\",\"mode\":\"bridge\",
	\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.91.0.0/24\",\"dataDir\":\"$ES_TMP/hl-par\"}}")
for i in $(seq 50); do cni_pod "p$i" >/dev/null || exit 1; done
for i in $(seq 50); do
	cni_exec "$CNI_BIN" ADD "par$i" "/run/netns/$(es_ns "p$i")" eth0 "$conf" >"$ES_TMP/par$i.json" &
done
wait
ok=0; addrs=()
for i in $(seq 50); do
	a=$(jq -r '.ips[0].address // empty' "$ES_TMP/par$i.json" 2>/dev/null)
	l=$(es_in "p$i" ip -j addr show dev eth0 2>/dev/null | jq -r '.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"')
	[ -n "$a" ] && [ "$a" = "$l" ] && ok=$((ok + 1)) && addrs+=("$a")
done
es_expect_eq "50 parallel ADDs: 50 links carry their result's address" "$ok" 50
es_expect_eq "50 parallel ADDs: 50 distinct addresses" "$(printf '%s\n' "${addrs[@]}" | sort -u | wc -l)" 50
es_expect_eq "pod 1 reaches pod 50" "$(ping1 p1 "${addrs[49]%/*}")" yes
for i in $(seq 50); do
	cni_exec "$CNI_BIN" DEL "par$i" "/run/netns/$(es_ns "p$i")" eth0 "$conf" >/dev/null &
done
wait
es_expect_eq "50 DELs: no address left allocated" \
	"$(find "$ES_TMP/hl-par" -name '10.91.*' | wc -l)" 0
es_done
