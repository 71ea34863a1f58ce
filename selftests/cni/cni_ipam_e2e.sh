#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# edgeshift-cni end to end with the HTTP IPAM ("vdhcp", the multicni example
# of docs/cni.md) against a real build/es-ipamd in the test host namespace: ADD,
# CHECK (in a chain too), DEL as seen by the server, fifty parallel ADDs, a
# server that is down, slow, answers garbage or refuses the password (right
# code within the timeout, nothing left behind), a failover after a silent server
# (DEL retried until that server is heard from or configured away), and
# host-device DEL with the pod namespace already gone.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cni_lib.bash"
es_require_root "cni http ipam e2e"
cni_require "cni http ipam e2e"
es_plan 30
cni_host || exit 1
STANDIN=$(dirname "$0")/cni_standin.py
IPAMD=http://127.0.0.1:18480/ipam/
D1=$(es_ifname hd1)
cni_standin "$D1" 1500 192.168.73.1/24 || exit 1
cat >"$ES_TMP/ipamd.json" <<EOF
{"users": [{"user": "cni", "password": "s3cret"}], "basePath": "/ipam/",
 "networks": [{"name": "vnet", "subnet": "10.96.0.0/24", "gateway": "10.96.0.1",
   "rangeStart": "10.96.0.10", "rangeEnd": "10.96.0.200", "routes": [{"dst": "0.0.0.0/0"}]}]}
EOF
es_bg --log "$ES_TMP/ipamd.log" es_in host "$ES_BUILD/es-ipamd" --config "$ES_TMP/ipamd.json" \
	--state "$ES_TMP/ipamd.state" --listen 127.0.0.1:18480
IPAMD_PID=$ES_BG_PID
es_bg --log "$ES_TMP/slow.log" es_in host python3 "$STANDIN" slow 18481
es_bg --log "$ES_TMP/garbage.log" es_in host python3 "$STANDIN" garbage 18482
for _ in $(seq 50); do
	es_in host curl -sf -m 1 "${IPAMD}healthz" >/dev/null && grep -q ready "$ES_TMP/garbage.log" &&
		grep -q ready "$ES_TMP/slow.log" && break
	sleep 0.1
done
# allocs: the server's allocations of vnet, one "containerId address" per line
allocs() {
	local out
	# a listing that failed is not an empty one ("released" would pass)
	out=$(es_in host curl -sf -m 3 -u cni:s3cret "${IPAMD}v1/networks/vnet/allocations") ||
		{ echo "ERROR: listing failed"; return; }
	jq -r '.allocations[] | "\(.containerId) \(.ips[0].address)"' <<<"$out" | sort
}
# meta SERVERS_JSON: the multicni example of docs/cni.md, both delegates on vdhcp
meta() {
	jq -c -n --arg m "$CNI_MASTER" --arg d "$D1" --arg s "$CNI_STATE" --arg p "$CNI_PINS" \
		--argjson sv "$1" '{cniVersion: "1.0.0", name: "multicni", type: "multicni",
		stateDir: $s, pinPath: $p, default: "macvlan", plugins: [
		{name: "macvlan", type: "macvlan", master: $m, promiscMode: true,
		 ipam: {type: "vdhcp", network: "vnet", servers: $sv, timeoutMs: 2000,
			serverTimeoutMs: 1500}},
		{name: "data", type: "host-device", devices: [$d],
		 ipam: {type: "vdhcp", network: "vnet", servers: $sv, timeoutMs: 2000,
			serverTimeoutMs: 1500}}]}'
}
good=$(meta "[{\"url\": \"$IPAMD\", \"user\": \"cni\", \"password\": \"s3cret\"}]")

cni_pod a || exit 1; PA=$(cni_pod_path a)
out=$(cni_exec "$CNI_BIN" ADD ca "$PA" eth0 "$good")
addr=$(jq -r '.ips[0].address // empty' <<<"$out")
es_expect_eq "ADD: the server's allocation is the result's address" "$(allocs)" "ca $addr"
es_expect_eq "ADD: the pod's macvlan carries it" \
	"$(es_in a ip -j addr show dev eth0 | jq -r '.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"')" "$addr"
es_expect_eq "ADD: the server's default route is in the pod" \
	"$(es_in a ip -j route show default | jq -r '.[0].gateway')" 10.96.0.1
chk=$(jq -c --argjson r "$out" '. + {prevResult: $r}' <<<"$good")
es_check "CHECK passes" cni_exec "$CNI_BIN" CHECK ca "$PA" eth0 "$chk"
# in a chain the prevResult also lists other plugins' addresses (no "interface")
es_check "CHECK asks the server about its own addresses only" cni_exec "$CNI_BIN" CHECK ca "$PA" \
	eth0 "$(jq -c '.prevResult.ips += [{address: "10.97.0.9/24"}]' <<<"$chk")"
es_check "DEL" cni_exec "$CNI_BIN" DEL ca "$PA" eth0 "$good"
es_expect_eq "DEL: the server released the address" "$(allocs)" ""
cni_gone a	# deleted in the background
es_expect_eq "DEL: the link is gone" "$(es_in a ip -br link show dev eth0 2>/dev/null)" ""

# fifty ADDs in parallel, one pod namespace each (wait for these only:
# the servers run in the background too)
pids=()
for i in $(seq 50); do cni_pod "p$i" >/dev/null || exit 1; done
for i in $(seq 50); do
	cni_exec "$CNI_BIN" ADD "par$i" "$(cni_pod_path "p$i")" eth0 "$good" >"$ES_TMP/par$i.json" &
	pids+=($!)
done
wait "${pids[@]}"; pids=()
ok=0
for i in $(seq 50); do
	a=$(jq -r '.ips[0].address // empty' "$ES_TMP/par$i.json" 2>/dev/null)
	l=$(es_in "p$i" ip -j addr show dev eth0 2>/dev/null | jq -r '.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"')
	[ -n "$a" ] && [ "$a" = "$l" ] && ok=$((ok + 1))
done
es_expect_eq "50 parallel ADDs: 50 links carry their result's address" "$ok" 50
es_expect_eq "50 parallel ADDs: the server holds 50 distinct addresses" \
	"$(allocs | awk '{ print $2 }' | sort -u | wc -l)" 50
for i in $(seq 50); do
	cni_exec "$CNI_BIN" DEL "par$i" "$(cni_pod_path "p$i")" eth0 "$good" >/dev/null &
	pids+=($!)
done
wait "${pids[@]}"
es_expect_eq "50 DELs: the server holds nothing" "$(allocs | wc -l)" 0

# Faults: each ADD fails with its code within timeoutMs (2 s, plus process
# start), and leaves no link, no state record and no device claim.
cni_pod f || exit 1; PF=$(cni_pod_path f)
leftovers() {
	{
		ip -n "$(es_ns host)" -br link | awk '{ print $1 }' | grep -v -e "^lo$" -e "^$CNI_MASTER" -e "^$D1"
		es_in f ip -br link | awk '$1 != "lo" { print $1 }'
		find "$CNI_STATE" -type f ! -name .lock ! -path '*/ifindex/free/*' 2>/dev/null
		flock -n -E 99 "$CNI_STATE/pool/data/.lock" true 2>/dev/null; [ $? = 99 ] && echo "pool lock held"
	} | tr '\n' ' '
}
fault() {	# NAME SERVERS_JSON WANT_CODE WANT_SUBSTRING [CNI_ARGS]
	local c t0 ms out
	c=$(meta "$2")
	t0=$(date +%s%N)
	out=$(cni_exec "$CNI_BIN" ADD fault "$PF" eth0 "$c" "${5:-}")
	ms=$((($(date +%s%N) - t0) / 1000000))
	es_expect_eq "$1: code $3, message names it, within the timeout (${ms} ms)" \
		"$(jq -r --arg s "$4" '"\(.code) \(.msg | contains($s))"' <<<"$out") $((ms < 3000))" "$3 true 1"
	# a rolled-back macvlan is deleted by a detached child, which returns
	# its ifindex to the pool once the kernel has let go of the link
	for _ in $(seq 40); do [ -z "$(leftovers)" ] && break; sleep 0.05; done
	es_expect_eq "$1: nothing left behind" "$(leftovers)" ""
}
fault "server down" '[{"url": "http://127.0.0.1:18489/", "user": "cni", "password": "s3cret"}]' \
	100 "127.0.0.1:18489"
fault "server slow" '[{"url": "http://127.0.0.1:18481/", "user": "cni", "password": "s3cret"}]' \
	100 "timed out"
fault "server answers garbage" '[{"url": "http://127.0.0.1:18482/", "user": "cni", "password": "s3cret"}]' \
	103 "127.0.0.1:18482"
fault "wrong password" "[{\"url\": \"$IPAMD\", \"user\": \"cni\", \"password\": \"wrong\"}]" \
	101 "credentials"
fault "host-device pool, server slow" \
	'[{"url": "http://127.0.0.1:18481/", "user": "cni", "password": "s3cret"}]' \
	100 "timed out" "EDGESHIFT_NETWORK=data"
es_expect_eq "host-device pool: the device is back in the host" \
	"$(ip -n "$(es_ns host)" -j link show dev "$D1" | jq -r '.[0].ifname')" "$D1"

# Failover after a silent server: it got the request and may still serve
# it, so DEL must hear from it; taking it out of the configuration is how
# an operator gives up on it.
cni_pod h || exit 1; PH=$(cni_pod_path h)
slowgood=$(meta "[{\"url\": \"http://127.0.0.1:18481/\", \"user\": \"cni\", \"password\": \"s3cret\"},
	{\"url\": \"$IPAMD\", \"user\": \"cni\", \"password\": \"s3cret\"}]" | jq -c '.plugins[0].ipam.serverTimeoutMs = 300')
out=$(cni_exec "$CNI_BIN" ADD ch "$PH" eth0 "$slowgood")
es_expect_eq "failover: allocated on the second server" "$(allocs)" "ch $(jq -r '.ips[0].address' <<<"$out")"
es_expect_eq "... the record names both servers as possible holders" \
	"$(jq -c '.ipamServers | length' "$CNI_STATE/attachments/multicni/ch-eth0.json")" 2
out=$(cni_exec "$CNI_BIN" DEL ch "$PH" eth0 "$slowgood")
es_expect_eq "DEL while the silent server stays silent: code 100, retried" "$(jq -r .code <<<"$out")" 100
good300=$(jq -c '.plugins[0].ipam.serverTimeoutMs = 300' <<<"$good")
es_check "DEL once the silent server is out of the configuration" \
	cni_exec "$CNI_BIN" DEL ch "$PH" eth0 "$good300"
es_expect_eq "... the allocation is released" "$(allocs)" ""

# host-device DEL after the pod namespace is gone: the kernel returns a
# NIC to the host (the test moves the veth stand-in back, as it would).
cni_pod g || exit 1; PG=$(cni_pod_path g)
out=$(cni_exec "$CNI_BIN" ADD cg "$PG" net0 "$good" "EDGESHIFT_NETWORK=data")
es_expect_eq "host-device ADD: allocated on the server" \
	"$(allocs)" "cg $(jq -r '.ips[0].address' <<<"$out")"
es_in g ip link set net0 netns "$(es_ns host)"
ip netns del "$(es_ns g)"
es_check "host-device DEL with the pod namespace gone succeeds" \
	cni_exec "$CNI_BIN" DEL cg "$PG" net0 "$good" "EDGESHIFT_NETWORK=data"
es_expect_eq "... and the server released the address" "$(allocs)" ""
kill "$IPAMD_PID"
es_done
