#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The scale advisor on an I/O bottleneck: the three-tier es-tier pipeline
# (tiers.bash) where the db tier reads one random page of a 4 MiB file
# per request with O_DIRECT (from the disk each time). 2.5 s into the run
# a v1 blkio throttle of 500 reads a second on the file's disk (1500
# requests a second offered) holds db back. Its I/O rate falls while its
# threads wait longer for the disk: `edgeshift advise` must rank db first,
# driven by io_wait (the kernel's per-task delay accounting, switched on
# for the test and restored) or, on a node with PSI files where the tiers
# join the unified tree too, io_pressure, with a reason that names the
# I/O wait; there the throttled tier's io_pressure must have moved.
# ES_ADV_IO_IOPS changes the throttle (default 500) and ES_ADV_TIER the tier
# (default db), for measuring accuracy.
# Skips, saying why, where the test's files are on no block device the
# cgroup can name or the node has no v1 blkio throttle.
source "$(dirname "$0")/../lib.sh"
es_require_root

source "$(dirname "$0")/tiers.bash"

tiers_skip_without_v1
# skip WHY: TAP's skip of the whole file, so prove shows the reason.
skip() {
	echo "TAP version 13"
	echo "1..0 # SKIP $1"
	exit 0
}
tiers_io_check || skip "$TIERS_IO_SKIP"
dev=$TIERS_IO_DEV

DELAYACCT=$(cat /proc/sys/kernel/task_delayacct)
es_plan 6
trap 'tiers_cleanup; echo "$DELAYACCT" >/proc/sys/kernel/task_delayacct; es_cleanup' EXIT
echo 1 >/proc/sys/kernel/task_delayacct

T=${ES_ADV_TIER:-db}
make_cgroups
TIERS_WS=$T TIERS_WS_ARGS="--touch-mb 4 --touch-pages 1 --direct" \
	TIERS_LIMIT=blkio/blkio.throttle.read_iops_device \
		tiers_run "$T" 2.5 6 "$dev ${ES_ADV_IO_IOPS:-500}"
# The window (16 samples of 250 ms) starts after the start-up of the
# stages (db writes and reads its file); the throttle falls in its second half.
sleep 0.5
tiers_advise_short
# The throttle's own count: v1 counts a cgroup's I/O once a rule is set on it.
reads=$(awk '$1 == "Total" { print $2 }' $CG/blkio/"$(cg "$T")"/blkio.throttle.io_serviced)
tiers_stop
wait "$TIERS_PID" 2>/dev/null

es_expect_ge "$T's reads went through the throttle" "${reads:-0}" "${ES_ADV_IO_IOPS:-500}"
if [ -f $CG/unified/"$(cg "$T")"/io.pressure ] || [ -f $CG/"$(cg "$T")"/io.pressure ]; then
	tiers_expect_first "$T" I/O-throttled "io_wait|io_pressure" "waited for block I/O"
	es_check "$T's io_pressure (PSI) moved: $(jq -c --arg t "$T" '.ranking[] |
		select(.block == $t) | .resources.io_pressure' <<<"$TIERS_OUT" 2>/dev/null)" \
		test "$(jq -r --arg t "$T" '.ranking[] | select(.block == $t) |
		.resources.io_pressure | .changed and .mean > 0' <<<"$TIERS_OUT" 2>/dev/null)" = true
else
	tiers_expect_first "$T" I/O-throttled io_wait "waited for block I/O"
	es_skip "$T's io_pressure (PSI) moved" "no PSI files for the tiers' cgroups"
fi
es_done
