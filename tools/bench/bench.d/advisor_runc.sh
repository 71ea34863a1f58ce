#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The scale advisor's accuracy on the three-tier service in runc
# containers (selftests/advisor/runc_tiers.bash: es-front, es-tier logic
# with a Redis INCR a request, Debian's redis-server; each with the
# cgroups runc made and a network namespace, a tbf of 1 Gbit/s on each
# tier's link), driven by ab -k from the user's namespace, served by
# edgeshiftd in the node's namespace (GET /v1/advice, 500 ms sampling, a
# window of 12 samples, each block with its container's cgroup and link;
# the front's latency as the performance). The containers run throughout;
# logic reads 16 random pages of a 32 MiB file on the disk a request (its
# working set). Each run loads the service with ab until the window holds
# only steady samples (7 s), then injects one bottleneck in one tier at
# one of two strengths:
#   cpu     a CFS quota by `runc update` (front and logic 5 or 10 ms a
#           100 ms period, db, which uses about a tenth of a CPU, 2 or 4 ms)
#   memory  a memory limit by `runc update --memory` on logic (4 or 8 MiB
#           for its 32 MiB set; front has no file pages and db's are
#           anonymous: a limit kills them, there is no swap)
#   net     a tbf rate on the tier's link (front 1 or 2 Mbit/s, logic and
#           db 0.5 or 1 Mbit/s: about 9, 5 and 4 Mbit/s go into them at
#           full rate, in small packets)
#   io      a read throttle (blkio.throttle.read_iops_device of the blkio
#           cgroup runc made) on logic, 300 or 500 reads/s, run last: the
#           containers and the agent start again with logic reading one
#           page of a 4 MiB file with O_DIRECT a request instead (delay
#           accounting switched on, and restored); left out, and said so,
#           where tiers_io_check fails
# or nothing (a control run after each kind), and polls the advice every
# 250 ms for 6 s (advisor_common.bash: right, time to advice, the
# baselines "the tier using the most CPU" and "scale everything").
# ES_BENCH_ADVISOR_REPS repetitions (default 1: 26 injected runs and 4
# controls, about 8 minutes); ES_BENCH_ADVISOR_KINDS (default "cpu memory
# net io").
. "$(dirname "$0")/../../../selftests/lib.sh"
. "$(dirname "$0")/../../../selftests/advisor/tiers.bash"
. "$(dirname "$0")/../../../selftests/advisor/runc_tiers.bash"
. "$(dirname "$0")/advisor_common.bash"
KINDS=${ES_BENCH_ADVISOR_KINDS:-cpu memory net io}

tiers_skip_without_v1
rt_skip_without_runc
DELAYACCT=$(cat /proc/sys/kernel/task_delayacct 2>/dev/null)
trap 'rt_cleanup; [ -n "$DELAYACCT" ] && echo "$DELAYACCT" >/proc/sys/kernel/task_delayacct
	es_cleanup' EXIT
RT_WS=logic
rt_start || exit 1
if [[ " $KINDS " = *" io "* ]] && ! tiers_io_check; then
	echo "advisor_runc: no I/O injections: $TIERS_IO_SKIP" >&2
	KINDS=${KINDS/io/}
fi

blocks=$(for t in $TIERS; do
	printf '{"name": "%s", "cgroup": "%s", "link": "%s"},' $t "$(cg $t)" "$(tiers_link $t)"
done)
start_agent() {
	agent acc "{\"advisor\": {\"interval_ms\": $INTERVAL_MS, \"samples\": $SAMPLES,
		\"blocks\": [${blocks%,}], \"performance\": {\"file\": \"$RT_PERF\"}}}"
}
start_agent

# phase KIND: the containers (and the agent) anew when KIND needs logic
# to read otherwise: with O_DIRECT for io, through its mapping for the rest.
PHASE=mapped
phase() {
	local want=mapped
	[ "$1" != io ] || want=direct
	[ "$want" != "$PHASE" ] || return 0
	agent_stop acc
	rt_stop
	[ "$want" = mapped ] || echo 1 >/proc/sys/kernel/task_delayacct
	if [ "$want" = direct ]; then
		RT_WS_ARGS="--touch-mb 4 --touch-pages 1 --direct" rt_start || exit 1
	else
		rt_start || exit 1
	fi
	start_agent
	PHASE=$want
}

# inject KIND TIER STRENGTH: the bottleneck, now; uninject KIND TIER lifts it.
inject() { rt_limit "$1" "$2" "$3"; }
uninject() { rt_limit "$1" "$2" off; }

# run KIND TIER STRENGTH: one run (advisor_poll's line in runs.txt).
run() {
	local kind=$1 tier=$2 strength=$3
	rt_load $((STEADY_S + POLL_S + 1))
	sleep $STEADY_S
	advisor_inject_poll "$kind" "$tier" "$strength" "$OUT/advisor_runc_runs.jsonl"
	[ "$tier" = none ] || uninject "$kind" "$tier"
	wait "$RT_AB_PID" 2>/dev/null
	RT_AB_PID=
	echo "  $(tail -1 "$ES_TMP/runs.txt")" >&2
}

# cases KIND: "tier strength" a line; the tier that follows another varies.
cases() {
	case $1 in
	cpu) printf '%s\n' "front 5000" "logic 5000" "db 2000" "front 10000" "logic 10000" \
		"db 4000" "db 2000" "logic 5000" "front 5000" "db 4000" "logic 10000" \
		"front 10000" ;;
	memory) printf '%s\n' "logic 4M" "logic 8M" "logic 4M" "logic 8M" ;;
	net) printf '%s\n' "logic 500kbit" "db 500kbit" "front 1mbit" "db 1mbit" "front 2mbit" \
		"logic 1mbit" ;;
	io) printf '%s\n' "logic 300" "logic 500" "logic 300" "logic 500" ;;
	esac
}

: >"$OUT/advisor_runc_runs.jsonl"
: >"$ES_TMP/runs.txt"
for _ in $(seq "$REPS"); do
	for kind in $KINDS; do
		phase "$kind"
		while read -r tier strength; do
			run "$kind" "$tier" "$strength"
		done < <(cases "$kind")
		run "$kind" none 0
	done
done
advisor_summary "$ES_TMP/runs.txt" "$OUT/advisor_runc.json" $INTERVAL_MS $SAMPLES
agent_stop acc
advisor_print "$OUT/advisor_runc.json"
