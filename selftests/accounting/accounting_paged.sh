#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Frames whose headers are not in the skb's linear part (es-flood --paged:
# the Ethernet header alone is linear, the rest in page fragments, as a
# NIC that receives into pages delivers them): the tcx programs must pull
# the headers in and account every frame, IPv4 and IPv6, and count none
# as truncated. That frames whose headers are linear (every TCP
# super-packet the stack sends) are not pulled is a cost, not a count:
# make bench shows it (the tcx programs' time a packet under iperf3,
# docs/benchmarks.md, section 2).
. "$(dirname "$0")/../lib.sh"
es_require_root accounting_paged
es_plan 7

N=200
SIZE=6000
es_netns_add a && es_netns_add b || exit 1
es_veth a va 10.246.0.1 b vb 10.246.0.2 fd00:246::1 fd00:246::2 || exit 1
VA=$(es_ifname va); VB=$(es_ifname vb)
# a page or more a frame: smaller ones are built linear whatever is asked
es_in a ip link set dev "$VA" mtu 9000
es_in b ip link set dev "$VB" mtu 9000
# closed TCP sessions are read back after they close
echo '{"closed_linger_ms": 10000}' >"$ES_TMP/cfg.json"
es_agent_start b main --config "$ES_TMP/cfg.json" -i "$VB" || exit 1
MAC=$(es_in b ip -j link show dev "$VB" | jq -r '.[0].address')

flood() { # NET DST
	es_in a "$ES_BUILD/es-flood" --dev "$VA" --dst-mac "$MAC" --src-net "$1" --dst "$2" \
		--count "$N" --size "$SIZE" --dport 9 --paged --json | jq .sent
}
es_expect_eq "IPv4: $N paged frames of $SIZE bytes sent" "$(flood 10.201.0.0/24 10.246.0.2)" "$N"
es_expect_eq "IPv6: $N paged frames of $SIZE bytes sent" "$(flood fd00:201::/120 fd00:246::2)" "$N"

# sessions to port 9 from each network: "count rx_packets rx_bytes"
seen() { # ADDRESS_PREFIX
	es_api b "/v1/sessions?port=9&limit=100000" | jq -r --arg p "$1" \
		'[.sessions[] | select((.endpoint_lo + " " + .endpoint_hi) | contains($p))] |
		 "\(length) \(map(.rx.packets) | add) \(map(.rx.bytes) | add)"'
}
want="$N $N $((N * SIZE))"
for _ in $(seq 30); do
	[ "$(seen 10.201.0.)" = "$want" ] && [ "$(seen fd00:201::)" = "$want" ] && break
	sleep 0.2
done
es_expect_eq "IPv4: every frame a session of its own, each packet and byte counted" \
	"$(seen 10.201.0.)" "$want"
es_expect_eq "IPv6: every frame a session of its own, each packet and byte counted" \
	"$(seen fd00:201::)" "$want"
# both directions' series, each 0 (the agent exports every reason, zero too)
es_api b /metrics >"$ES_TMP/metrics.txt"
es_expect_eq "no frame counted as truncated" \
	"$(grep -F "interface=\"$VB\"" "$ES_TMP/metrics.txt" |
	   grep -E '^edgeshift_skipped_packets_total\{.*reason="truncated"' | awk '{ print $NF }' |
	   tr '\n' ' ')" "0 0 "
# TCP across the pair with its usual super-packets: still accounted
es_bg es_in b "$ES_BUILD/es-traffic" tcp-server --port 7300 --timeout 30
es_wait_listen b t 7300
es_check "TCP: 2 MB sent and acknowledged" \
	es_in a "$ES_BUILD/es-traffic" tcp-client --to 10.246.0.2 --port 7300 --bytes 2000000 --timeout 20
tcp_rx() { es_api b "/v1/sessions?port=7300" | jq '.sessions[0].rx.bytes // 0'; }
for _ in $(seq 30); do
	[ "$(tcp_rx)" -ge 2000000 ] && break
	sleep 0.2
done
es_expect_ge "TCP: the receiving side's bytes accounted" "$(tcp_rx)" 2000000
es_done
