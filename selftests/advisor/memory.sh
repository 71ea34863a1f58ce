#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The scale advisor on a memory bottleneck: the three-tier es-tier
# pipeline (tiers.bash) where the db tier reads a 32 MiB working set (a
# file it mapped, 16 random pages a request). 2.5 s into the run, a v1
# memory limit of 8 MiB on db makes the kernel reclaim that set, and its
# touches fault pages back in from the disk: db slows down by reclaiming,
# not by a CPU quota. `edgeshift advise` must rank db first, driven by
# memory_reclaim, with a reason that names memory, and scale it out.
source "$(dirname "$0")/../lib.sh"
es_require_root

source "$(dirname "$0")/tiers.bash"

tiers_skip_without_v1
if [ ! -f $CG/memory/memory.limit_in_bytes ]; then
	es_plan 0
	echo "# SKIP no v1 memory hierarchy"
	exit 0
fi
es_plan 6
trap 'tiers_cleanup; es_cleanup' EXIT

make_cgroups
TIERS_WS=db TIERS_LIMIT=memory/memory.limit_in_bytes tiers_run db 2.5 6 8M
# The window (16 samples of 250 ms) starts after the start-up of the
# stages; the limit falls in its second half.
sleep 0.5
out=$("$ES_BUILD/edgeshift" advise --perf "$ES_TMP/perf" --interval-ms 250 --samples 16 \
	--block front="$(cg front)" --block logic="$(cg logic)" --block db="$(cg db)" --json 2>&1)
refaults=$(awk '$1 == "workingset_refault_file" { print $2 }' \
	$CG/memory/"$(cg db)"/memory.stat)
tiers_stop
wait "$TIERS_PID" 2>/dev/null

# The injection did what it is meant to: db's pages were reclaimed and needed again.
es_expect_ge "db refaulted pages under its limit" "${refaults:-0}" 1000
es_expect_eq "advise ranks the memory-limited db first" \
	"$(jq -r '.ranking[0].block // "none"' <<<"$out" 2>/dev/null)" db
es_expect_eq "db's driving resource is its reclaim" \
	"$(jq -r '.ranking[0].resource' <<<"$out" 2>/dev/null)" memory_reclaim
es_expect_eq "the advice is to scale db out" "$(jq -r '.scale_out // "none"' <<<"$out" 2>/dev/null)" db
reason=$(jq -r '.reason' <<<"$out" 2>/dev/null)
case "$reason" in
"db: memory reclaimed under its limit"*) es_ok "the reason names memory" ;;
*) es_not_ok "the reason names memory" "got '$reason'" ;;
esac
# The other tiers' series did not move with the change: they hold.
es_expect_eq "front and logic hold" \
	"$(jq -r '[.ranking[] | select(.block != "db") | .action] | join(",")' <<<"$out" 2>/dev/null)" \
	hold,hold
jq -c '{worsening, scale_out, confidence, reason, ranking: [.ranking[] | {block, resource, distance, r}]}' \
	<<<"$out" 2>/dev/null | es_diag
es_done
