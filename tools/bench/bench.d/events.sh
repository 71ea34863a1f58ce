#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The Detector (docs/events.md): events per second one emitter delivers to
# a local receiver, binary against structured content mode in interleaved
# rounds (es-events-emit: the agent's events room alone, spool and
# delivery thread included; the receiver a bare Node HTTP server that
# answers 204), with the CPU it takes, and binary with 4 events in flight
# (events.parallelism); then the
# time from a session's first packet to its event at a receiver on the
# CloudEvents SDK, with the real agent on a veth, at the default
# gc_interval_ms (1000) and at 250.
# ES_BENCH_EVENTS_N events per round (default 20000), ES_BENCH_ROUNDS rounds.
. "$(dirname "$0")/../../../selftests/lib.sh"
. "$(dirname "$0")/../../../selftests/events/events_lib.sh"
OUT=$ES_BUILD/bench
mkdir -p "$OUT"
N=${ES_BENCH_EVENTS_N:-20000}
ROUNDS=${ES_BENCH_ROUNDS:-7}
SESS=${ES_BENCH_EVENTS_SESSIONS:-1000}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

es_netns_add r || exit 1
cat >"$ES_TMP/sink.js" <<'JS'
require('http').createServer((q, r) => {
	q.resume();
	q.on('end', () => { r.writeHead(204); r.end(); });
}).listen(Number(process.argv[2]), '127.0.0.1');
JS
es_bg es_in r node "$ES_TMP/sink.js" 8080
sleep 0.5
round() {	# NAME MODE PARALLELISM
	rm -rf "$ES_TMP/spool"
	es_in r "$ES_BUILD/es-events-emit" --count "$N" --wait 300 --config \
		"{\"sink\": \"http://127.0.0.1:8080/\", \"spool_dir\": \"$ES_TMP/spool\",
		  \"types\": [\"session.opened\"], \"content_mode\": \"$2\", \"parallelism\": $3}" 2>/dev/null |
		jq -r "[.delivered / .drain_s, .cpu_s / .delivered * 1e6, .cpu_s / .drain_s * 100] | @tsv" \
		>>"$ES_TMP/$1"
}
# The order rotates from round to round: none always runs first.
cases=("binary binary 1" "structured structured 1" "binary_p4 binary 4")
for r in $(seq "$ROUNDS"); do
	for i in 0 1 2; do round ${cases[$(( (i + r) % 3 ))]}; done
done
col() { cut -f"$2" "$ES_TMP/$1" | median; }
for m in binary structured binary_p4; do
	printf '%-11s %10.0f events/s  %6.1f us CPU/event  %5.0f %% of a CPU  (median of %s rounds of %s)\n' \
		"$m" "$(col $m 1)" "$(col $m 2)" "$(col $m 3)" "$ROUNDS" "$N" >&2
done

# First packet to event: the agent, es-flood sessions, the SDK receiver.
ev_sdk_or_skip events_bench >/dev/null
es_netns_add a && es_netns_add b || exit 1
es_no_ipv6 a b
es_veth a va 10.241.0.1 b vb 10.241.0.2 || exit 1
VA=$(es_ifname va); VB=$(es_ifname vb)
MAC=$(es_in b ip -j link show dev "$VB" | jq -r '.[0].address')
# Not in $(...): a subshell's agent pins would escape the cleanup (ES_PINS).
latency() {	# GC_MS NET: "p50 p99 n" ms over SESS sessions into $ES_TMP/latGC_MS.txt
	local name=lat$1
	echo "{\"state_dir\": \"$ES_TMP/state$1\", \"gc_interval_ms\": $1,
	       \"events\": {\"sink\": \"http://127.0.0.1:8090/\", \"types\": [\"session.opened\"]}}" >"$ES_TMP/$name.json"
	ev_receiver b "$name" 8090 >/dev/null || return 1
	es_agent_start b "$name" -c "$ES_TMP/$name.json" -i "$VB" >/dev/null || return 1
	es_in a "$ES_BUILD/es-flood" --dev "$VA" --dst-mac "$MAC" --src-net "$2" --dst 10.241.0.2 \
		--count "$SESS" --dport 9 --rate 500 --json >/dev/null
	for _ in $(seq 100); do [ "$(ev_jq "$name" length)" -ge "$SESS" ] && break; sleep 0.1; done
	kill "$ES_AGENT_PID"; wait "$ES_AGENT_PID" 2>/dev/null
	ev_stop "$EV_RX_PID"
	ev_jq "$name" '[.[] | (.recv_ns - .data.first_seen_ns) / 1e6] | sort |
		"\(.[length / 2 | floor] | floor) \(.[length * 99 / 100 | floor] | floor) \(length)"' \
		>"$ES_TMP/$name.txt"
}
latency 1000 10.242.1.0/24
latency 250 10.242.2.0/24
l1000=$(cat "$ES_TMP/lat1000.txt")
l250=$(cat "$ES_TMP/lat250.txt")
for l in "1000 $l1000" "250 $l250"; do
	set -- $l
	printf 'first packet to event, gc_interval_ms %4s: p50 %5s ms  p99 %5s ms  (%s sessions at 500/s)\n' "$1" "$2" "$3" "$4" >&2
done
jq -n --argjson rounds "$ROUNDS" --argjson n "$N" \
	--arg b "$(col binary 1)" --arg s "$(col structured 1)" \
	--arg bc "$(col binary 2)" --arg sc "$(col structured 2)" \
	--arg bp "$(col binary 3)" --arg l1000 "$l1000" --arg l250 "$l250" \
	--arg b4 "$(col binary_p4 1)" --arg b4c "$(col binary_p4 2)" \
	'{rounds: $rounds, events_per_round: $n,
	  binary_events_per_s: ($b | tonumber), structured_events_per_s: ($s | tonumber),
	  binary_cpu_us_per_event: ($bc | tonumber), structured_cpu_us_per_event: ($sc | tonumber),
	  binary_cpu_percent: ($bp | tonumber),
	  binary_parallelism4_events_per_s: ($b4 | tonumber), binary_parallelism4_cpu_us_per_event: ($b4c | tonumber),
	  first_packet_to_event_ms: {gc_1000: ($l1000 | split(" ") | {p50: .[0] | tonumber, p99: .[1] | tonumber}),
				     gc_250: ($l250 | split(" ") | {p50: .[0] | tonumber, p99: .[1] | tonumber})}}' \
	>"$OUT/events.json"
