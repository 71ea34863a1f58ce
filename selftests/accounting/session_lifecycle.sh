#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Sessions that end are collected promptly: FIN both ways or RST after the
# linger, idle ones after the idle timeout. Their totals move into the
# closed counters, nothing is left for the LRU, and counters stay monotonic.
. "$(dirname "$0")/../lib.sh"
es_require_root session_lifecycle
es_plan 15

es_netns_add a && es_netns_add b || exit 1
es_no_ipv6 a b
es_veth a va 10.249.0.1 b vb 10.249.0.2 || exit 1
VB=$(es_ifname vb)
T=$ES_BUILD/es-traffic
cat >"$ES_TMP/cfg.json" <<JSON
{"closed_linger_ms": 1500, "idle_timeout_ms": 3000, "gc_interval_ms": 200}
JSON
es_agent_start b main --config "$ES_TMP/cfg.json" -i "$VB" || exit 1
LBL="node=\"$ES_PREFIX-b\",interface=\"$VB\",namespace=\"\",pod=\"\""
closed() { es_metric b "edgeshift_sessions_closed_total{$LBL,reason=\"$1\"}"; }
port_sessions() { es_api b "/v1/sessions?port=$1" | jq .matched; }
# wait_gone PORT: milliseconds until no session with PORT is left (max 8 s).
wait_gone() {
	local t0=$(date +%s%N) i
	for i in $(seq 80); do
		[ "$(port_sessions "$1")" = 0 ] && break
		sleep 0.1
	done
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
}

es_bg es_in b "$T" tcp-server --port 7300 --once --timeout 30
es_wait_listen b t 7300
bytes0=$(es_metric b "edgeshift_interface_bytes_total{$LBL,direction=\"rx\"}")
es_check "tcp transfer" es_in a "$T" tcp-client --to 10.249.0.2 --port 7300 --bytes 1000000
s=$(es_api b "/v1/sessions?port=7300")
es_expect_eq "closed session is marked closed, not yet collected" \
	"$(echo "$s" | jq -r '.sessions[0].state')" closed
rxb=$(echo "$s" | jq '.sessions[0].rx.bytes'); rxp=$(echo "$s" | jq '.sessions[0].rx.packets')
t=$(wait_gone 7300)
es_expect_ge "collected after the linger (1.5 s), ms" "$t" 1000
es_expect_le "collected promptly after the linger, ms" "$t" 3000
es_expect_eq "fin counted" "$(closed fin)" 1
# The closing ACK that follows FIN must not re-create the session.
sleep 0.5
es_expect_eq "no straggler entry re-created" "$(port_sessions 7300)" 0
es_expect_eq "closed bytes equal the session's rx bytes" \
	"$(es_metric b "edgeshift_closed_session_bytes_total{$LBL,direction=\"rx\"}")" "$rxb"
es_expect_eq "closed packets equal the session's rx packets" \
	"$(es_metric b "edgeshift_closed_session_packets_total{$LBL,direction=\"rx\"}")" "$rxp"
es_expect_ge "interface counter monotonic across collection" \
	"$(es_metric b "edgeshift_interface_bytes_total{$LBL,direction=\"rx\"}")" $((bytes0 + rxb))

# A connection refused with RST.
es_in a timeout 2 bash -c 'exec 3<>/dev/tcp/10.249.0.2/7399' 2>/dev/null
es_expect_eq "refused connection is reset" \
	"$(es_api b '/v1/sessions?port=7399' | jq -r '.sessions[0].state')" reset
t=$(wait_gone 7399)
es_expect_le "reset session collected after the linger, ms" "$t" 3000
es_expect_eq "rst counted" "$(closed rst)" 1

# A UDP exchange that goes quiet is collected as idle.
es_bg es_in b "$T" udp-server --port 7301 --timeout 30
es_wait_listen b u 7301
es_in a "$T" udp-client --to 10.249.0.2 --port 7301 --count 5 --size 32 >/dev/null
t=$(wait_gone 7301)
# The last packet's tick timestamp may be up to a tick early.
es_expect_ge "idle session kept until the idle timeout (3 s), ms" "$t" 2800
es_expect_le "and collected soon after it, ms" "$t" 5000
es_expect_eq "idle counted" "$(closed idle)" 1
es_done
