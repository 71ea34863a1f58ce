#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# CNI 1.1 GC and STATUS of edgeshift-cni with real delegates: GC of pods
# whose IPAM is Debian's host-local (each stale attachment's DEL reaches
# the IPAM plugin with its container ID and interface), GC refusing a
# missing cni.dev/valid-attachments and reading null as an empty list;
# STATUS failing (50) when the only vdhcp server (es-ipamd) is down, when
# the dhcp daemon is not listening, when a host-device pool is used up.
# Debian's plugins predate 1.1 (no STATUS, no GC): forwarding both to a
# 1.1 IPAM plugin is shown with a stand-in script that says so.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cni_lib.bash"
es_require_root "cni gc status"
cni_require "cni gc status"
es_plan 21
cni_host || exit 1
HL=$ES_TMP/hl
# run CMD CONF [CNI_PATH]: a command without attachment parameters
run() {
	CNI_COMMAND=$1 CNI_PATH=${3:-$CNI_REF} nsenter --net="/run/netns/$(es_ns host)" \
		"$CNI_BIN" <<<"$2"
}
code() { if [ -z "$1" ]; then echo 0; else jq -r ".code // 0" <<<"$1"; fi; }
reserved() { find "$HL" -name '10.97.*' 2>/dev/null | wc -l; }
records() { find "$CNI_STATE/attachments" -name '*.json' 2>/dev/null | wc -l; }

conf=$(cni_conf ours macvlan 1.1.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":{\"type\":\"host-local\",
	\"subnet\":\"10.97.0.0/24\",\"dataDir\":\"$HL\"}}")
for i in 1 2 3; do
	cni_pod "g$i" || exit 1
	cni_exec "$CNI_BIN" ADD "gc$i" "$(cni_pod_path "g$i")" eth0 "$conf" >/dev/null
done
es_expect_eq "three pods, three host-local reservations" "$(reserved) $(records)" "3 3"

out=$(run GC "$conf")
es_expect_eq "GC without cni.dev/valid-attachments: code 7 naming the key" \
	"$(jq -r '"\(.code) \(.msg | contains("valid-attachments"))"' <<<"$out")" "7 true"
es_expect_eq "... and nothing was collected" "$(reserved) $(records)" "3 3"

valid='[{"containerID":"gc2","ifname":"eth0"},{"containerID":"gc3","ifname":"eth0"}]'
out=$(run GC "$(jq -c --argjson v "$valid" '. + {"cni.dev/valid-attachments": $v}' <<<"$conf")")
es_expect_eq "GC with host-local IPAM succeeds" "$?:$(code "$out")" "0:0"
es_expect_eq "... the stale pod's reservation is released, the valid ones kept" \
	"$(reserved) $(grep -rl gc1 "$HL" 2>/dev/null | wc -l)" "2 0"
es_expect_eq "... its record is gone" "$(records)" 2
cni_gone g1
es_expect_eq "... its macvlan is gone" "$(es_in g1 ip -br link show dev eth0 2>/dev/null)" ""
es_expect_eq "... the valid pods keep their links" \
	"$(for i in 2 3; do es_in "g$i" ip -br link show dev eth0 >/dev/null 2>&1 && echo y; done | wc -l)" 2

out=$(run GC "$(jq -c '. + {"cni.dev/valid-attachments": null}' <<<"$conf")")
es_expect_eq "GC with valid-attachments null (an empty list): success" "$?:$(code "$out")" "0:0"
es_expect_eq "... every attachment collected" "$(reserved) $(records)" "0 0"
# a record GC cannot read: what it held cannot be collected, and GC says so
bad=$CNI_STATE/attachments/$(jq -r .name <<<"$conf")/bad.json
mkdir -p "${bad%/*}" && echo '{"containerID": ' >"$bad"
out=$(run GC "$(jq -c '. + {"cni.dev/valid-attachments": null}' <<<"$conf")")
es_expect_eq "GC with a record it cannot read: code 5 naming it" \
	"$?:$(jq -r '"\(.code) \(.msg | contains("cannot read the attachment record"))"' <<<"$out")" "1:5 true"
rm -f "$bad"

# STATUS
es_expect_eq "STATUS with host-local (a 1.0 plugin, present): ready" \
	"$(run STATUS "$conf" >/dev/null; echo $?)" 0
cat >"$ES_TMP/ipamd.json" <<EOF
{"users": [{"user": "cni", "password": "pw"}], "basePath": "/ipam/",
 "networks": [{"name": "vnet", "subnet": "10.98.0.0/24", "gateway": "10.98.0.1"}]}
EOF
vd=$(cni_conf ours macvlan 1.1.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":{\"type\":\"vdhcp\",
	\"network\":\"vnet\",\"timeoutMs\":1500,\"servers\":[{\"url\":\"http://127.0.0.1:18480/ipam/\",
	\"user\":\"cni\",\"password\":\"pw\"}]}}")
out=$(run STATUS "$vd")
es_expect_eq "STATUS, the only vdhcp server down: code 50" "$(code "$out")" 50
es_bg --log "$ES_TMP/ipamd.log" es_in host "$ES_BUILD/es-ipamd" --config "$ES_TMP/ipamd.json" \
	--state "$ES_TMP/ipamd.state" --listen 127.0.0.1:18480
for _ in $(seq 50); do es_in host curl -sf -m 1 http://127.0.0.1:18480/ipam/healthz >/dev/null && break; sleep 0.1; done
es_expect_eq "STATUS, the vdhcp server up: ready" "$(run STATUS "$vd" >/dev/null; echo $?)" 0

dh=$(cni_conf ours macvlan 1.1.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":{\"type\":\"dhcp\",
	\"daemonSocketPath\":\"$ES_TMP/dhcp.sock\"}}")
out=$(run STATUS "$dh")
es_expect_eq "STATUS, dhcp IPAM without its daemon: code 50 naming the socket" \
	"$(jq -r '"\(.code) \(.msg | contains("dhcp.sock"))"' <<<"$out")" "50 true"
es_bg --log "$ES_TMP/dhcpd.log" es_in host "$CNI_REF/dhcp" daemon -socketpath "$ES_TMP/dhcp.sock"
for _ in $(seq 100); do [ -S "$ES_TMP/dhcp.sock" ] && break; sleep 0.05; done
es_expect_eq "STATUS, dhcp daemon listening: ready" "$(run STATUS "$dh" >/dev/null; echo $?)" 0

D1=$(es_ifname hd1)
cni_standin "$D1" 1500 192.168.74.1/24 || exit 1
hd=$(cni_conf ours host-device 1.1.0 "{\"devices\":[\"$D1\"]}")
es_expect_eq "STATUS, a free device in the pool: ready" "$(run STATUS "$hd" >/dev/null; echo $?)" 0
cni_pod h1 || exit 1
cni_exec "$CNI_BIN" ADD hd1 "$(cni_pod_path h1)" net0 "$hd" >/dev/null
out=$(run STATUS "$hd")
es_expect_eq "STATUS, the pool used up: code 50 naming devices" \
	"$(jq -r '"\(.code) \(.msg | contains("devices"))"' <<<"$out")" "50 true"
cni_exec "$CNI_BIN" DEL hd1 "$(cni_pod_path h1)" net0 "$hd" >/dev/null

# A stand-in for a CNI 1.1 IPAM plugin (none ships in Debian 12): it logs
# what it is asked and fails STATUS while $ES_TMP/drained exists.
mkdir -p "$ES_TMP/bin"
cat >"$ES_TMP/bin/ipam11" <<EOF
#!/bin/bash
conf=\$(cat)
echo "\$CNI_COMMAND \$(jq -c '.["cni.dev/valid-attachments"]' <<<"\$conf")" >>"$ES_TMP/ipam11.log"
case \$CNI_COMMAND in
VERSION) echo '{"cniVersion":"1.1.0","supportedVersions":["1.0.0","1.1.0"]}' ;;
STATUS) [ -e "$ES_TMP/drained" ] && { echo '{"cniVersion":"1.1.0","code":50,"msg":"drained"}'; exit 1; } ;;
esac
exit 0
EOF
chmod +x "$ES_TMP/bin/ipam11"
i11=$(cni_conf ours macvlan 1.1.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":{\"type\":\"ipam11\"}}")
touch "$ES_TMP/drained"
out=$(run STATUS "$i11" "$ES_TMP/bin:$CNI_REF")
es_expect_eq "STATUS forwarded to a 1.1 IPAM plugin: its failure is ours (50)" \
	"$(jq -r '"\(.code) \(.msg | contains("drained"))"' <<<"$out")" "50 true"
rm -f "$ES_TMP/drained"
es_expect_eq "... and its success too" "$(run STATUS "$i11" "$ES_TMP/bin:$CNI_REF" >/dev/null; echo $?)" 0
run GC "$(jq -c --argjson v "$valid" '. + {"cni.dev/valid-attachments": $v}' <<<"$i11")" \
	"$ES_TMP/bin:$CNI_REF" >/dev/null
es_expect_eq "GC forwarded to a 1.1 IPAM plugin with the valid attachments" \
	"$(grep '^GC ' "$ES_TMP/ipam11.log")" "GC $valid"
es_done
