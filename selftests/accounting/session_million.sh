#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Live sessions and a flood of new tuples in a session map sized to hold
# both: every live session is counted exactly (two packets each), the
# agent answers within 1 s throughout, /metrics stays under 250 ms and the
# agent's memory stays bounded (the readers stream the maps). make check
# runs it at CI size, 100,000 live sessions and a 100,000-tuple flood;
# make bench at full size, ES_MILLION_LIVE=1000000 ES_MILLION_FLOOD=1000000.
# ES_MILLION_TABLE=slots runs it with the slot table
# (session_million_slots.sh): the same checks, IPv4 sessions in the table.
. "$(dirname "$0")/../lib.sh"
es_require_root session_million
LIVE=${ES_MILLION_LIVE:-100000}
FLOOD=${ES_MILLION_FLOOD:-100000}
RSS_MAX_KIB=${ES_MILLION_RSS_MAX_KIB:-65536}
TABLE=${ES_MILLION_TABLE:-maps}
# Twice what it must hold, so that the LRU never has to evict; the table
# has twice its budget in slots already.
MAP=1024
want=$(( LIVE + FLOOD ))
[ "$TABLE" = maps ] && want=$(( 2 * want ))
while [ "$MAP" -lt "$want" ]; do MAP=$((MAP * 2)); done
es_plan 11
echo "{\"session_table\": \"$TABLE\"}" >"$ES_TMP/cfg.json"

es_netns_add a && es_netns_add b || exit 1
es_veth a va 10.247.0.1 b vb 10.247.0.2 || exit 1
VA=$(es_ifname va); VB=$(es_ifname vb)
# Preallocating the maps takes about 5 s per million entries here.
ES_AGENT_READY_TRIES=$(( 100 + MAP / 10000 )) es_agent_start b main --config "$ES_TMP/cfg.json" \
	-s "$MAP" -i "$VB" || exit 1
MAC=$(es_in b ip -j link show dev "$VB" | jq -r '.[0].address')
flood() {	# NET COUNT DPORT
	es_in a "$ES_BUILD/es-flood" --dev "$VA" --dst-mac "$MAC" --src-net "$1" \
		--dst 10.247.0.2 --count "$2" --dport "$3" --timeout 300 --json
}
# /v1/sessions on one destination port (below 1024: es-flood source ports
# start there, so no source port matches it): "matched" and the packets of the
# first session in the given order.
port_query() {	# PORT ORDER
	es_in b curl -sf -m 30 "http://127.0.0.1:$ES_AGENT_PORT/v1/sessions?port=$1&sort=packets&order=$2&limit=1" |
		jq -r '"\(.matched) \(.sessions[0].rx.packets)"'
}
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

t0=$(date +%s%N)
flood 10.211.0.0/16 "$LIVE" 901 >"$ES_TMP/live1.json" &&
	flood 10.211.0.0/16 "$LIVE" 901 >"$ES_TMP/live2.json"
es_diag <<<"live sessions: 2 x $LIVE frames in $(ms "$t0") ms, session_table $TABLE, budget $MAP"

es_bg --out "$ES_TMP/flood.json" es_in a "$ES_BUILD/es-flood" --dev "$VA" --dst-mac "$MAC" \
	--src-net 10.212.0.0/16 --dst 10.247.0.2 --count "$FLOOD" --dport 902 --timeout 300 --json
fl=$ES_BG_PID
fail=0 worst=0
while kill -0 "$fl" 2>/dev/null; do
	t0=$(date +%s%N)
	es_in b curl -sf -m 5 "http://127.0.0.1:$ES_AGENT_PORT/healthz" >/dev/null || fail=$((fail + 1))
	t=$(ms "$t0")
	[ "$t" -gt "$worst" ] && worst=$t
	sleep 0.2
done
wait "$fl"
es_expect_eq "flood sent every tuple" "$(jq .sent "$ES_TMP/flood.json")" "$FLOOD"
es_expect_eq "agent answered every health check during the flood" "$fail" 0
es_expect_le "slowest health check during the flood (ms)" "$worst" 1000
es_diag <<<"flood of $FLOOD tuples: slowest health check $worst ms"

sleep 0.6	# the sweep folds every flow cache slot
t0=$(date +%s%N)
read -r n lo <<<"$(port_query 901 asc)"
list_ms=$(ms "$t0")
read -r _ hi <<<"$(port_query 901 desc)"
es_expect_eq "every live session is listed" "$n" "$LIVE"
es_expect_eq "live sessions: fewest packets" "$lo" 2
es_expect_eq "live sessions: most packets" "$hi" 2
read -r nf _ <<<"$(port_query 902 desc)"
# The table refuses a new session whose two buckets are full and counts
# its packet skipped (no_slot): 15 of 2,000,000 at half the slots in use
# before first buckets kept spare slots, none since. Each flood tuple is a
# session or such a skip; the session maps (twice the size needed) have
# room for every one.
skipped=$(es_api b /metrics | grep -E '^edgeshift_skipped_packets_total.*direction="rx",reason="(no_slot|slot_busy|map_full)"' |
	awk '{ n += $2 } END { print n + 0 }')
es_diag <<<"flood tuples skipped for want of room: $skipped"
es_expect_eq "every flood tuple is a session or a counted skip" "$((nf + skipped))" "$FLOOD"
es_expect_le "flood tuples refused, at most one in a thousand" "$skipped" $((FLOOD / 1000))
es_diag <<<"listing of $((LIVE + FLOOD)) sessions on one port: $list_ms ms"

sleep 1.5	# a collection scan over everything
scrape=$(for i in 1 2 3 4 5; do
	es_in b curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$ES_AGENT_PORT/metrics"
done | sort -g | sed -n 3p)
scrape_ms=$(awk -v s="$scrape" 'BEGIN { printf "%d", s * 1000 }')
es_diag <<<"/metrics with $((LIVE + FLOOD)) sessions: $scrape s (median of 5)"
es_expect_le "/metrics scrape, median of 5 (ms)" "$scrape_ms" 250
es_expect_ge "map entries after the scan" \
	"$(es_metric b "edgeshift_session_map_entries{node=\"$ES_PREFIX-b\",family=\"ipv4\"}")" \
	$((LIVE + FLOOD - skipped))
st=/proc/$ES_AGENT_PID/status
rss=$(awk '/^VmRSS/ { print $2 }' "$st")
es_diag <<<"agent RSS $rss KiB ($(grep -E '^Rss(Anon|File|Shmem)' "$st" | tr -s ' \t' ' ' | paste -sd,)); collection scan $(es_metric b "edgeshift_gc_duration_seconds{node=\"$ES_PREFIX-b\"}") s"
# With the table the agent maps it, and the pages it read count in its RSS
# as shared memory: the kernel's map, not the agent's. Its own memory is
# the anonymous part.
what="agent RSS"
if [ "$TABLE" = slots ]; then
	what="agent RSS less the table it maps (RssAnon)"
	rss=$(awk '/^RssAnon/ { print $2 }' "$st")
fi
es_expect_le "$what with $((LIVE + FLOOD)) sessions (KiB)" "$rss" "$RSS_MAX_KIB"
es_done
