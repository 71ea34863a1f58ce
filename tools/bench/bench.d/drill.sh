#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Zero-downtime migration drill figures, each side by side in one run:
#  - response time while forwarding (median of the requests between the
#    handoff and the checkpoint) against the emulated RTT plus the
#    service's own time (median before the handoff): goal within 10 %; at
#    1/s that window (0.6-0.8 s) may hold no request: "no sample";
#  - mean response time over a run with a handoff (reference: 0.0289 s,
#    partial, 1 req/s, 200 s) against the same run without migration;
#  - the longest gap between consecutive replies during the migration
#    against the same run without migration (ReSync: 0.35-0.38 s downtime);
#  - the highest request rate with 0 lost and 0 answered twice.
# DRILL_BENCH_COUNT (200) requests at DRILL_BENCH_RATE (1)/s, WAN 2 x
# DRILL_BENCH_DELAY_MS (100) ms, 10 MB/s; DRILL_BENCH_RATES for the sweep.
. "$(dirname "$0")/../../../selftests/lib.sh"
OUT=$ES_BUILD/bench
mkdir -p "$OUT"
COUNT=${DRILL_BENCH_COUNT:-200}
RATE=${DRILL_BENCH_RATE:-1}
DELAY=${DRILL_BENCH_DELAY_MS:-100}
RATES=${DRILL_BENCH_RATES:-50 100 200 400}
D=$ES_TMP/d

run() { # NAME ARGS...
	local n=$1
	shift
	bash "$ES_ROOT/tools/drill/drill.sh" --quiet --out "$D/$n" --delay-ms "$DELAY" "$@" >/dev/null 2>&1
	cat "$D/$n/report.json" 2>/dev/null || echo '{}'
}
H=$((COUNT / 4))
[ "$H" -ge 1 ] || H=1
mig=$(run mig --rate "$RATE" --count "$COUNT" --handoff-at "$H")
base=$(run base --rate "$RATE" --count "$COUNT" --handoff-at 0)
sweep='[]'
for r in $RATES; do
	rep=$(run "r$r" --rate "$r" --count $((r * 8)) --handoff-at $((r * 2)) --delay-ms 20)
	ok=$(jq -r '(.requests.lost == 0 and .requests.answered_twice == 0 and .passed) // false' <<<"$rep")
	sweep=$(jq -c --argjson r "$r" --argjson ok "$ok" '. + [{rate: $r, clean: $ok}]' <<<"$sweep")
	[ "$ok" = true ] || break
done
jq -n --argjson m "$mig" --argjson b "$base" --argjson s "$sweep" --argjson d "$DELAY" '
	def median: sort | if length == 0 then null else .[length / 2 | floor] end;
	($m.per_request // []) as $p |
	($p | map(select(.seq < $m.markers.handoff and .ms != null) | .ms) | median) as $svc |
	($p | map(select(.seq > $m.markers.handoff and .seq < $m.markers.checkpoint and .ms != null) | .ms) | median) as $fwd |
	{ forwarding: { median_ms: $fwd, emulated_rtt_plus_service_ms: (2 * $d + $svc),
	    ratio: (if $fwd then $fwd / (2 * $d + $svc) else null end) },
	  mean_response_s: { with_migration: ($m.response_time_ms.mean / 1000),
	    without_migration: ($b.response_time_ms.mean / 1000), paper_d_partial: 0.0289 },
	  longest_gap_ms: { with_migration: $m.max_gap_ms.during_migration,
	    without_migration: $b.max_gap_ms.before_handoff, forwarding_rtt_ms: (2 * $d),
	    resync_downtime_ms: [350, 380] },
	  lost_twice: { with_migration: [$m.requests.lost, $m.requests.answered_twice],
	    without_migration: [$b.requests.lost, $b.requests.answered_twice] },
	  migration: { state: $m.migration.state, phases: $m.phases },
	  rate_sweep: $s, highest_clean_rate: ([$s[] | select(.clean) | .rate] | max) }' >"$OUT/drill.json"
j=$OUT/drill.json
printf '\n%-52s %12s %12s %8s\n' "drill ($COUNT req at $RATE/s, RTT $((2 * DELAY)) ms)" "reference" "measured" "ratio"
jq -r '[["forwarding response ms (median) vs RTT + service", .forwarding.emulated_rtt_plus_service_ms, .forwarding.median_ms, .forwarding.ratio],
	["mean response s: with migration vs without", .mean_response_s.without_migration, .mean_response_s.with_migration,
	 (.mean_response_s.with_migration / .mean_response_s.without_migration)],
	["mean response s: with migration vs Paper D partial", 0.0289, .mean_response_s.with_migration,
	 (.mean_response_s.with_migration / 0.0289)],
	["longest reply gap ms: migration vs none", .longest_gap_ms.without_migration, .longest_gap_ms.with_migration,
	 (.longest_gap_ms.with_migration / .longest_gap_ms.without_migration)],
	["longest reply gap ms: migration vs forwarding RTT", .longest_gap_ms.forwarding_rtt_ms, .longest_gap_ms.with_migration,
	 (.longest_gap_ms.with_migration / .longest_gap_ms.forwarding_rtt_ms)]][] | @tsv' "$j" |
	awk -F'\t' '$3 == "" { printf "%-52s %12.4f %12s %8s\n", $1, $2, "no sample", "-"; next }
		{ printf "%-52s %12.4f %12.4f %7.3fx\n", $1, $2, $3, $4 }'
jq -r '"highest rate with 0 lost, 0 twice (40 ms RTT): \(.highest_clean_rate) req/s (sweep \(.rate_sweep | map("\(.rate):\(.clean)") | join(" ")))"' "$j"
echo "JSON: $j"
