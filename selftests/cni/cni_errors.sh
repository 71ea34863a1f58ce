#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# edgeshift-cni on bad input and faults: the spec's error JSON with the
# right code and a message naming the field, and nothing left behind.
# Also VERSION, STATUS and GC.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cni_lib.bash"
es_require_root "cni errors"
cni_require "cni errors"
es_plan 19
cni_host || exit 1
cni_pod pod || exit 1; P=$(cni_pod_path pod)
links() { { ip -n "$(es_ns host)" -br link; es_in pod ip -br link; } | awk '{ print $1 }' | sort | tr '\n' ' '; }
clean=$(links)
# err NAME CONF WANT_CODE WANT_SUBSTRING [CMD]
err() {
	local out
	out=$(cni_exec "$CNI_BIN" "${5:-ADD}" c1 "$P" eth0 "$2")
	es_expect_eq "$1" "$(jq -r --arg s "$4" '"\(.code) \(.msg | contains($s))"' <<<"$out" 2>&1)" "$3 true"
}
good=$(cni_conf ours macvlan 1.0.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":{}}")
err "malformed JSON: code 6" '{"cniVersion": "1.0.0", "name": ' 6 "not valid JSON"
err "unknown cniVersion: code 1" "$(jq -c '.cniVersion = "9.9.9"' <<<"$good")" 1 cniVersion
err "missing cniVersion: code 1" "$(jq -c 'del(.cniVersion)' <<<"$good")" 1 cniVersion
err "missing name: code 7 naming it" "$(jq -c 'del(.name)' <<<"$good")" 7 name
err "master that does not exist: code 7 naming master" \
	"$(jq -c '.master = "nosuchnic0"' <<<"$good")" 7 master
err "bad mode: code 7 naming mode" "$(jq -c '.mode = "bridged"' <<<"$good")" 7 mode
err "mtu above the master's: code 7 naming mtu" "$(jq -c '.mtu = 9000' <<<"$good")" 7 mtu
err "host-device without a device: code 7 naming device" \
	"$(jq -c '.kind = "host-device" | del(.master)' <<<"$good")" 7 device
err "host-device naming a missing NIC: code 7" \
	"$(jq -c '.kind = "host-device" | del(.master) | .device = "nosuchnic0"' <<<"$good")" 7 device
err "IPAM plugin that does not exist: code 7" "$(jq -c '.ipam = {type: "nosuchipam"}' <<<"$good")" 7 ipam
err "IPAM failure after the link exists: IPAM's error passed on" \
	"$(jq -c '.ipam = {type: "static", addresses: [{address: "not-an-ip"}]}' <<<"$good")" 999 "ipam static"
es_expect_eq "... and no link is left behind in host or pod" "$(links)" "$clean"
cni_exec "$CNI_BIN" ADD c0 "$P" eth0 "$good" >/dev/null
err "name clash in the pod: code 4 naming CNI_IFNAME" "$good" 4 CNI_IFNAME
es_expect_eq "... and the clash left no extra link" "$(links | wc -w)" "$(($(echo "$clean" | wc -w) + 1))"
cni_exec "$CNI_BIN" DEL c0 "$P" eth0 "$good" >/dev/null
# names the kernel refuses (':', a space) or renames ('%' is a pattern:
# net%d became net0 while ADD reported net%d): code 4 before any change
for n in 'net%d' 'net:1' 'net 1'; do
	out=$(cni_exec "$CNI_BIN" ADD c2 "$P" "$n" "$good")
	printf '%s\n' "$(jq -r '"\(.code) \(.msg | contains("CNI_IFNAME"))"' <<<"$out" 2>&1)"
done >"$ES_TMP/ifnames"
es_expect_eq "CNI_IFNAME with '%', ':' or a space: code 4 naming it, no link made" \
	"$(sort -u "$ES_TMP/ifnames") $(links)" "4 true $clean"
# a pod added before these rules must still go: DEL keeps the old ones
for n in 'net%d' 'net:1'; do
	cni_exec "$CNI_BIN" DEL c2 "$P" "$n" "$good" >/dev/null; echo $?
done >"$ES_TMP/dels"
es_expect_eq "DEL of such a name still succeeds" "$(sort -u "$ES_TMP/dels")" 0
es_expect_eq "VERSION lists the supported versions" \
	"$(CNI_COMMAND=VERSION "$CNI_BIN" <<<'{"cniVersion":"0.4.0"}' | jq -c '[.cniVersion, .supportedVersions]')" \
	'["0.4.0",["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]]'
v11=$(jq -c '.cniVersion = "1.1.0" | .ipam = {type: "nosuchipam"}' <<<"$good")
out=$(CNI_COMMAND=STATUS CNI_PATH=$CNI_REF nsenter --net="/run/netns/$(es_ns host)" "$CNI_BIN" <<<"$v11")
es_expect_eq "STATUS with a missing IPAM plugin: code 50" "$(jq -r .code <<<"$out")" 50
# GC: a record the runtime no longer lists is undone
gconf=$(jq -c '.cniVersion = "1.1.0"' <<<"$good")
# the ADD must have made the link and GC said success: else "gone" proves nothing
cni_exec "$CNI_BIN" ADD gc1 "$P" eth5 "$gconf" >/dev/null
add_rc=$?
made=$(es_in pod ip -br link show dev eth5 2>/dev/null | grep -c .)
CNI_COMMAND=GC CNI_PATH=$CNI_REF nsenter --net="/run/netns/$(es_ns host)" "$CNI_BIN" \
	<<<"$(jq -c '. + {"cni.dev/valid-attachments": []}' <<<"$gconf")" >/dev/null
gc_rc=$?
for _ in $(seq 300); do es_in pod ip link show dev eth5 >/dev/null 2>&1 || break; sleep 0.01; done
es_expect_eq "GC removes an attachment not in cni.dev/valid-attachments (ADD, link, GC, gone)" \
	"$add_rc/$made/$gc_rc/$(es_in pod ip -br link show dev eth5 2>/dev/null)" "0/1/0/"
es_done
