#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# 1,000,000 distinct tuples into a 65,536-entry session map while a live
# session runs: the live session stays exactly accounted, evictions are
# counted, and the agent keeps answering. The LRU maps (session_table:
# maps); the slot table's flood, which refuses instead of evicting, is
# session_million_slots.sh's.
. "$(dirname "$0")/../lib.sh"
es_require_root session_flood
es_plan 8

es_netns_add a && es_netns_add b || exit 1
es_veth a va 10.244.0.1 b vb 10.244.0.2 || exit 1
VA=$(es_ifname va); VB=$(es_ifname vb)
T=$ES_BUILD/es-traffic
echo '{"session_table": "maps"}' >"$ES_TMP/cfg.json"
es_agent_start b main --config "$ES_TMP/cfg.json" -s 65536 -i "$VB" || exit 1
MAC=$(es_in b ip -j link show dev "$VB" | jq -r '.[0].address')

es_bg es_in b "$T" udp-server --port 7500 --timeout 60
es_wait_listen b u 7500
es_bg --out "$ES_TMP/live.json" es_in a "$T" udp-client --to 10.244.0.2 --port 7500 \
	--count 1200 --size 64 --rate 100 --timeout 40 --json
live=$ES_BG_PID
sleep 1
es_bg --out "$ES_TMP/flood.json" es_in a "$ES_BUILD/es-flood" --dev "$VA" --dst-mac "$MAC" \
	--src-net 10.200.0.0/16 --dst 10.244.0.2 --count 1000000 --timeout 60 --json
flood=$ES_BG_PID

# The agent must answer throughout the flood.
fail=0 worst=0
while kill -0 "$flood" 2>/dev/null; do
	t0=$(date +%s%N)
	es_api b /healthz >/dev/null || fail=$((fail + 1))
	t=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ $t -gt $worst ] && worst=$t
	sleep 0.2
done
wait "$flood"
es_expect_eq "flood sent 1,000,000 distinct tuples" "$(jq .sent "$ES_TMP/flood.json")" 1000000
es_expect_eq "agent answered every health check during the flood" "$fail" 0
es_expect_le "slowest health check during the flood (ms)" "$worst" 1000
wait "$live"
es_expect_eq "live session: every request answered" "$(jq .received "$ES_TMP/live.json")" 1200
sleep 0.3
s=$(es_api b "/v1/sessions?port=7500")
es_expect_eq "live session accounted exactly through the flood" \
	"$(echo "$s" | jq -r '.sessions[0] | "\(.rx.packets) \(.tx.packets)"')" "1200 1200"
sleep 1.2	# one collection scan refreshes the eviction count
es_expect_ge "evictions counted" \
	"$(es_metric b "edgeshift_session_evictions_total{node=\"$ES_PREFIX-b\"}")" 900000
es_expect_le "map entries within capacity" \
	"$(es_metric b "edgeshift_session_map_entries{node=\"$ES_PREFIX-b\",family=\"ipv4\"}")" 65536
t0=$(date +%s%N)
es_api b "/v1/sessions?limit=10" >/dev/null
es_expect_le "full session listing with a full map (ms)" $(( ($(date +%s%N) - t0) / 1000000 )) 2000
es_done
