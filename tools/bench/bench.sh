#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `make bench`: every figure is a ratio measured side by side in this run
# (with versus without edgeshift, edgeshift versus a reference). Prints
# tables and writes build/bench/results.json.
. "$(dirname "$0")/../../selftests/lib.sh"
OUT=$ES_BUILD/bench
mkdir -p "$OUT"
rm -f "$OUT"/tcp_with "$OUT"/tcp_without "$OUT"/rr_with "$OUT"/rr_without
ROUNDS=${ES_BENCH_ROUNDS:-7}
SECS=${ES_BENCH_SECS:-3}
T=$ES_BUILD/es-traffic
step() { printf '\n== %s\n' "$*" >&2; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Each area adds its own benchmark as tools/bench/bench.d/NAME.sh: it prints its
# table and writes build/bench/NAME.json. ES_BENCH_ONLY=NAME runs only that
# one ("core" names the accounting benchmark in this file).
run_bench_d() {
	local b name
	for b in "$(dirname "$0")"/bench.d/*.sh; do
		[ -f "$b" ] || continue
		name=$(basename "$b" .sh)
		[ -n "${ES_BENCH_ONLY:-}" ] && [ "$ES_BENCH_ONLY" != "$name" ] && continue
		step "bench.d/$name"
		bash "$b" || echo "bench.d/$name failed (exit $?)" >&2
	done
}
if [ -n "${ES_BENCH_ONLY:-}" ] && [ "$ES_BENCH_ONLY" != core ]; then
	run_bench_d
	exit 0
fi

step "1. XDP per-packet cost (BPF_PROG_TEST_RUN, pinned to one CPU)"
taskset -c 1 "$ES_BUILD/es-bench-xdp" --json >"$OUT/xdp.json"
# every column of the run, "-" where a program does not take the case (the table: IPv6)
jq -r '(.cases[0].columns | keys_unsorted) as $k | (["case"] + $k),
	(.cases[] | . as $c | [.case] + [$k[] as $n | $c.columns[$n] |
	 if . == null then "-" else "\(.ns_per_pkt | floor) \(.ratio * 100 | round / 100)x" end]) |
	@tsv' "$OUT/xdp.json" |
	awk -F'\t' '{ printf "%-16s", $1; for (i = 2; i <= NF; i++) printf " %12s", $i; printf "\n" }' >&2

es_netns_add a && es_netns_add b || exit 1
es_veth a va 10.243.0.1 b vb 10.243.0.2 || exit 1
VB=$(es_ifname vb); VA=$(es_ifname va)
PIN=$(es_pin_path bench)
attach() { es_agent_start b bench -s 262144 -i "$VB" >/dev/null; }
detach() {
	kill "$ES_AGENT_PID"; wait "$ES_AGENT_PID" 2>/dev/null
	"$ES_BUILD/edgeshiftd" --cleanup -p "$PIN" --state-dir "$ES_TMP"
}

step "2. TCP throughput (iperf3) and UDP request/response rate: $ROUNDS rounds of ${SECS}s, without and with interleaved"
es_bg es_in b iperf3 -s -p 5201
es_bg es_in b "$T" udp-server --port 7600 --timeout 3600
sleep 0.3
iperf() { es_in a iperf3 -c 10.243.0.2 -p 5201 -t "$SECS" -J | jq '.end.sum_received.bits_per_second'; }
rr() { es_in a "$T" udp-rr --to 10.243.0.2 --port 7600 --duration "$SECS" --json | jq .tps; }
measure() { echo "$(iperf)" >>"$OUT/tcp_$1"; echo "$(rr)" >>"$OUT/rr_$1"; }
with_acct() { attach; measure with; detach; }
# The side that goes first alternates from round to round, so neither
# side always meets the other's after-effects.
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then measure without; with_acct; else with_acct; measure without; fi
	echo "  round $r done" >&2
done
# This 2-core VM is noisy: the ratio reported is the median of the
# per-round ratios (each round measures both sides back to back).
pair_ratio() { paste "$OUT/$1_with" "$OUT/$1_without" | awk '{ print $1 / $2 }' | median; }
tcp_wo=$(median <"$OUT/tcp_without"); tcp_w=$(median <"$OUT/tcp_with")
rr_wo=$(median <"$OUT/rr_without"); rr_w=$(median <"$OUT/rr_with")
tcp_ratio=$(pair_ratio tcp); rr_ratio=$(pair_ratio rr)
# The tcx programs' own time (kernel.bpf_stats_enabled) in one more run
# of each load with accounting: the statistics add two clock reads to
# every run of every program, which the rounds above must not count.
# Their share of one CPU over the run, and their time a packet (a GSO or
# GRO super-packet is one run): a bound on what accounting can take from
# the load, finer than the rounds' spread.
tcx_runs() { # "ingress_runs ingress_ns egress_runs egress_ns", cumulative
	bpftool -j prog show | jq -r '[.[] | select(.name == "es_tc_ingress" or .name == "es_tc_egress")] as $p |
		def of($n): [$p[] | select(.name == $n)] | [(map(.run_cnt // 0) | add // 0),
			(map(.run_time_ns // 0) | add // 0)];
		of("es_tc_ingress") + of("es_tc_egress") | @tsv'
}
tcx_json() { # BEFORE AFTER: the programs' figures over what ran between
	jq -n --argjson s "$SECS" --arg a "$1" --arg b "$2" '
		($a | split("\t") | map(tonumber)) as $x | ($b | split("\t") | map(tonumber)) as $y |
		[range(4)] | map($y[.] - $x[.]) as $d |
		def per($r; $n): if $r > 0 then $n / $r else null end;
		{ingress: {runs: $d[0], ns_per_run: per($d[0]; $d[1])},
		 egress: {runs: $d[2], ns_per_run: per($d[2]; $d[3])},
		 cpu_share: (($d[1] + $d[3]) / ($s * 1e9))}'
}
attach
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
t0=$(tcx_runs); iperf >/dev/null; t1=$(tcx_runs); rr >/dev/null; t2=$(tcx_runs)
sysctl -qw kernel.bpf_stats_enabled="$stats_was"
# no bpftool figures: null, and the summary says so
tcx=$(jq -n --argjson i "$(tcx_json "$t0" "$t1" 2>/dev/null || echo null)" \
	--argjson r "$(tcx_json "$t1" "$t2" 2>/dev/null || echo null)" '{iperf3: $i, udp_rr: $r}') ||
	tcx=null
detach

step "3. /metrics scrape and agent memory: 100,000 live sessions against an empty map"
attach
# Every figure is the median of 5 requests, and both sides are warmed
# first: the first request to a fresh agent pays for its lazy set-up
# (allocations, the interface cache), which is not a per-session cost.
get_median() {
	local i
	for i in 1 2 3 4 5; do
		es_in b curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$ES_AGENT_PORT$1"
	done | median
}
warm() { get_median /metrics >/dev/null; get_median '/v1/sessions?limit=10' >/dev/null; }
scrape() { get_median /metrics; }
listing() { get_median '/v1/sessions?limit=10'; }
warm
scrape_empty=$(scrape); list_empty=$(listing)
rss_empty=$(awk '/VmRSS/ { print $2 }' "/proc/$ES_AGENT_PID/status")
anon_empty=$(awk '/RssAnon/ { print $2 }' "/proc/$ES_AGENT_PID/status")
MAC=$(es_in b ip -j link show dev "$VB" | jq -r '.[0].address')
es_in a "$ES_BUILD/es-flood" --dev "$VA" --dst-mac "$MAC" --src-net 10.201.0.0/16 \
	--dst 10.243.0.2 --count 100000 --json >/dev/null 2>&1
sleep 2.5	# a collection scan fills the snapshot
warm
live=$(es_metric b "edgeshift_session_map_entries{node=\"$ES_PREFIX-b\",family=\"ipv4\"}")
scrape_full=$(scrape); list_full=$(listing)
rss_full=$(awk '/VmRSS/ { print $2 }' "/proc/$ES_AGENT_PID/status")
# less the slot table the agent maps (the BPF array's pages, not the agent's own memory)
anon_full=$(awk '/RssAnon/ { print $2 }' "/proc/$ES_AGENT_PID/status")
gc_s=$(es_metric b "edgeshift_gc_duration_seconds{node=\"$ES_PREFIX-b\"}")
detach

step "4. One million live sessions and a one-million-tuple flood (selftests/accounting/session_million.sh at full size)"
ES_MILLION_LIVE=${ES_MILLION_LIVE:-1000000} ES_MILLION_FLOOD=${ES_MILLION_FLOOD:-1000000} \
	ES_MILLION_RSS_MAX_KIB=${ES_MILLION_RSS_MAX_KIB:-131072} \
	bash "$(dirname "$0")/../../selftests/accounting/session_million.sh" | tee "$OUT/million.tap" >&2
echo "   the same with the slot table (session_table: slots)" >&2
ES_MILLION_LIVE=${ES_MILLION_LIVE:-1000000} ES_MILLION_FLOOD=${ES_MILLION_FLOOD:-1000000} \
	ES_MILLION_RSS_MAX_KIB=${ES_MILLION_RSS_MAX_KIB:-131072} \
	bash "$(dirname "$0")/../../selftests/accounting/session_million_slots.sh" |
	tee "$OUT/million_slots.tap" >&2

jq -n --slurpfile xdp "$OUT/xdp.json" \
	--argjson tw "$tcp_w" --argjson two "$tcp_wo" --argjson rw "$rr_w" --argjson rwo "$rr_wo" \
	--argjson tr "$tcp_ratio" --argjson rr "$rr_ratio" --argjson rounds "$ROUNDS" \
	--argjson se "$scrape_empty" --argjson sf "$scrape_full" --argjson le "$list_empty" \
	--argjson lf "$list_full" --argjson re "$rss_empty" --argjson rf "$rss_full" \
	--argjson ae "$anon_empty" --argjson af "$anon_full" \
	--argjson live "${live:-0}" --argjson gc "${gc_s:-0}" --argjson tcx "${tcx:-null}" '{
	xdp: $xdp[0],
	rounds: $rounds,
	tcp_throughput_bps: { without: $two, with: $tw, ratio: $tr },
	tcx_programs: $tcx,
	udp_rr_tps: { without: $rwo, with: $rw, ratio: $rr },
	scrape_s: { empty: $se, live_sessions: $live, full: $sf, ratio: ($sf / $se) },
	session_listing_s: { empty: $le, full: $lf },
	agent_rss_kib: { empty: $re, full: $rf },
	agent_rss_anon_kib: { empty: $ae, full: $af },
	gc_scan_s_full: $gc
}' >"$OUT/results.json"

r=$OUT/results.json
printf '\n%-44s %14s %14s %9s\n' "measurement" "without/ref" "with" "ratio"
# the agent's default keeps the sessions in the slot table (the column
# table), the maps are the column edgeshift
jq -r '.xdp.cases[] | (.columns.table // {ns_per_pkt, ratio}) as $d |
	[.case + " ns/pkt vs XDP_PASS", .xdp_pass_ns_per_pkt, $d.ns_per_pkt, $d.ratio],
	[.case + " (maps) ns/pkt vs XDP_PASS", .xdp_pass_ns_per_pkt, .ns_per_pkt, .ratio] | @tsv' "$r" |
	awk -F'\t' '{ printf "%-44s %14.1f %14.1f %8.2fx\n", $1, $2, $3, $4 }'
jq -r '.xdp.cases[] | [.case + " ns/pkt vs before the flow cache", .before_ns_per_pkt, .ns_per_pkt, .vs_before],
	[.case + " ns/pkt vs naive design", .naive_ns_per_pkt, .ns_per_pkt, .vs_naive] | @tsv' "$r" |
	awk -F'\t' '{ printf "%-44s %14.1f %14.1f %8.2fx\n", $1, $2, $3, $4 }'
jq -r '["TCP throughput Gbit/s (iperf3)", .tcp_throughput_bps.without / 1e9, .tcp_throughput_bps.with / 1e9, .tcp_throughput_bps.ratio],
	["UDP request/response per s", .udp_rr_tps.without, .udp_rr_tps.with, .udp_rr_tps.ratio],
	["/metrics scrape ms: empty vs \(.scrape_s.live_sessions) sessions", .scrape_s.empty * 1e3, .scrape_s.full * 1e3, .scrape_s.ratio],
	["/v1/sessions?limit=10 ms: empty vs full", .session_listing_s.empty * 1e3, .session_listing_s.full * 1e3, (.session_listing_s.full / .session_listing_s.empty)],
	["collection scan ms (full)", 0, .gc_scan_s_full * 1e3, 0],
	["agent RSS KiB: empty vs full", .agent_rss_kib.empty, .agent_rss_kib.full, (.agent_rss_kib.full / .agent_rss_kib.empty)],
	["agent RSS less the mapped table (RssAnon) KiB", .agent_rss_anon_kib.empty, .agent_rss_anon_kib.full, (.agent_rss_anon_kib.full / .agent_rss_anon_kib.empty)] | @tsv' "$r" |
	awk -F'\t' '{ printf "%-44s %14.3f %14.3f %8.3fx\n", $1, $2, $3, $4 }'
# the tcx programs' own time: ns a run, and per cent of one CPU over the run
jq -r '.tcx_programs // {} | to_entries[] | select(.value != null) |
	[.key, .value.ingress.ns_per_run, .value.egress.ns_per_run, .value.cpu_share * 100] | @tsv' "$r" |
	awk -F'\t' '{ printf "tcx programs under %-9s ns a run: in %.0f, out %.0f; %.2f %% of one CPU\n", $1, $2, $3, $4 }'
echo "JSON: $r"

es_cleanup
run_bench_d
