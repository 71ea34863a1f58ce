# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the advisor's accuracy benchmarks (bench.d/advisor.sh on the
# es-tier pipeline, bench.d/advisor_runc.sh on the runc service): the
# agent, the polling of its advice after an injection, one line a run
# ("kind tier strength first_ms first_advice final_advice cpu_top
# resource before poll_ms"), and from those lines the accuracy, the time to
# advice and the two baselines.

# What both share: where the figures go, the agent's window (12 samples of
# 500 ms) and a run's timing: steady load until the window holds no
# earlier run, then the advice polled for 6 s.
OUT=$ES_BUILD/bench
mkdir -p "$OUT"
REPS=${ES_BENCH_ADVISOR_REPS:-1}
INTERVAL_MS=500
SAMPLES=12
STEADY_S=7	# > SAMPLES x INTERVAL_MS
POLL_S=6

# agent NAME CONFIG_JSON: an agent on its own pins; agent_stop ends it.
agent() {
	echo "$2" >"$ES_TMP/$1.json"
	es_agent_start node "$1" -c "$ES_TMP/$1.json" >/dev/null || exit 1
}
agent_stop() {
	kill "$ES_AGENT_PID"; wait "$ES_AGENT_PID" 2>/dev/null
	"$ES_BUILD/edgeshiftd" --cleanup -p "$(es_pin_path "$1")" --state-dir "$ES_TMP"
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# advisor_poll KIND TIER STRENGTH T0_MS BEFORE RUNS_TXT JSONL POLL_S: polls
# the agent's advice (namespace "node") every 250 ms for POLL_S from T0_MS
# (the injection, wall clock) and appends the run's line to RUNS_TXT and
# the answer it decided on (or the last) to JSONL. BEFORE: what the advice
# named just before the injection. The first advice is what a controller
# would act on; its time is the answer's own (sampled_at_ms: when the
# agent read the sample that made it), and poll_ms, when this loop saw
# it, is kept beside (up to 250 ms later: the polling's, not the
# advisor's). cpu_top is the CPU baseline's pick from the same answer
# (the last one when the advisor never named a tier); resource is what
# drove it.
advisor_poll() {
	local j s first_ms=- poll_ms=- first=none decided=
	while [ $(( $(now_ms) - $4 )) -lt $(($8 * 1000)) ]; do
		j=$(es_api node /v1/advice)
		s=$(jq -r '.scale_out // "none"' <<<"$j")
		if [ "$first" = none ] && [ "$s" != none ]; then
			poll_ms=$(( $(now_ms) - $4 )) first=$s decided=$j
			first_ms=$(( $(jq -r '.sampled_at_ms' <<<"$j") - $4 ))
		fi
		sleep 0.25
	done
	printf '%s %s %s %s %s %s %s %s %s %s\n' "$1" "$2" "$3" "$first_ms" "$first" \
		"$s" "$(jq -r '[.ranking[] | {block, c: .resources.cpu.mean}] | max_by(.c) |
		.block // "none"' <<<"${decided:-$j}")" \
		"$(jq -r '.ranking[0].resource // "none"' <<<"${decided:-$j}")" "$5" "$poll_ms" \
		>>"$6"
	printf '%s\n' "${decided:-$j}" >>"$7"
}

# advisor_inject_poll KIND TIER STRENGTH JSONL: once the window holds only
# steady load, what the advice names, then the injection (the caller's
# inject KIND TIER STRENGTH; none for a control), then advisor_poll into
# $ES_TMP/runs.txt and JSONL.
advisor_inject_poll() {
	local before t0
	before=$(es_api node /v1/advice | jq -r '.scale_out // "none"')
	t0=$(now_ms)
	[ "$2" = none ] || inject "$1" "$2" "$3"
	advisor_poll "$1" "$2" "$3" "$t0" "$before" "$ES_TMP/runs.txt" "$4" "$POLL_S"
}

# advisor_summary RUNS_TXT OUT_JSON INTERVAL_MS SAMPLES
advisor_summary() {
	jq -nR '[inputs | split(" ") | {kind: .[0], tier: .[1], strength: .[2],
		first_ms: (if .[3] == "-" then null else (.[3] | tonumber) end),
		advice: .[4], final_advice: .[5], cpu_top: .[6], resource: .[7],
		before: .[8], poll_ms: (if .[9] == "-" then null else (.[9] | tonumber) end)}] | map(.right = (.before == "none" and .advice == .tier))' \
		<"$1" >"$ES_TMP/runs.json"
	jq --argjson iv "$3" --argjson n "$4" '
		def pct(a; b): if b == 0 then null else (100 * a / b | round) end;
		([.[] | select(.tier != "none")]) as $inj | ([.[] | select(.tier == "none")]) as $ctl |
		([$inj[] | select(.right)]) as $right |
		{interval_ms: $iv, samples: $n, runs: length, injected: ($inj | length),
		 controls: ($ctl | length),
		 advisor_right_pct: pct($right | length; $inj | length),
		 advisor_wrong_pct: pct([$inj[] | select(.advice != "none" and (.right | not))] | length;
			$inj | length),
		 advice_before_injection: ([.[] | select(.before != "none")] | length),
		 advisor_right_within_3_intervals_pct:
			pct([$right[] | select(.first_ms <= 3 * $iv)] | length; $inj | length),
		 controls_quiet_pct: pct([$ctl[] | select(.advice == "none" and .before == "none")] | length;
			$ctl | length),
		 time_to_advice_ms_median: ([$right[] | .first_ms] | sort |
			if length == 0 then null else .[(length - 1) / 2 | floor] end),
		 time_to_advice_ms_max: ([$right[] | .first_ms] | max),
		 time_to_advice_polled_ms_median: ([$right[] | .poll_ms] | sort |
			if length == 0 then null else .[(length - 1) / 2 | floor] end),
		 cpu_top_right_pct: pct([$inj[] | select(.cpu_top == .tier)] | length; $inj | length),
		 scale_all_right_pct: 0, scale_all_replicas_per_run: 3,
		 by_tier: ([$inj[] | .tier] | unique | map(. as $t | {tier: $t,
			right: ([$inj[] | select(.tier == $t and .right)] | length),
			of: ([$inj[] | select(.tier == $t)] | length)})),
		 by_kind: ([$inj[] | .kind] | unique | map(. as $k | ([$inj[] | select(.kind == $k)]) as $r |
			([$r[] | select(.right)]) as $ok | {kind: $k,
			right: ($ok | length), of: ($r | length),
			advice_before: ([$r[] | select(.before != "none")] | length),
			within_3_intervals: ([$ok[] | select(.first_ms <= 3 * $iv)] | length),
			time_to_advice_ms_median: ([$ok[] | .first_ms] | sort |
				if length == 0 then null else .[(length - 1) / 2 | floor] end),
			cpu_top_right: ([$r[] | select(.cpu_top == .tier)] | length),
			drivers: ([$ok[] | .resource] | unique)})),
		 runs_detail: .}' "$ES_TMP/runs.json" >"$2"
}

# advisor_print JSON: the figures of advisor_summary, on stderr.
advisor_print() {
	jq -r '"advisor: \(.advisor_right_pct) % right, \(.advisor_wrong_pct) % wrong of \(.injected) injected runs (\(.advisor_right_within_3_intervals_pct) % right within 3 intervals of \(.interval_ms) ms; time to advice median \(.time_to_advice_ms_median) ms, max \(.time_to_advice_ms_max) ms; seen by the 250 ms polling: median \(.time_to_advice_polled_ms_median) ms); controls quiet \(.controls_quiet_pct) % of \(.controls); \(.advice_before_injection) runs named a tier before their injection",
		"baselines on the same runs: most CPU \(.cpu_top_right_pct) % right; scale everything 0 % right (3 replicas a run)",
		(.by_tier[] | "  \(.tier): \(.right)/\(.of)"),
		(.by_kind[] | "  \(.kind): \(.right)/\(.of) right (\(.within_3_intervals) within 3 intervals, median \(.time_to_advice_ms_median) ms; most CPU \(.cpu_top_right)/\(.of); \(.advice_before) named a tier before); drivers \(.drivers | join(","))")' \
		"$1" >&2
}
