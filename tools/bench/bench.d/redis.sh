#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# An unmodified Redis through a zero-downtime migration at Paper D's
# conditions (200 ms RTT, 10 MB/s), each figure against the same drill
# without a migration (handoff at 0), run in the same rounds:
#  - the longest gap between two replies of one connection, the worst of
#    the REDIS_BENCH_CONNS (20) connections: goal at most the run without
#    a migration plus one forwarding RTT;
#  - the response time while forwarding (median and p99 of every
#    connection's requests sent after the handoff early enough to reach
#    the old container before the checkpoint froze it: sent at least one
#    one-way delay before the checkpoint began) against the RTT plus the
#    service's own time (median before the handoff): goal within 1.1x.
#    The requests the freeze meets are the longest gap's, not forwarding's;
#  - operations per second of all connections before the handoff, during
#    the migration (handoff to cut-over) and after it;
#  - the highest aggregate request rate (REDIS_BENCH_CONNS connections,
#    40 ms RTT) with 0 lost, 0 twice and 0 reset (goal 5,000/s).
# Each connection sends REDIS_BENCH_RATE (50)/s for REDIS_BENCH_SECONDS
# (20) s; REDIS_BENCH_ROUNDS (1) rounds, medians; REDIS_BENCH_SWEEP is
# the per-connection rates of the sweep; REDIS_BENCH_RECORDS (65536) the
# nodes' replay buffer (zero_downtime.records).
. "$(dirname "$0")/../../../selftests/lib.sh"
OUT=$ES_BUILD/bench
mkdir -p "$OUT"
CONNS=${REDIS_BENCH_CONNS:-20}
RATE=${REDIS_BENCH_RATE:-50}
SECS=${REDIS_BENCH_SECONDS:-20}
ROUNDS=${REDIS_BENCH_ROUNDS:-1}
SWEEP=${REDIS_BENCH_SWEEP:-50 125 250}
DELAY=100
# every request in the window is a record (one segment each: the client
# does not wait for Nagle): 20 connections at 250/s for a few seconds
RECORDS=${REDIS_BENCH_RECORDS:-65536}
COUNT=$((RATE * SECS))
D=$ES_TMP/r
mkdir -p "$D"

run() { # NAME ARGS...
	local n=$1
	shift
	bash "$ES_ROOT/tools/drill/drill.sh" --quiet --out "$D/$n" --service redis --connections "$CONNS" \
		--records "$RECORDS" "$@" >"$D/$n.out" 2>&1 || { echo "redis bench: drill $n failed:" >&2; grep -E "migration|error|failed|reason" "$D/$n.out" | head -12 >&2; }
	echo "$D/$n"
}

# figures DIR: one run's figures from its report and every connection's log
figures() {
	local dir=$1
	shopt -s nullglob
	jq -s --slurpfile r "$dir/report.json" --argjson ow "$((DELAY * 1000000))" '
		def median: sort | if length == 0 then null else .[length / 2 | floor] end;
		def p99: sort | if length == 0 then null else .[(length * 99 / 100) | floor] end;
		$r[0] as $rep |
		($rep.markers.handoff_ns // 0) as $h | ($rep.markers.checkpoint_ns // 0) as $c |
		# every connection: response times before the handoff, and while
		# forwarding, until the requests the checkpoint meets at the source
		(map(select(.recv_ns and .sent_ns) | . + {ms: ((.recv_ns - .sent_ns) / 1e6)})) as $p |
		($p | map(select(.sent_ns < $h) | .ms) | median) as $svc |
		($p | map(select($h > 0 and .sent_ns > $h and .sent_ns + $ow < $c) | .ms)) as $fwd |
		# every connection: its longest gap, and the replies per period
		(group_by(.conn) | map(map(select(.recv_ns)) | sort_by(.recv_ns) |
			[range(1; length) as $i | (.[$i].recv_ns - .[$i - 1].recv_ns) / 1e6] | max // 0)) as $gaps |
		{ longest_gap_ms: ($gaps | max), service_ms: $svc,
		  forwarding_p50_ms: ($fwd | median), forwarding_p99_ms: ($fwd | p99),
		  forwarding_samples: ($fwd | length),
		  replies: (map(select(.recv_ns)) | length), lost: (map(select(.lost)) | length),
		  resets: $rep.requests.resets, passed: $rep.passed, state: $rep.migration.state,
		  migration_ms: ([$rep.phases[]? | select(.phase | startswith("total")) | .ms] | first),
		  ops_per_s: ((map(select(.recv_ns) | .recv_ns) | sort) as $t |
			($rep.markers.handoff_ns // 0) as $hn | ($rep.markers.cutover_ns // 0) as $cn |
			if $hn == 0 or $cn == 0 or ($t | length) == 0 then null else
			{ before: (($t | map(select(. < $hn)) | length) / (($hn - $t[0]) / 1e9)),
			  during: (($t | map(select(. >= $hn and . < $cn)) | length) / (($cn - $hn) / 1e9)),
			  after: (($t | map(select(. >= $cn)) | length) / (($t[-1] - $cn) / 1e9)) } end) }' \
		<(jq -c '. + {conn: 1}' "$dir/client.jsonl"
		  for f in "$dir"/client-*.jsonl; do
			k=${f##*/client-}; k=${k%.jsonl}
			jq -c --argjson k "$k" '. + {conn: $k}' "$f"
		  done)
}

rounds='[]'
for i in $(seq "$ROUNDS"); do
	base=$(figures "$(run "base$i" --rate "$RATE" --count "$COUNT" --handoff-at 0 --delay-ms "$DELAY")")
	mig=$(figures "$(run "mig$i" --rate "$RATE" --count "$COUNT" --handoff-at $((COUNT / 4)) --delay-ms "$DELAY")")
	rounds=$(jq -c --argjson b "${base:-null}" --argjson m "${mig:-null}" \
		'. + [{base: $b, mig: $m, ops_per_s: $m.ops_per_s}]' <<<"$rounds")
done
sweep='[]'
for r in $SWEEP; do
	dir=$(run "s$r" --rate "$r" --count $((r * 8)) --handoff-at $((r * 2)) --delay-ms 20)
	ok=$(jq -r '(.requests.lost == 0 and .requests.answered_twice == 0 and .requests.resets == 0 and
		.passed) // false' "$dir/report.json" 2>/dev/null || echo false)
	sweep=$(jq -c --argjson r "$((r * CONNS))" --argjson ok "$ok" '. + [{rate: $r, clean: $ok}]' <<<"$sweep")
	[ "$ok" = true ] || break
done
jq -n --argjson rs "$rounds" --argjson s "$sweep" --argjson d "$DELAY" --argjson c "$CONNS" --argjson r "$RATE" '
	def median: sort | if length == 0 then null else .[length / 2 | floor] end;
	{ connections: $c, rate_per_connection: $r, rtt_ms: (2 * $d), rounds: $rs,
	  migration_ms: ($rs | map(.mig.migration_ms) | median),
	  longest_gap_ms: { with_migration: ($rs | map(.mig.longest_gap_ms) | median),
	    without_migration: ($rs | map(.base.longest_gap_ms) | median),
	    goal: (($rs | map(.base.longest_gap_ms) | median) + 2 * $d) },
	  forwarding_ms: { p50: ($rs | map(.mig.forwarding_p50_ms) | median),
	    p99: ($rs | map(.mig.forwarding_p99_ms) | median),
	    rtt_plus_service: (2 * $d + ($rs | map(.mig.service_ms) | median)) },
	  ops_per_s: { before: ($rs | map(.ops_per_s.before) | median), during: ($rs | map(.ops_per_s.during) | median),
	    after: ($rs | map(.ops_per_s.after) | median) },
	  clean: ($rs | all(.mig.passed and .mig.lost == 0 and .mig.resets == 0 and .base.lost == 0 and
	    .base.passed)),
	  rate_sweep: $s, highest_clean_rate: ([$s[] | select(.clean) | .rate] | max) }' >"$OUT/redis.json"
j=$OUT/redis.json
printf '\n%-56s %12s %12s %8s\n' "Redis, $CONNS connections at $RATE/s, RTT $((2 * DELAY)) ms" "reference" "measured" "ratio"
jq -r '[["longest reply gap ms: migration vs none", .longest_gap_ms.without_migration, .longest_gap_ms.with_migration],
	["longest reply gap ms: migration vs none + one RTT", .longest_gap_ms.goal, .longest_gap_ms.with_migration],
	["forwarding p50 ms vs RTT + service", .forwarding_ms.rtt_plus_service, .forwarding_ms.p50],
	["forwarding p99 ms vs RTT + service", .forwarding_ms.rtt_plus_service, .forwarding_ms.p99],
	["ops/s during the migration vs before", .ops_per_s.before, .ops_per_s.during],
	["ops/s after the migration vs before", .ops_per_s.before, .ops_per_s.after]][] |
	[.[0], .[1], .[2], (if .[1] and .[2] and .[1] != 0 then .[2] / .[1] else null end)] | @tsv' "$j" |
	awk -F'\t' '{ printf "%-56s %12.1f %12.1f %7.3fx\n", $1, $2, $3, $4 }'
jq -r '"all connections clean (0 lost, 0 reset, drill passed): \(.clean)",
	"highest aggregate rate with 0 lost, 0 twice, 0 reset (40 ms RTT): \(.highest_clean_rate) req/s (sweep \(.rate_sweep | map("\(.rate):\(.clean)") | join(" ")))"' "$j"
echo "JSON: $j"
