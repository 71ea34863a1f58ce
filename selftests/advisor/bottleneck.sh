#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The scale advisor on a real three-tier pipeline (es-tier: front, logic,
# db), each tier a process in cgroups of its own (v1 cpu, cpuacct, memory,
# blkio, named with the per-run prefix), under an open-loop load that
# is steady. A CFS quota set on one tier at a time, in the middle of the
# window, makes it the bottleneck (the middle and the first tier; the last
# one in docs/scale-advisor.md); `edgeshift advise` must rank that tier
# first. A run where no tier is limited ranks nothing.
source "$(dirname "$0")/../lib.sh"
es_require_root

CG=/sys/fs/cgroup
CTLS="cpu cpuacct memory blkio"
TIERS="front logic db"
TIER=$ES_BUILD/es-tier

if [ ! -f $CG/cpu/cpu.cfs_quota_us ] || [ ! -f $CG/cpuacct/cpuacct.usage ]; then
	es_plan 0
	echo "# SKIP no v1 cpu and cpuacct hierarchies"
	exit 0
fi
es_plan 7

cg() { echo "$ES_PREFIX-$1"; }

# Kills what is left in our cgroups (a failed run's tiers) and removes them.
adv_cleanup() {
	local t c p
	for t in $TIERS; do
		for p in $(cat $CG/cpu/"$(cg $t)"/cgroup.procs 2>/dev/null); do
			kill "$p" 2>/dev/null
		done
	done
	for t in $TIERS; do
		for c in $CTLS; do
			for _ in $(seq 40); do
				[ -d $CG/$c/"$(cg $t)" ] || break
				rmdir $CG/$c/"$(cg $t)" 2>/dev/null && break
				sleep 0.05
			done
		done
	done
}
trap 'adv_cleanup; es_cleanup' EXIT

make_cgroups() {
	local t c
	for t in $TIERS; do
		for c in $CTLS; do mkdir -p $CG/$c/"$(cg $t)"; done
	done
}

# join TIER CMD...: moves this subshell into TIER's cgroups, then runs CMD.
join() {
	local c t=$1
	shift
	for c in $CTLS; do echo $BASHPID >$CG/$c/"$(cg $t)"/cgroup.procs; done
	exec "$@"
}

# run_case LIMITED ADVISE_ARGS...: the pipeline under a steady 1500
# requests/s (100 us of CPU a request in each tier: 0.15 CPU each); 5 s
# into the 12 s window, LIMITED (or "none") is held to a tenth of a CPU,
# a capacity of 1000 requests/s. Prints the advice.
run_case() {
	local limited=$1 t
	shift
	for t in $TIERS; do echo -1 >$CG/cpu/"$(cg $t)"/cpu.cfs_quota_us; done
	rm -f "$ES_TMP/perf"
	( "$TIER" gen --rate-from 1500 --rate-to 1500 --secs 14 |
	  (join front "$TIER" stage --burn-us 100) |
	  (join logic "$TIER" stage --burn-us 100) |
	  (join db "$TIER" stage --burn-us 100) |
	  "$TIER" sink --out "$ES_TMP/perf" --every-ms 250 ) 2>>"$ES_TMP/tiers.log" &
	local pipe=$!
	if [ "$limited" != none ]; then
		( sleep 5; echo 10000 >$CG/cpu/"$(cg $limited)"/cpu.cfs_quota_us ) &
	fi
	for _ in $(seq 100); do [ -f "$ES_TMP/perf" ] && break; sleep 0.05; done
	"$ES_BUILD/edgeshift" advise --perf "$ES_TMP/perf" --interval-ms 500 --samples 24 \
		--block front="$(cg front)" --block logic="$(cg logic)" \
		--block db="$(cg db)" --json "$@" 2>&1
	echo "exit=$?" >"$ES_TMP/advise.rc"
	# The load ends by itself; what is left is killed by the cleanup.
	wait $pipe 2>/dev/null
}

first() { jq -r '.ranking[0].block // "none"' 2>/dev/null <<<"$1"; }

make_cgroups
for limited in logic front; do
	out=$(run_case $limited)
	es_expect_eq "advise ranks the CPU-limited $limited first" "$(first "$out")" $limited
	res=$(jq -r '.ranking[0].resource' <<<"$out" 2>/dev/null)
	case "$res" in
	cpu_throttled) es_ok "the $limited tier's driving resource is its CFS throttling" ;;
	*) es_not_ok "the $limited tier's driving resource is its CFS throttling" "got '$res'" ;;
	esac
	[ "$(first "$out")" = $limited ] || printf '%s\n' "$out" | es_diag
done

out=$(run_case none)
es_expect_eq "no bottleneck: advise exits 3" "$(cat "$ES_TMP/advise.rc")" exit=3
es_expect_eq "no bottleneck: nothing ranked" "$(jq -r '.performance_changed' <<<"$out")" false
jq -c '{worsening, ranking: [.ranking[] | {block, resource, distance}]}' <<<"$out" | es_diag

# The rings of v1 series are read from the cgroups made above, not guessed:
# a cgroup that does not exist is an error, not an empty ranking.
"$ES_BUILD/edgeshift" advise --perf "$ES_TMP/perf" --samples 3 --interval-ms 10 \
	--block x="$ES_PREFIX-missing" >/dev/null 2>&1
es_expect_eq "a missing cgroup fails with status 1" $? 1
es_done
