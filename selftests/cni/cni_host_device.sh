#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# edgeshift-cni host-device pods on veth stand-ins for NICs: traffic, the
# NIC returned exactly as it was, DEL after the pod namespace is gone
# (against the reference plugin, which leaks the IPAM address there), DEL
# without CNI_NETNS, the device pool of a multicni delegate, delegate
# selection by CNI_ARGS, promiscMode undone after the last pod, and an ADD
# failing once the NIC is in the pod giving it back (its pool claim too),
# and a pool claim that cannot be written (code 5, not "no free device").
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cni_lib.bash"
es_require_root "cni host-device"
cni_require "cni host-device"
es_plan 28
cni_host || exit 1
D1=$(es_ifname hd1); D2=$(es_ifname hd2)
cni_standin "$D1" 1450 192.168.71.1/24 && cni_standin "$D2" 1400 192.168.72.1/24 || exit 1
ip -n "$(es_ns wire)" addr add 10.95.0.254/24 dev "${D1}p"
hl() { echo "{\"type\":\"host-local\",\"subnet\":\"10.95.0.0/24\",\"rangeStart\":\"10.95.0.10\",\"dataDir\":\"$ES_TMP/hl-$1\"}"; }

before=$(cni_host_link "$D1")
conf=$(cni_conf ours host-device 1.0.0 "{\"device\":\"$D1\",\"ipam\":$(hl ours)}")
cni_pod pa || exit 1; P=$(cni_pod_path pa)
out=$(cni_exec "$CNI_BIN" ADD c1 "$P" net0 "$conf")
addr=$(jq -r '.ips[0].address' <<<"$out")
es_expect_eq "ADD: the NIC is net0 in the pod with its address" \
	"$(es_in pa ip -j addr show dev net0 | jq -r '.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"')" "$addr"
es_expect_eq "ADD: the NIC left the host" "$(ip -n "$(es_ns host)" -j link show dev "$D1" 2>/dev/null)" ""
es_check "pod reaches the wire through the NIC" es_in pa ping -c 1 -W 1 10.95.0.254
es_check "DEL" cni_exec "$CNI_BIN" DEL c1 "$P" net0 "$conf"
es_expect_eq "DEL: name, MTU, addresses and up state restored" "$(cni_host_link "$D1")" "$before"
# CNI_NETNS is optional in DEL: the record's namespace brings the NIC home
cni_exec "$CNI_BIN" ADD c2 "$P" net0 "$conf" >/dev/null
es_check "DEL without CNI_NETNS" cni_exec "$CNI_BIN" DEL c2 "" net0 "$conf"
es_expect_eq "... the NIC is back in the host as it was" "$(cni_host_link "$D1")" "$before"
es_expect_eq "... and gone from the pod" "$(es_in pa ip -br link show dev net0 2>/dev/null)" ""

# The pod namespace vanishes before DEL. A physical NIC goes back to the
# root namespace; a veth would be destroyed, so the test moves it back
# under its pod name first, as the kernel does with a NIC.
leak() {	# WHO BIN CONF: ADD, lose the namespace, DEL; prints "rc addresses-left"
	local p rc
	cni_pod "gone$1" || exit 1; p=$(cni_pod_path "gone$1")
	cni_exec "$2" ADD "c$1" "$p" net0 "$3" >/dev/null
	es_in "gone$1" ip link set net0 netns "$(es_ns host)"
	ip netns del "$(es_ns "gone$1")"
	cni_exec "$2" DEL "c$1" "$p" net0 "$3" >"$ES_TMP/del-$1.json"
	rc=$?
	echo "$rc $(find "$ES_TMP/hl-$1" -name '10.95.*' 2>/dev/null | wc -l)"
}
es_expect_eq "DEL with the pod netns gone: success, address released" \
	"$(leak ours "$CNI_BIN" "$conf")" "0 0"
es_expect_eq "... and the NIC is found by its alias and restored" "$(cni_host_link "$D1")" "$before"
ref=$(cni_conf ref host-device 1.0.0 "{\"device\":\"$D1\",\"ipam\":$(hl ref)}")
got=$(leak ref "$CNI_REF/host-device" "$ref")
# what the reference does, for the record (docs/cni.md): not a check of ours
es_diag <<<"reference plugin, DEL without netns (leaked links, addresses): $got"
ip -n "$(es_ns host)" link set net0 name "$D1" 2>/dev/null

# The meta form: two delegates, one with a device pool.
meta=$(jq -c -n --arg m "$CNI_MASTER" --arg a "$D1" --arg b "$D2" --arg s "$CNI_STATE" \
	--arg p "$CNI_PINS" --argjson i "$(hl pool)" '{cniVersion: "1.0.0", name: "multicni",
	type: "multicni", stateDir: $s, pinPath: $p, default: "macvlan", plugins: [
	{name: "macvlan", type: "macvlan", master: $m, promiscMode: true, ipam: {}},
	{name: "data", type: "host-device", devices: [$a, $b], ipam: $i}]}')
for i in 1 2 3; do cni_pod "m$i" >/dev/null; done
cni_exec "$CNI_BIN" ADD m1 "/run/netns/$(es_ns m1)" eth0 "$meta" "EDGESHIFT_NETWORK=data" >/dev/null
cni_exec "$CNI_BIN" ADD m2 "/run/netns/$(es_ns m2)" eth0 "$meta" "IgnoreUnknown=1;EDGESHIFT_NETWORK=data" >/dev/null
r3=$(cni_exec "$CNI_BIN" ADD m3 "/run/netns/$(es_ns m3)" eth0 "$meta" "EDGESHIFT_NETWORK=data")
kinds=$(for i in 1 2; do es_in "m$i" ip -j -d link show dev eth0 | jq -r '.[0].linkinfo.info_kind'; done | sort -u)
es_expect_eq "pool: two pods get the two devices" "$kinds" veth
es_expect_eq "pool: the third fails with code 110 naming devices" \
	"$(jq -r '"\(.code) \(.msg | test("devices"))"' <<<"$r3")" "110 true"
cni_exec "$CNI_BIN" DEL m1 "/run/netns/$(es_ns m1)" eth0 "$meta" "EDGESHIFT_NETWORK=data" >/dev/null
r3=$(cni_exec "$CNI_BIN" ADD m3 "/run/netns/$(es_ns m3)" eth0 "$meta" "EDGESHIFT_NETWORK=data")
es_expect_eq "pool: DEL frees the device for the next pod" "$(jq -r '.interfaces[0].name' <<<"$r3")" eth0
cni_pod m4 >/dev/null
cni_exec "$CNI_BIN" ADD m4 "/run/netns/$(es_ns m4)" eth0 "$meta" >/dev/null
es_expect_eq "no CNI_ARGS: the default delegate (macvlan, master promiscuous)" \
	"$(es_in m4 ip -j -d link show dev eth0 | jq -r '.[0].linkinfo.info_kind') $(ip -n "$(es_ns host)" -j link show dev "$CNI_MASTER" | jq -r '.[0].flags | index("PROMISC") != null')" "macvlan true"
for i in 2 3 4; do
	cni_exec "$CNI_BIN" DEL "m$i" "/run/netns/$(es_ns "m$i")" eth0 "$meta" "EDGESHIFT_NETWORK=data" >/dev/null
done
es_expect_eq "pool devices all back in the host" \
	"$(ip -n "$(es_ns host)" -br link | grep -c -e "^$D1" -e "^$D2")" 2
es_expect_eq "promiscMode: the master leaves promiscuous mode with its last pod" \
	"$(ip -n "$(es_ns host)" -j link show dev "$CNI_MASTER" | jq -r '.[0].flags | index("PROMISC") != null')" false

# An ADD that fails once the NIC is in the pod gives it back as DEL does
# and releases its claim. hostview: every host link by name, MAC, MTU, up
# state and addresses (a NIC restored by a stale index renames another).
hostview() {
	ip -n "$(es_ns host)" -j addr | jq -c '[.[] | {name: .ifname, mac: .address, mtu,
		up: (.flags | index("UP") != null),
		addresses: [.addr_info[] | select(.scope == "global") | "\(.local)/\(.prefixlen)"]}]
		| sort_by(.name)'
}
# left CID POD: what the failed ADD left: pod links, pool claims, records
left() {
	echo "$(es_in "$2" ip -j link | jq -c '[.[].ifname] | sort') $(ls "$CNI_STATE/pool/esnet" 2>/dev/null)" \
		"$(ls "$CNI_STATE/attachments/esnet" 2>/dev/null | grep -c "^$1-")"
}
D3=$(es_ifname hd3)
cni_standin "$D3" 1420 192.168.74.1/24 || exit 1
pool=$(cni_conf ours host-device 1.0.0 "{\"devices\":[\"$D3\"],\"ipam\":$(hl fail)}")
before=$(hostview)
cni_pod f1 >/dev/null; P=$(cni_pod_path f1)
# the kernel takes a '%' for a pattern (the NIC would land as net0, not
# net%d): refused before the NIC moves
r=$(cni_exec "$CNI_BIN" ADD f1 "$P" 'net%d' "$pool")
es_expect_eq "ADD with CNI_IFNAME net%d: code 4 naming it, before the NIC moves" \
	"$(jq -r '"\(.code) \(.msg | contains("net%d"))"' <<<"$r")" "4 true"
es_expect_eq "... every host link as it was, the NIC back under its name" "$(hostview)" "$before"
es_expect_eq "... nothing in the pod, no pool claim, no record" "$(left f1 f1)" '["lo"]  0'
es_expect_eq "... the device can be taken again" \
	"$(cni_exec "$CNI_BIN" ADD f1b "$P" net0 "$pool" | jq -r '.interfaces[0].name')" net0
cni_exec "$CNI_BIN" DEL f1b "$P" net0 "$pool" >/dev/null
# The pod holds the NIC's index, so the NIC gets another one there, which
# a host link may hold: back in the host the kernel gives it yet another.
cni_pod f2 >/dev/null; P=$(cni_pod_path f2)
h=$(ip -n "$(es_ns host)" -j link show dev "$D3" | jq '.[0].ifindex')
es_in f2 ip link add x0 index "$h" type veth peer name x1 index $((h + 1000))
# an IPv6 address, which a test pod (IPv6 off, cni_pod) refuses
bad=$(jq -c '.ipam = {type: "static", addresses: [{address: "fd00::5/64"}]}' <<<"$pool")
r=$(cni_exec "$CNI_BIN" ADD f2 "$P" net0 "$bad")
es_expect_eq "ADD failing on an address the pod refuses: code 5 naming it" \
	"$(jq -r '"\(.code) \(.msg | contains("fd00::5"))"' <<<"$r")" "5 true"
es_expect_eq "... every host link as it was, the NIC back under its name" "$(hostview)" "$before"
es_expect_eq "... nothing in the pod but its own links, no pool claim, no record" \
	"$(left f2 f2)" '["lo","x0","x1"]  0'
cni_exec "$CNI_BIN" ADD f2 "$P" net0 "$pool" >/dev/null
cni_exec "$CNI_BIN" DEL f2 "$P" net0 "$pool" >/dev/null
es_expect_eq "DEL from such a pod: every host link as it was" "$(hostview)" "$before"
# The pool's directory on a file system with no inode left (a full
# stateDir): the lock file fits, the claim does not. The tmpfs lives in a
# mount namespace of the plugin's own and goes with it.
cni_pod f3 >/dev/null; P=$(cni_pod_path f3)
r=$(CNI_COMMAND=ADD CNI_CONTAINERID=f3 CNI_NETNS=$P CNI_IFNAME=net0 CNI_PATH=$CNI_REF \
	unshare -m --propagation private sh -c 'mount -t tmpfs -o nr_inodes=2 none "$1" &&
	exec nsenter --net="$2" "$3"' - "$CNI_STATE/pool/esnet" "/run/netns/$(es_ns host)" \
	"$CNI_BIN" <<<"$pool")
es_expect_eq "ADD whose pool claim cannot be written: code 5 naming the claim and why" \
	"$(jq -r '"\(.code) \(.msg | test("claim .*No space left"))"' <<<"$r")" "5 true"
es_expect_eq "... every host link as it was, nothing in the pod, no claim, no record" \
	"$(hostview) $(left f3 f3)" "$before [\"lo\"]  0"
# The same directory with inodes left and no block: the claim's file is
# made, its write fails. The runtime is told the disk is full, not that
# an I/O error happened (a failed write was once reported as EIO).
cni_pod f4 >/dev/null; P=$(cni_pod_path f4)
r=$(CNI_COMMAND=ADD CNI_CONTAINERID=f4 CNI_NETNS=$P CNI_IFNAME=net0 CNI_PATH=$CNI_REF \
	unshare -m --propagation private sh -c 'mount -t tmpfs -o size=4k,nr_inodes=64 none "$1" &&
	head -c 4096 /dev/zero >"$1/fill" && exec nsenter --net="$2" "$3"' - \
	"$CNI_STATE/pool/esnet" "/run/netns/$(es_ns host)" "$CNI_BIN" <<<"$pool")
es_expect_eq "ADD whose pool claim finds no block to write: code 5, no space, no I/O error" \
	"$(jq -r '"\(.code) \(.msg | test("claim .*No space left")) \(.msg | test("Input/output"))"' \
	<<<"$r")" "5 true false"
es_expect_eq "... every host link as it was, nothing in the pod, no claim, no record" \
	"$(hostview) $(left f4 f4)" "$before [\"lo\"]  0"
es_done
