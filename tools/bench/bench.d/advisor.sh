#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The scale advisor (docs/scale-advisor.md) on the three-tier es-tier
# pipeline (selftests/advisor/tiers.bash), served by edgeshiftd
# (GET /v1/advice, 500 ms sampling, a window of 12 samples):
# 1. accuracy over injected runs: the tiers as pods (a network namespace
#    each, requests over TCP, a tbf of 1 Gbit/s on each tier's link; the
#    agent in the node's namespace with each block's link); each run loads
#    the pipeline steadily (1500 requests/s) until the window holds only
#    steady samples, then injects one bottleneck in one tier (front, logic
#    or db), at one of two strengths: a CFS quota (5 or 10 ms a 100 ms
#    period: capacities of 500 and 1000 requests/s), a memory limit on a
#    32 MiB working set (4 or 8 MiB), a read throttle on a tier that reads
#    one page with O_DIRECT a request (300 or 500 reads/s), a rate on its
#    link (6 or 8 Mbit/s for about 13 offered); or none (a control run);
#    and polls the advice every 250 ms for 6 s (steady for 10 s before the
#    memory and I/O injections, whose tier first writes its working set).
#    Right: the advice named no tier just before the injection, and the
#    first tier it names after (what a controller would act on) is the
#    injected one (a control: no poll names any). Time to advice: injection
#    to that first answer. Beside it, on the same runs, the baselines "the
#    tier using the most CPU over the window" and "scale everything".
# 2. the cost of sampling: the agent's CPU time with 50 blocks (cgroups,
#    each with a link: the three tiers' in turn) at 1 s against the same
#    agent without an advisor, interleaved rounds.
# ES_BENCH_ADVISOR_REPS repetitions of the 24 injected cases (default 1,
# plus 4 control runs a repetition; the I/O cases are left out, and said
# so, where tiers_io_check fails); ES_BENCH_ADVISOR_KINDS the kinds (default
# "cpu memory io net"); ES_BENCH_ADVISOR_COST_ROUNDS rounds of 20 s a side
# (default 3).
. "$(dirname "$0")/../../../selftests/lib.sh"
. "$(dirname "$0")/../../../selftests/advisor/tiers.bash"
. "$(dirname "$0")/advisor_common.bash"
KINDS=${ES_BENCH_ADVISOR_KINDS:-cpu memory io net}
COST_ROUNDS=${ES_BENCH_ADVISOR_COST_ROUNDS:-3}
# A working set is written and read back first (32 MiB, fsync): its start-up
# stalls the tier, and must be out of the window too.
STEADY_WS_S=10
NCG=50
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

tiers_skip_without_v1
cost_cgroups() {	# mkdir|rmdir
	local i c
	for i in $(seq $NCG); do
		for c in $CTLS; do "$1" $CG/$c/"$ES_PREFIX-c$i" 2>/dev/null; done
	done
}
DELAYACCT=$(cat /proc/sys/kernel/task_delayacct 2>/dev/null)
trap 'tiers_cleanup; cost_cgroups rmdir; [ -n "$DELAYACCT" ] &&
	echo "$DELAYACCT" >/proc/sys/kernel/task_delayacct; es_cleanup' EXIT
make_cgroups
tiers_net_setup || exit 1
if tiers_io_check; then
	echo 1 >/proc/sys/kernel/task_delayacct
else
	echo "advisor: no I/O injections: $TIERS_IO_SKIP" >&2
	KINDS=${KINDS/io/}
fi

blocks=$(for t in $TIERS; do
	printf '{"name": "%s", "cgroup": "%s", "link": "%s"},' $t "$(cg $t)" "$(tiers_link $t)"
done)
agent acc "{\"advisor\": {\"interval_ms\": $INTERVAL_MS, \"samples\": $SAMPLES,
	\"blocks\": [${blocks%,}], \"performance\": {\"file\": \"$ES_TMP/perf\"}}}"

# inject KIND TIER STRENGTH: the bottleneck, now (tiers_limit).
inject() {
	case $1 in
	cpu) TIERS_LIMIT=cpu/cpu.cfs_quota_us tiers_limit "$2" "$3" ;;
	memory) TIERS_LIMIT=memory/memory.limit_in_bytes tiers_limit "$2" "$3" ;;
	io) TIERS_LIMIT=blkio/blkio.throttle.read_iops_device tiers_limit "$2" "$TIERS_IO_DEV $3" ;;
	net) TIERS_LIMIT=net tiers_limit "$2" "$3" ;;
	esac
}

# uninject KIND TIER: what tiers_run does not reset (a CPU quota and a memory
# limit it does): the read throttle's rule, the link's rate.
uninject() {
	case $1 in
	io) echo "$TIERS_IO_DEV 0" >$CG/blkio/"$(cg "$2")"/blkio.throttle.read_iops_device ;;
	net) tc -n "$(es_ns node)" qdisc change dev "$(tiers_link "$2")" root \
		tbf rate 1gbit burst 256kb latency 50ms ;;
	esac
}

# run KIND TIER STRENGTH: one run; appends "kind tier strength first_ms
# first_advice final_advice cpu_top resource before poll_ms" to runs.txt, before
# being what the advice named just before the injection (the window is
# not quiet: a run that cannot be right). The first advice
# is what a controller would act on; cpu_top is the CPU baseline's pick from
# the same answer (the final one when the advisor never named a tier);
# resource is what drove the first advice.
run() {
	local kind=$1 tier=$2 strength=$3 ws= wsargs=
	local steady
	# A control of these kinds has the same working set, on db, uninjected.
	case $kind in
	memory) ws=${tier/none/db} ;;
	io) ws=${tier/none/db} wsargs="--touch-mb 4 --touch-pages 1 --direct" ;;
	esac
	steady=$STEADY_S
	[ -z "$ws" ] || steady=$STEADY_WS_S
	TIERS_WS=$ws TIERS_WS_ARGS=$wsargs tiers_run none 0 $((steady + POLL_S + 1))
	sleep $steady
	advisor_inject_poll "$kind" "$tier" "$strength" "$OUT/advisor_runs.jsonl"
	tiers_stop
	wait "$TIERS_PID" 2>/dev/null
	[ "$tier" = none ] || uninject "$kind" "$tier"
	echo "  $(tail -1 "$ES_TMP/runs.txt")" >&2
}

# strengths KIND: the two of each kind, the stronger first.
strengths() {
	case $1 in
	cpu) echo 5000 10000 ;;
	memory) echo 4M 8M ;;
	io) echo 300 500 ;;
	net) echo 6mbit 8mbit ;;
	esac
}

: >"$OUT/advisor_runs.jsonl"
# The tier rotates with the strength, so no tier always follows the same
# one; a control run after every kind.
for rep in $(seq "$REPS"); do
	i=0
	for kind in $KINDS; do
		for strength in $(strengths "$kind"); do
			for k in 0 1 2; do
				set -- $TIERS
				shift $(( (k + i + rep) % 3 ))
				run "$kind" "$1" "$strength"
			done
			i=$((i + 1))
		done
		run "$kind" none 0
	done
done

advisor_summary "$ES_TMP/runs.txt" "$OUT/advisor.json" $INTERVAL_MS $SAMPLES
agent_stop acc
advisor_print "$OUT/advisor.json"

# 2. The cost of sampling 50 cgroups every second.
cost_cgroups mkdir
echo 1000 >"$ES_TMP/perf"
links=($(for t in $TIERS; do tiers_link "$t"; done))
blocks=$(for i in $(seq $NCG); do
	printf '{"name": "c%d", "cgroup": "%s-c%d", "link": "%s"},' "$i" "$ES_PREFIX" "$i" \
		"${links[$((i % 3))]}"
done)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
cost() {	# NAME CONFIG: agent CPU seconds over 20 s, after 2 s of warm-up
	local a b
	agent "$1" "$2"
	sleep 2
	a=$(cpu_ticks "$ES_AGENT_PID"); sleep 20; b=$(cpu_ticks "$ES_AGENT_PID")
	agent_stop "$1"
	echo "$a $b $(getconf CLK_TCK)" | awk '{ printf "%.3f\n", ($2 - $1) / $3 }' >>"$ES_TMP/cost_$1"
}
[ "$COST_ROUNDS" -gt 0 ] || exit 0
for r in $(seq "$COST_ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then
		cost plain '{}'
		cost adv "{\"advisor\": {\"interval_ms\": 1000, \"blocks\": [${blocks%,}],
			\"performance\": {\"file\": \"$ES_TMP/perf\"}}}"
	else
		cost adv "{\"advisor\": {\"interval_ms\": 1000, \"blocks\": [${blocks%,}],
			\"performance\": {\"file\": \"$ES_TMP/perf\"}}}"
		cost plain '{}'
	fi
done
paste "$ES_TMP/cost_adv" "$ES_TMP/cost_plain" | awk '{ print ($1 - $2) / 20 * 100 }' | median >"$ES_TMP/cost"
jq --arg c "$(cat "$ES_TMP/cost")" --arg a "$(median <"$ES_TMP/cost_adv")" \
	--arg p "$(median <"$ES_TMP/cost_plain")" --argjson n $NCG --argjson r "$COST_ROUNDS" \
	'. + {sampling_cost: {blocks: $n, interval_ms: 1000, rounds: $r,
	 agent_cpu_pct_added: ($c | tonumber), agent_cpu_s_per_20s_with: ($a | tonumber),
	 agent_cpu_s_per_20s_without: ($p | tonumber)}}' "$OUT/advisor.json" >"$ES_TMP/a.json" &&
	mv "$ES_TMP/a.json" "$OUT/advisor.json"
jq -r '.sampling_cost | "sampling cost: \(.blocks) blocks at 1 s add \(.agent_cpu_pct_added) % of a CPU to the agent (median of \(.rounds) rounds; \(.agent_cpu_s_per_20s_with) s against \(.agent_cpu_s_per_20s_without) s of CPU per 20 s)"' \
	"$OUT/advisor.json" >&2
