#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The scale advisor on a real three-tier pipeline (es-tier: front, logic,
# db), each tier a process in cgroups of its own (v1 cpu, cpuacct, memory,
# blkio, named with the per-run prefix), under an open-loop load that
# is steady. A CFS quota set on one tier at a time, in the middle of the
# window, makes it the bottleneck (the middle and the first tier; the last
# one in docs/scale-advisor.md); `edgeshift advise` must rank that tier
# first and recommend scaling it out (and --patch print its Deployment's
# replicas plus one); for front, told (--scaled) that its last scale-out
# did not help, it must hold front instead (Paper E's trap). A run where
# no tier is limited ranks nothing.
source "$(dirname "$0")/../lib.sh"
es_require_root

source "$(dirname "$0")/tiers.bash"

tiers_skip_without_v1
es_plan 13
trap 'tiers_cleanup; es_cleanup' EXIT

# run_case LIMITED ADVISE_ARGS...: the pipeline under a steady 1500
# requests/s (100 us of CPU a request in each tier: 0.15 CPU each); 5 s
# into the 12 s window, LIMITED (or "none") is held to a tenth of a CPU,
# a capacity of 1000 requests/s. Prints the advice.
run_case() {
	local limited=$1
	shift
	tiers_run "$limited" 5 14
	"$ES_BUILD/edgeshift" advise --perf "$ES_TMP/perf" --interval-ms 500 --samples 24 \
		--block front="$(cg front)" --block logic="$(cg logic)" \
		--block db="$(cg db)" --json --patch --namespace shop \
		--replicas front=1 --replicas logic=2 --replicas db=1 "$@" 2>&1
	echo "exit=$?" >"$ES_TMP/advise.rc"
	# The answer is in: the load need not run out, nor its queue drain.
	tiers_stop
	wait "$TIERS_PID" 2>/dev/null
}

first() { jq -r '.ranking[0].block // "none"' 2>/dev/null <<<"$1"; }

make_cgroups
for limited in logic front; do
	# front's last scale-out (1 to 2 replicas) did not help: Paper E's trap.
	scaled=()
	[ $limited = front ] && scaled=(--scaled "front=1:400,2:420")
	out=$(run_case $limited "${scaled[@]}")
	es_expect_eq "advise ranks the CPU-limited $limited first" "$(first "$out")" $limited
	res=$(jq -r '.ranking[0].resource' <<<"$out" 2>/dev/null)
	case "$res" in
	cpu_throttled) es_ok "the $limited tier's driving resource is its CFS throttling" ;;
	*) es_not_ok "the $limited tier's driving resource is its CFS throttling" "got '$res'" ;;
	esac
	if [ $limited = logic ]; then
		es_expect_eq "the advice is to scale logic out" \
			"$(jq -r '.scale_out // "none"' <<<"$out" 2>/dev/null)" logic
		es_expect_eq "--patch prints logic's Deployment at 3 replicas" \
			"$(jq -r '.patch.command' <<<"$out" 2>/dev/null)" \
			"kubectl -n shop patch deployment logic --type merge -p '{\"spec\":{\"replicas\":3}}'"
	else
		es_expect_eq "front's replicas stopped helping: not scaled out, no patch" \
			"$(jq -c '[.scale_out, .patch, .trap.block, .trap.replicas]' <<<"$out" 2>/dev/null)" \
			'[null,null,"front",2]'
		es_expect_eq "the reason says so" "$(jq -r '.reason' <<<"$out" 2>/dev/null | cut -c1-41)" \
			"front: adding replicas stopped helping (1"
	fi
	jq -c '{worsening, scale_out, confidence, reason, trap,
		ranking: [.ranking[] | {block, resource, distance, r}]}' <<<"$out" 2>/dev/null | es_diag
done

out=$(run_case none)
# Usually the latency stays flat and nothing is ranked (exit 3); on a busy
# machine it can rise with no tier at fault, and then the answer must hold.
es_expect_eq "no bottleneck: nothing to scale out" "$(jq -c '.scale_out' <<<"$out")" null
es_expect_eq "no bottleneck: no patch" "$(jq -c '.patch' <<<"$out")" null
es_expect_eq "the exit status says whether it ranked (3: the service did not get worse)" \
	"$(cat "$ES_TMP/advise.rc")" "exit=$(jq -r 'if .performance_changed then 0 else 3 end' <<<"$out")"
jq -c '{worsening, reason, ranking: [.ranking[] | {block, resource, distance}]}' <<<"$out" | es_diag

# A scale-out history for a block that is not one is refused.
"$ES_BUILD/edgeshift" advise --perf "$ES_TMP/perf" --samples 3 --interval-ms 10 \
	--block front="$(cg front)" --scaled nosuch=1:2,2:3 >/dev/null 2>&1
es_expect_eq "--scaled of an unknown block fails with status 1" $? 1
# The rings of v1 series are read from the cgroups made above, not guessed:
# a cgroup that does not exist is an error, not an empty ranking.
"$ES_BUILD/edgeshift" advise --perf "$ES_TMP/perf" --samples 3 --interval-ms 10 \
	--block x="$ES_PREFIX-missing" >/dev/null 2>&1
es_expect_eq "a missing cgroup fails with status 1" $? 1
es_done
