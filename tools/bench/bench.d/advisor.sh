#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The scale advisor (docs/scale-advisor.md) on the three-tier es-tier
# pipeline (selftests/advisor/tiers.bash), served by edgeshiftd
# (GET /v1/advice, 500 ms sampling, a window of 12 samples):
# 1. accuracy over injected runs: each run loads the pipeline steadily
#    (1500 requests/s) until the window holds only steady samples, then
#    sets a CFS quota on one tier (front, logic or db; 50, 80, 100 or 130
#    ms a 100 ms period: capacities of 500 to 1300 requests/s), or none
#    (a control run), and polls the advice every 250 ms for 6 s. Right: the
#    first tier the advice names (what a controller would act on) is the
#    injected one (a control: no poll names any). Time to advice: injection
#    to that first answer. Beside it, on the same runs, the
#    baselines "the tier using the most CPU over the window" and "scale
#    everything".
# 2. the cost of sampling: the agent's CPU time with 50 blocks (cgroups) at
#    1 s against the same agent without an advisor, interleaved rounds.
# ES_BENCH_ADVISOR_REPS repetitions of the 12 injected cases (default 2: 24
# runs, plus 2 control runs a repetition); ES_BENCH_ADVISOR_COST_ROUNDS
# rounds of 20 s a side (default 3).
. "$(dirname "$0")/../../../selftests/lib.sh"
. "$(dirname "$0")/../../../selftests/advisor/tiers.bash"
OUT=$ES_BUILD/bench
mkdir -p "$OUT"
REPS=${ES_BENCH_ADVISOR_REPS:-2}
COST_ROUNDS=${ES_BENCH_ADVISOR_COST_ROUNDS:-3}
INTERVAL_MS=500
SAMPLES=12
STEADY_S=7	# > SAMPLES x INTERVAL_MS: the window holds no earlier run
POLL_S=6
NCG=50
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

tiers_skip_without_v1
cost_cgroups() {	# mkdir|rmdir
	local i c
	for i in $(seq $NCG); do
		for c in $CTLS; do "$1" $CG/$c/"$ES_PREFIX-c$i" 2>/dev/null; done
	done
}
trap 'tiers_cleanup; cost_cgroups rmdir; es_cleanup' EXIT
make_cgroups
es_netns_add node || exit 1

# agent NAME CONFIG_JSON: an agent on its own pins; agent_stop ends it.
agent() {
	echo "$2" >"$ES_TMP/$1.json"
	es_agent_start node "$1" -c "$ES_TMP/$1.json" >/dev/null || exit 1
}
agent_stop() {
	kill "$ES_AGENT_PID"; wait "$ES_AGENT_PID" 2>/dev/null
	"$ES_BUILD/edgeshiftd" --cleanup -p "$(es_pin_path "$1")"
}

blocks=$(for t in $TIERS; do printf '{"name": "%s", "cgroup": "%s"},' $t "$(cg $t)"; done)
agent acc "{\"advisor\": {\"interval_ms\": $INTERVAL_MS, \"samples\": $SAMPLES,
	\"blocks\": [${blocks%,}], \"performance\": {\"file\": \"$ES_TMP/perf\"}}}"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# run TIER QUOTA_US: one run; appends "tier quota first_ms first_advice final_advice
# cpu_top" to runs.txt. The first advice is what a controller would act on;
# cpu_top is the CPU baseline's pick from the same answer (the final one
# when the advisor never named a tier).
run() {
	local tier=$1 quota=$2 t0 j s first_ms=- first=none decided=
	tiers_run none 0 $((STEADY_S + POLL_S + 1))
	sleep $STEADY_S
	t0=$(now_ms)
	[ "$tier" = none ] || echo "$quota" >$CG/cpu/"$(cg "$tier")"/cpu.cfs_quota_us
	while [ $(( $(now_ms) - t0 )) -lt $((POLL_S * 1000)) ]; do
		j=$(es_api node /v1/advice)
		s=$(jq -r '.scale_out // "none"' <<<"$j")
		if [ "$first" = none ] && [ "$s" != none ]; then
			first=$s first_ms=$(( $(now_ms) - t0 )) decided=$j
		fi
		sleep 0.25
	done
	printf '%s %s %s %s %s %s\n' "$tier" "$quota" "$first_ms" "$first" "$s" \
		"$(jq -r '[.ranking[] | {block, c: .resources.cpu.mean}] | max_by(.c) | .block // "none"' \
		<<<"${decided:-$j}")" >>"$ES_TMP/runs.txt"
	printf '%s\n' "${decided:-$j}" >>"$OUT/advisor_runs.jsonl"
	echo -1 >$CG/cpu/"$(cg "${tier/none/front}")"/cpu.cfs_quota_us
	wait "$TIERS_PID" 2>/dev/null
	echo "  $(tail -1 "$ES_TMP/runs.txt")" >&2
}

: >"$OUT/advisor_runs.jsonl"
# The tier rotates with the strength, so no tier always follows the same one.
for rep in $(seq "$REPS"); do
	i=0
	for quota in 5000 8000 10000 13000; do
		for k in 0 1 2; do
			set -- $TIERS
			shift $(( (k + i + rep) % 3 ))
			run "$1" $quota
		done
		i=$((i + 1))
		[ $((i % 2)) = 0 ] && run none 0
	done
done

jq -nR '[inputs | split(" ") | {tier: .[0], quota_us: (.[1] | tonumber),
	first_ms: (if .[2] == "-" then null else (.[2] | tonumber) end),
	advice: .[3], final_advice: .[4], cpu_top: .[5]}]' <"$ES_TMP/runs.txt" >"$ES_TMP/runs.json"
jq --argjson iv $INTERVAL_MS --argjson n $SAMPLES '
	def pct(a; b): if b == 0 then null else (100 * a / b | round) end;
	([.[] | select(.tier != "none")]) as $inj | ([.[] | select(.tier == "none")]) as $ctl |
	([$inj[] | select(.advice == .tier)]) as $right |
	{interval_ms: $iv, samples: $n, runs: length, injected: ($inj | length),
	 controls: ($ctl | length),
	 advisor_right_pct: pct($right | length; $inj | length),
	 advisor_wrong_pct: pct([$inj[] | select(.advice != "none" and .advice != .tier)] | length;
		$inj | length),
	 advisor_right_within_3_intervals_pct:
		pct([$right[] | select(.first_ms <= 3 * $iv)] | length; $inj | length),
	 controls_quiet_pct: pct([$ctl[] | select(.advice == "none")] | length; $ctl | length),
	 time_to_advice_ms_median: ([$right[] | .first_ms] | sort |
		if length == 0 then null else .[(length - 1) / 2 | floor] end),
	 time_to_advice_ms_max: ([$right[] | .first_ms] | max),
	 cpu_top_right_pct: pct([$inj[] | select(.cpu_top == .tier)] | length; $inj | length),
	 scale_all_right_pct: 0, scale_all_replicas_per_run: 3,
	 by_tier: ([$inj[] | .tier] | unique | map(. as $t | {tier: $t,
		right: ([$inj[] | select(.tier == $t and .advice == $t)] | length),
		of: ([$inj[] | select(.tier == $t)] | length)})),
	 runs_detail: .}' "$ES_TMP/runs.json" >"$OUT/advisor.json"
agent_stop acc
jq -r '"advisor: \(.advisor_right_pct) % right, \(.advisor_wrong_pct) % wrong of \(.injected) injected runs (\(.advisor_right_within_3_intervals_pct) % right within 3 intervals of \(.interval_ms) ms; time to advice median \(.time_to_advice_ms_median) ms, max \(.time_to_advice_ms_max) ms); controls quiet \(.controls_quiet_pct) % of \(.controls)",
	"baselines on the same runs: most CPU \(.cpu_top_right_pct) % right; scale everything 0 % right (3 replicas a run)",
	(.by_tier[] | "  \(.tier): \(.right)/\(.of)")' "$OUT/advisor.json" >&2

# 2. The cost of sampling 50 cgroups every second.
cost_cgroups mkdir
echo 1000 >"$ES_TMP/perf"
blocks=$(for i in $(seq $NCG); do printf '{"name": "c%d", "cgroup": "%s-c%d"},' "$i" "$ES_PREFIX" "$i"; done)
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
