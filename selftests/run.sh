#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs every selftest (C binaries and shell tests, each printing TAP)
# through prove: the C tests, then each area's folder (selftests/AREA/),
# the areas whose tests measure CPU use or rates (advisor, sched) last,
# then the leftover check, which must come last (tests that mostly wait
# run beside the others, see below). Extra arguments select tests by file
# name substring.
set -u
cd "$(dirname "$0")/.."
[ -d /sys/fs/bpf ] && ! mountpoint -q /sys/fs/bpf && mount -t bpf bpf /sys/fs/bpf

# the measuring areas come after the second lane below is done, so that
# its drills do not share the CPUs with them
ordered=()
for t in build/selftests/test_* selftests/*/*.sh; do
	case "$t" in
	selftests/advisor/*|selftests/sched/*) ;;
	*) ordered+=("$t") ;;
	esac
done
ordered+=(selftests/advisor/*.sh selftests/sched/*.sh selftests/zz_leftovers.sh)
# a test file that is not executable would be skipped without a word
for t in "${ordered[@]}"; do
	case "$t" in
	*.sh) if [ ! -x "$t" ] && grep -q '^es_plan' "$t"; then
		echo "run.sh: $t is a test (es_plan) but not executable: chmod +x it" >&2
		exit 1
	fi ;;
	esac
done
tests=()
for t in "${ordered[@]}"; do
	case "$t" in
	*/lib.sh|*/run.sh) continue ;;
	esac
	[ -x "$t" ] || continue
	if [ $# -gt 0 ]; then
		keep=0
		for f in "$@"; do case "$t" in *"$f"*) keep=1 ;; esac; done
		[ "$keep" = 1 ] || continue
	fi
	tests+=("$t")
done
if [ ${#tests[@]} = 0 ]; then
	echo "run.sh: no test selected" >&2
	exit 1
fi
# Tests that mostly wait run in a second lane beside the others (prove
# -j2), one after another: selftests/events/events_agent.sh waits out a
# broker outage for a minute, the two agent-kill drills and
# migration_kill_steps.sh wait for agents to die, restart and retry, and
# drill_faults.sh and drill_tcp_faults.sh for restores that fail and
# agents that die; drill_tcp.sh and drill_redis.sh (57 s and 37 s) joined
# them so that the lanes are nearer even (a fresh-clone run: the second
# lane 641 s, the first 946 s before the measuring areas, which then took
# 181 s; make check must stay under 20 minutes). The second lane is meant
# to be done before the measuring areas start (about 735 s against 852
# s). The rest run one after another in their order; the leftover check
# waits for both lanes.
exec prove -v --timer --exec '' -j2 \
	--rules='seq={selftests/events/events_agent.sh,selftests/migration/zdm_kill_*.sh,selftests/migration/migration_kill_steps.sh,selftests/migration/drill_faults.sh,selftests/migration/drill_tcp_faults.sh,selftests/migration/drill_tcp.sh,selftests/migration/drill_redis.sh}' \
	--rules='seq={build/selftests,selftests/*}/*' "${tests[@]}"
