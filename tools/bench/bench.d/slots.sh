#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The readers with session_table: slots against session_table: maps, at
# 100,000 live IPv4 sessions each: two agents side by side (one a
# namespace pair), both sized with session_map_size 262,144 and flooded
# with the same tuples; then interleaved rounds (the side that goes first
# alternates) of GET /v1/sessions?limit=10&source=live (a read of every
# session: batched map look-ups against a walk of the table's mmap) and
# GET /metrics, medians of curl's time_total; beside them the collection
# scan's duration (one sample a round) and each agent's RSS at the end
# (anonymous, and VmRSS which counts the table's mapped pages).
# ES_BENCH_SLOTS_ROUNDS rounds (default 15), ES_BENCH_SLOTS_SESSIONS
# sessions (default 100000).
. "$(dirname "$0")/../../../selftests/lib.sh"
ROUNDS=${ES_BENCH_SLOTS_ROUNDS:-15} N=${ES_BENCH_SLOTS_SESSIONS:-100000}
OUT=$ES_BUILD/bench

es_ns_pair 10.242.0 || exit 1
es_netns_add c && es_netns_add d || exit 1
es_no_ipv6 c d
es_veth c vc 10.242.1.1 d vd 10.242.1.2 || exit 1
VC=$(es_ifname vc); VD=$(es_ifname vd)
echo '{"session_table": "slots"}' >"$ES_TMP/slots.json"
es_agent_start b maps -s 262144 -i "$VB" >/dev/null || exit 1
PID_MAPS=$ES_AGENT_PID
es_agent_start d slots -s 262144 --config "$ES_TMP/slots.json" -i "$VD" >/dev/null || exit 1
PID_SLOTS=$ES_AGENT_PID
# flood VA/VB ADDR NS: N new tuples into the agent behind it
flood() {
	local mac
	mac=$(es_in "$4" ip -j link show dev "$2" | jq -r '.[0].address')
	es_in "$5" "$ES_BUILD/es-flood" --dev "$1" --dst-mac "$mac" --src-net 10.202.0.0/16 \
		--dst "$3" --count "$N" --rate 200000 --json >/dev/null
}
flood "$VA" "$VB" 10.242.0.2 b a || exit 1
flood "$VC" "$VD" 10.242.1.2 d c || exit 1
sleep 2.5	# a collection scan on each side

ns_of() { [ "$1" = maps ] && echo b || echo d; }
# one request: seconds (and, for the listing, the sessions matched into $ES_TMP/matched_SIDE)
get() {
	local ns
	ns=$(ns_of "$1")
	es_in "$ns" curl -s -o "$ES_TMP/body_$1" -w '%{time_total}\n' \
		"http://127.0.0.1:$ES_AGENT_PORT$2"
}
for s in maps slots maps slots; do get $s '/v1/sessions?limit=10&source=live' >/dev/null; done
mkdir -p "$OUT"
for f in list_maps list_slots metrics_maps metrics_slots gc_maps gc_slots; do
	: >"$OUT/slots_$f"
done
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then sides="maps slots"; else sides="slots maps"; fi
	for s in $sides; do
		get $s '/v1/sessions?limit=10&source=live' >>"$OUT/slots_list_$s"
		jq .matched "$ES_TMP/body_$s" >"$ES_TMP/matched_$s"
		get $s /metrics >>"$OUT/slots_metrics_$s"
		awk -v m="edgeshift_gc_duration_seconds{" 'index($0, m) == 1 { print $NF; exit }' \
			"$ES_TMP/body_$s" >>"$OUT/slots_gc_$s"
	done
	sleep 0.2
done
# RSS without the mapped table: its pages are the BPF map's own memory, counted once, in
# the kernel, whichever process maps them (RssFile/RssShmem); RssAnon is the agent's.
# the median of one series of rounds
med() { jq -s 'sort | .[(length - 1) / 2 | floor]' "$OUT/slots_$1"; }
rss() { awk '/RssAnon/ { print $2 }' "/proc/$1/status"; }
rss_all() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
jq -n --argjson rounds "$ROUNDS" \
	--argjson nm "$(cat "$ES_TMP/matched_maps")" --argjson ns "$(cat "$ES_TMP/matched_slots")" \
	--argjson lm "$(med list_maps)" --argjson ls "$(med list_slots)" \
	--argjson mm "$(med metrics_maps)" --argjson ms "$(med metrics_slots)" \
	--argjson gm "$(med gc_maps)" --argjson gs "$(med gc_slots)" \
	--argjson rm "$(rss "$PID_MAPS")" --argjson rs "$(rss "$PID_SLOTS")" \
	--argjson vm "$(rss_all "$PID_MAPS")" --argjson vs "$(rss_all "$PID_SLOTS")" '{
	rounds: $rounds, sessions: { maps: $nm, slots: $ns },
	listing_live_limit10_s: { maps: $lm, slots: $ls, ratio: ($ls / $lm) },
	metrics_s: { maps: $mm, slots: $ms, ratio: ($ms / $mm) },
	gc_scan_s_median: { maps: $gm, slots: $gs, ratio: ($gs / $gm) },
	agent_rss_anon_kib: { maps: $rm, slots: $rs }, agent_vmrss_kib: { maps: $vm, slots: $vs }
}' >"$OUT/slots.json"
printf '%-46s %10s %10s %8s\n' "session_table, $N flooded tuples" "maps" "slots" "ratio"
jq -r '(["/v1/sessions?limit=10&source=live", .listing_live_limit10_s],
	["/metrics", .metrics_s], ["collection scan", .gc_scan_s_median]) |
	[.[0], .[1].maps * 1000, .[1].slots * 1000, .[1].ratio] | @tsv' "$OUT/slots.json" |
	awk -F'\t' '{ printf "  %-44s %8.2fms %8.2fms %7.3fx\n", $1, $2, $3, $4 }'
jq -r '"  sessions matched: maps \(.sessions.maps), slots \(.sessions.slots); agent RssAnon: maps \(.agent_rss_anon_kib.maps) KiB, slots \(.agent_rss_anon_kib.slots) KiB (VmRSS with the mapped table: \(.agent_vmrss_kib.maps), \(.agent_vmrss_kib.slots)); medians of \(.rounds) interleaved rounds"' "$OUT/slots.json"
es_cleanup
