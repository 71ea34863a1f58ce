#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The scale advisor on a real three-tier pipeline (es-tier: front, logic,
# db), each tier a process in cgroups of its own (v1 cpu, cpuacct, memory,
# blkio, named with the per-run prefix), under an open-loop load that
# is steady. A CFS quota set on front in the middle of the window makes it
# the bottleneck: `edgeshift advise` must rank it first, driven by its
# throttling, and, told (--scaled) that front's last scale-out did not
# help, hold front instead of scaling it out (Paper E's trap). The logic
# tier's quota, --patch and the run without a bottleneck are tested on the
# runc service (runc_tiers.sh).
source "$(dirname "$0")/../lib.sh"
es_require_root

source "$(dirname "$0")/tiers.bash"

tiers_skip_without_v1
es_plan 8
trap 'tiers_cleanup; es_cleanup' EXIT

# run_case LIMITED ADVISE_ARGS...: the pipeline under a steady 1500
# requests/s (100 us of CPU a request in each tier: 0.15 CPU each); 5 s
# into the 12 s window, LIMITED is held to a tenth of a CPU, a capacity
# of 1000 requests/s. Prints the advice.
run_case() {
	local limited=$1
	shift
	tiers_run "$limited" 5 14
	"$ES_BUILD/edgeshift" advise --perf "$ES_TMP/perf" --interval-ms 500 --samples 24 \
		--block front="$(cg front)" --block logic="$(cg logic)" \
		--block db="$(cg db)" --json --patch --namespace shop \
		--replicas front=1 --replicas logic=2 --replicas db=1 "$@" 2>&1
	# The answer is in: the load need not run out, nor its queue drain.
	tiers_stop
	wait "$TIERS_PID" 2>/dev/null
}

make_cgroups
# front's last scale-out (1 to 2 replicas) did not help, nor did its
# replicas send 5 % more: Paper E's trap.
out=$(run_case front --scaled "front=1:400:2000000,2:420:2040000")
es_expect_eq "advise ranks the CPU-limited front first" \
	"$(jq -r '.ranking[0].block // "none"' 2>/dev/null <<<"$out")" front
es_expect_eq "the front tier's driving resource is its CFS throttling" \
	"$(jq -r '.ranking[0].resource' <<<"$out" 2>/dev/null)" cpu_throttled
es_expect_eq "front's replicas stopped helping: not scaled out, no patch" \
	"$(jq -c '[.scale_out, .patch, .trap.block, .trap.replicas]' <<<"$out" 2>/dev/null)" \
	'[null,null,"front",2]'
es_expect_eq "the reason says so" "$(jq -r '.reason' <<<"$out" 2>/dev/null | cut -c1-41)" \
	"front: adding replicas stopped helping (1"
es_check "and names the work: $(jq -r '.reason' <<<"$out" 2>/dev/null)" \
	grep -q "; its replicas sent 1953 to 1992 KiB/s, +2 %)" <<<"$(jq -r '.reason' <<<"$out")"
jq -c '{worsening, scale_out, confidence, reason, trap,
	ranking: [.ranking[] | {block, resource, against, distance, r}]}' <<<"$out" 2>/dev/null | es_diag

# A scale-out history for a block that is not one is refused.
"$ES_BUILD/edgeshift" advise --perf "$ES_TMP/perf" --samples 3 --interval-ms 10 \
	--block front="$(cg front)" --scaled nosuch=1:2,2:3 >/dev/null 2>&1
es_expect_eq "--scaled of an unknown block fails with status 1" $? 1
"$ES_BUILD/edgeshift" advise --perf "$ES_TMP/perf" --samples 3 --interval-ms 10 \
	--block front="$(cg front)" --scaled front=1:2:0,2:3:5 >/dev/null 2>&1
es_expect_eq "--scaled with a work of 0 fails with status 1" $? 1
# The rings of v1 series are read from the cgroups made above, not guessed:
# a cgroup that does not exist is an error, not an empty ranking.
"$ES_BUILD/edgeshift" advise --perf "$ES_TMP/perf" --samples 3 --interval-ms 10 \
	--block x="$ES_PREFIX-missing" >/dev/null 2>&1
es_expect_eq "a missing cgroup fails with status 1" $? 1
es_done
