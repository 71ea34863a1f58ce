#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# GET /v1/sessions?limit=10 at 100,000 live sessions: the collection
# scan's index (source=auto, what a client gets by default on a node this
# large) against a read of every session (source=live), in interleaved
# rounds (the side that goes first alternates), medians of curl's
# time_total. Beside it, the collection scan's duration with the index
# kept (edgeshift_gc_duration_seconds, one sample a round) and the
# agent's RSS at the end.
# ES_BENCH_LISTING_ROUNDS rounds (default 15), ES_BENCH_LISTING_SESSIONS
# sessions (default 100000).
. "$(dirname "$0")/../../../selftests/lib.sh"
ROUNDS=${ES_BENCH_LISTING_ROUNDS:-15} N=${ES_BENCH_LISTING_SESSIONS:-100000}
OUT=$ES_BUILD/bench
mkdir -p "$OUT"
median() { jq -s 'sort | .[(length - 1) / 2 | floor]' "$1"; }

es_ns_pair 10.243.0 || exit 1
es_agent_start b bench -s 262144 -i "$VB" >/dev/null || exit 1
MAC=$(es_in b ip -j link show dev "$VB" | jq -r '.[0].address')
es_in a "$ES_BUILD/es-flood" --dev "$VA" --dst-mac "$MAC" --src-net 10.201.0.0/16 \
	--dst 10.243.0.2 --count "$N" --json >/dev/null || exit 1
sleep 2.5	# a collection scan has published its index

url() { echo "http://127.0.0.1:$ES_AGENT_PORT/v1/sessions?limit=10&source=$1"; }
# one request: "seconds source matched"
get() {
	es_in b curl -s -o "$ES_TMP/body" -w '%{time_total}\n' "$(url "$1")" | tr -d '\n'
	jq -r '" \(.source) \(.matched)"' "$ES_TMP/body"
}
for s in live auto live auto; do get $s >/dev/null; done	# warm both
: >"$OUT/listing_live"; : >"$OUT/listing_index"; : >"$OUT/listing_gc"
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then sides="live auto"; else sides="auto live"; fi
	for s in $sides; do
		set -- $(get $s)
		[ "$s" = live ] && echo "$1" >>"$OUT/listing_live" || echo "$1" >>"$OUT/listing_index"
		[ "$s" = auto ] && idx_src=$2 && matched=$3
	done
	es_metric b "edgeshift_gc_duration_seconds{node=\"$ES_PREFIX-b\"}" >>"$OUT/listing_gc"
	sleep 0.2
done
live=$(median "$OUT/listing_live"); idx=$(median "$OUT/listing_index")
gc=$(median "$OUT/listing_gc")
age=$(es_in b curl -s "$(url auto)" | jq .age_ms)
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$ES_AGENT_PID/status")
jq -n --argjson n "$matched" --arg src "$idx_src" --argjson live "$live" --argjson idx "$idx" \
	--argjson gc "$gc" --argjson age "$age" --argjson rounds "$ROUNDS" --argjson rss "$rss" '{
	sessions: $n, rounds: $rounds, index_source: $src,
	listing_limit10_s: { live: $live, index: $idx, ratio: ($idx / $live) },
	index_age_ms_sample: $age, gc_scan_s_median: $gc, agent_rss_kib: $rss
}' >"$OUT/listing.json"
printf '%-44s %10s %10s %8s\n' "/v1/sessions?limit=10, $matched sessions" "live" "index" "ratio"
jq -r '.listing_limit10_s | [.live * 1000, .index * 1000, .ratio] | @tsv' "$OUT/listing.json" |
	awk -F'\t' '{ printf "%-44s %8.2fms %8.2fms %7.3fx\n", "  median of '"$ROUNDS"' interleaved rounds", $1, $2, $3 }'
jq -r '"  index answered as: \(.index_source); its age in one sample: \(.index_age_ms_sample | floor) ms; collection scan median: \(.gc_scan_s_median * 1000 | floor) ms; agent RSS \(.agent_rss_kib) KiB"' "$OUT/listing.json"
es_cleanup
