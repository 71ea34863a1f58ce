#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# request_latency: false in the agent's configuration reaches the programs:
# a UDP echo exchange through the veth is counted exactly, packet for
# packet, and gives no request/response latency sample, neither in the
# session nor in the interface's histogram.
. "$(dirname "$0")/../lib.sh"
es_require_root request_latency_off
T=$ES_BUILD/es-traffic
PER_PKT=$((100 + 8 + 20 + 14))	# UDP payload, UDP, IPv4 and Ethernet headers
es_plan 5

echo '{"request_latency": false}' >"$ES_TMP/cfg.json"
es_netns_add a && es_netns_add b || exit 1
es_veth a va 10.239.0.1 b vb 10.239.0.2 || exit 1
VB=$(es_ifname vb)
es_agent_start b main --config "$ES_TMP/cfg.json" -i "$VB=test/server" || exit 1

es_bg es_in b "$T" udp-server --port 7400 --timeout 20
es_wait_listen b u 7400
out=$(es_in a "$T" udp-client --to 10.239.0.2 --port 7400 --count 200 --size 100 --json)
es_expect_eq "client got every echo" "$(echo "$out" | jq .received)" 200
sleep 0.2
s=$(es_api b "/v1/sessions?proto=udp&port=7400&limit=10")
es_expect_eq "one session" "$(echo "$s" | jq .matched)" 1
es_expect_eq "rx and tx packets/bytes exact" \
	"$(echo "$s" | jq -r '.sessions[0] | "\(.rx.packets)/\(.rx.bytes) \(.tx.packets)/\(.tx.bytes)"')" \
	"200/$((200 * PER_PKT)) 200/$((200 * PER_PKT))"
es_expect_eq "no latency sample in the session" \
	"$(echo "$s" | jq -r '.sessions[0].latency.samples // 0')" 0
LBL="node=\"$ES_PREFIX-b\",interface=\"$VB\",namespace=\"test\",pod=\"server\""
n=$(es_metric b "edgeshift_latency_seconds_count{$LBL,kind=\"service\"}")
# the series is always exported: empty is a failed scrape, not zero
es_expect_eq "no service sample in the interface's histogram" "$n" 0
es_done
